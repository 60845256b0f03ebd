"""Which executive summary each notebook's report opens with: one ``brief(summary)`` per analysis.

The runner reads the run's ``summary.json`` and asks the analysis for its brief; the report shows it under the
title. A notebook without a brief, or a run without a summary, opens with the notebook's own introduction.
"""

from __future__ import annotations

import json
from pathlib import Path

from marksell.audit.brief import brief as audit_brief
from marksell.experiments.brief import brief as experiments_brief
from marksell.forecasting.brief import brief as forecasting_brief
from marksell.kpi.brief import brief as kpi_brief
from marksell.mmm.brief import brief as mmm_brief
from marksell.pricing.brief import brief as pricing_brief
from marksell.prioritisation.brief import brief as prioritisation_brief
from marksell.reporting.brief import Brief
from marksell.segmentation.brief import brief as segmentation_brief

BRIEFS = {
    "data_audit": audit_brief,
    "customer_segmentation": segmentation_brief,
    "opportunity_prioritisation": prioritisation_brief,
    "pricing_elasticity": pricing_brief,
    "sales_forecasting": forecasting_brief,
    "kpi_scorecard": kpi_brief,
    "campaign_experiments": experiments_brief,
    "marketing_mix": mmm_brief,
}


def brief_for(notebook: str, folder: str | Path) -> Brief | None:
    """The brief of the run in ``folder`` (None when the notebook has none or wrote no summary.json)."""
    write = BRIEFS.get(notebook)
    path = Path(folder) / "summary.json"
    if write is None or not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    return write(summary) if isinstance(summary, dict) else None
