"""KPI scorecard: monthly KPIs by channel and region against targets, with drivers and cohorts.

``measures`` computes the monthly sums and measures; ``scorecard`` turns them into KPIs, statuses and
sentences; ``summary`` loads the inputs and builds the notebook's tables and text; ``plots`` draws the figures.
"""

from marksell.errors import KpiWarning
from marksell.kpi.measures import (
    ACQ,
    COMPONENTS,
    FLOW,
    FULL_MONTH_TOLERANCE_DAYS,
    FUNNEL,
    MARKET,
    STOCK,
    KpiInputs,
    Period,
    cohort_curves,
    cohort_retention,
    last_full_month,
    measure_notes,
    measures_from_sums,
    panel,
    parse_period,
    payback_months,
    period_label,
    period_sums,
    prepare_inputs,
    retention_matrix,
    shifted,
    trailing_sums,
)
from marksell.kpi.scorecard import (
    DEFAULT_TARGETS,
    KPI_COLUMNS,
    METRICS,
    SCORECARD_METRICS,
    STATUSES,
    KpiReport,
    dimension_table,
    driver_sentence,
    fmt_change,
    fmt_value,
    growth_contributions,
    kpi_report,
    kpis_csv,
    monthly_kpis,
    period_kpis,
    predictive_clv,
    resolve_targets,
    scorecard_table,
    statuses,
    substitution_effects,
)
from marksell.kpi.summary import (
    dimension_display,
    format_notes,
    headline_markdown,
    load_kpi_inputs,
    retention_summary,
    scorecard_display,
)

__all__ = [
    "ACQ", "COMPONENTS", "DEFAULT_TARGETS", "FLOW", "FULL_MONTH_TOLERANCE_DAYS", "FUNNEL", "KPI_COLUMNS", "KpiWarning",
    "KpiInputs", "KpiReport", "MARKET", "METRICS", "Period", "SCORECARD_METRICS", "STATUSES", "STOCK",
    "cohort_curves", "cohort_retention", "dimension_display", "dimension_table", "driver_sentence", "fmt_change",
    "fmt_value", "format_notes", "growth_contributions", "headline_markdown", "kpi_report", "kpis_csv",
    "last_full_month", "load_kpi_inputs", "measure_notes", "measures_from_sums", "monthly_kpis", "panel",
    "parse_period", "payback_months", "period_kpis", "period_label", "period_sums", "predictive_clv",
    "prepare_inputs", "resolve_targets", "retention_matrix", "retention_summary", "scorecard_display",
    "scorecard_table", "shifted", "statuses", "substitution_effects", "trailing_sums",
]
