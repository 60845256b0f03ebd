"""The report engine: run notebooks with checked parameters, write artifacts, render HTML, keep the index.

``cli`` is the ``marksell`` command; ``parameters`` reads and checks a notebook's parameters cell;
``runner`` runs one notebook into its run folder; ``batch`` runs many (processes or Dask); ``artifacts``
writes a run's CSV/JSON files; ``render`` builds the HTML report; ``index`` keeps ``reports/index.html``;
``refresh`` re-executes the committed notebooks; ``display`` escapes text built from data.
"""

from marksell.reporting.deferred import defer_rfc3987_syntax

defer_rfc3987_syntax()  # before any module here imports nbformat or jsonschema: 1.3 s of start-up saved
