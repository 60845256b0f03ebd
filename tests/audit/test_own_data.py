"""The audit audits what it is given."""

from marksell import audit


def test_the_inputs_audited():
    """Every input when no path is given (the sample company, with its customer list); only the named
    inputs once any path is set."""
    everything = audit.inputs_to_audit({"transactions": "", "marketing_funnel": "", "sales_history": ""})
    assert list(everything) == ["transactions", "customers", "marketing_funnel", "sales_history"]
    mine = audit.inputs_to_audit({"transactions": "", "marketing_funnel": "f.csv", "sales_history": "s.csv"})
    assert mine == {"marketing_funnel": "f.csv", "sales_history": "s.csv"}
