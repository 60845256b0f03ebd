"""Data contracts: the columns, types and rules each input kind must satisfy.

Each contract is declared once here; ``marksell.data.loaders`` reads files, maps and coerces the
columns, and checks them against these declarations with pandera. The README renders the
same declarations as tables, so documentation and validation cannot drift apart.

Column types: ``string``, ``datetime`` (calendar day), ``float``, ``int`` (whole numbers,
float values that are whole are accepted), ``flag`` (0/1).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    required: bool = True
    nullable: bool = False
    min_value: float | None = None  # inclusive lower bound
    greater_than: float | None = None  # exclusive lower bound
    warn_negative: bool = False  # legal but suspicious (e.g. returns)
    not_in_future: bool = False


@dataclass(frozen=True)
class Contract:
    kind: str
    description: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()  # columns whose combination identifies a row
    date_column: str | None = None  # used for coverage and gap warnings
    date_freq: str | None = None  # expected spacing of dates, for gap warnings
    extra_numeric: bool = False  # other numeric columns are kept (criteria, controls)
    fix_hint: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


TRANSACTIONS = Contract(
    kind="transactions",
    description="One row per order (or order line) of a customer; returns as negative revenue.",
    columns=(
        Column("customer_id", "string", "Customer identifier"),
        Column("order_date", "datetime", "Day of the order (YYYY-MM-DD)", not_in_future=True),
        Column("revenue", "float", "Order revenue in currency; negative for returns", warn_negative=True),
        Column("order_id", "string", "Order identifier", required=False),
        Column("quantity", "int", "Units in the order (negative for returns)", required=False, nullable=True),
        Column("channel", "string", "The customer's acquisition channel", required=False, nullable=True),
        Column("region", "string", "Sales region", required=False, nullable=True),
    ),
    date_column="order_date",
)

CUSTOMERS = Contract(
    kind="customers",
    description="One row per customer with how and when they were acquired.",
    columns=(
        Column("customer_id", "string", "Customer identifier"),
        Column("acquisition_date", "datetime", "Day of the first order", not_in_future=True),
        Column("channel", "string", "Acquisition channel"),
        Column("region", "string", "Home region"),
    ),
    unique=("customer_id",),
    date_column="acquisition_date",
)

PRICE_PANEL = Contract(
    kind="price_panel",
    description="Weekly (or other regular) panel of price and units sold per product (and store).",
    columns=(
        Column("date", "datetime", "Week start (or period start)", not_in_future=True),
        Column("product_id", "string", "Product identifier"),
        Column("price", "float", "Average selling price in the period, > 0", greater_than=0),
        Column("units", "float", "Units sold in the period, >= 0 (zero weeks are legitimate)", min_value=0),
        Column("store_id", "string", "Store (or region) identifier", required=False),
        Column("category", "string", "Product category", required=False),
        Column("promo", "flag", "1 if the product was on promotion, else 0", required=False),
        Column(
            "unit_cost",
            "float",
            "Unit cost, > 0 (needed for price recommendations)",
            required=False,
            nullable=True,
            greater_than=0,
        ),
    ),
    unique=("date", "store_id", "product_id"),
    date_column="date",
    date_freq="W",
    extra_numeric=True,
)

SALES_HISTORY = Contract(
    kind="sales_history",
    description="Sales in long form: one row per date and series (key columns such as region, category).",
    columns=(
        Column("date", "datetime", "Period start (day, week or month)", not_in_future=True),
        Column("sales", "float", "Sales value of the period", warn_negative=True),
    ),
    date_column="date",
    extra_numeric=True,
    notes=("Key columns (e.g. region, category) are named by the `keys` parameter and read as text.",),
)

SALES_PLAN = Contract(
    kind="sales_plan",
    description="Planned values of the forecast's exogenous columns (price, promotion, calendar flags) for "
    "the periods ahead: one row per future date and series.",
    columns=(Column("date", "datetime", "Period start of a future period"),),
    date_column="date",
    extra_numeric=True,
    notes=(
        "Same key columns as the sales history (parameter `keys`); the exogenous columns are named by "
        "`exog_cols` and must also be in the history.",
    ),
)

OPPORTUNITIES = Contract(
    kind="opportunities",
    description="One row per market opportunity with numeric criteria (named by the criteria specification).",
    columns=(
        Column("opportunity_id", "string", "Unique identifier"),
        Column("name", "string", "Display name"),
        Column("group", "string", "Optional grouping (market, segment, product line)", required=False, nullable=True),
    ),
    unique=("opportunity_id",),
    extra_numeric=True,
    notes=("Every other column is read as a numeric criterion.",),
)

MARKETING_FUNNEL = Contract(
    kind="marketing_funnel",
    description="Monthly marketing spend, leads and conversions (new customers) by channel.",
    columns=(
        Column("month", "datetime", "First day of the month", not_in_future=True),
        Column("channel", "string", "Marketing channel (same names as in transactions)"),
        Column("spend", "float", "Marketing spend in currency, >= 0", min_value=0),
        Column("leads", "int", "Leads generated, >= 0", min_value=0),
        Column("conversions", "int", "Leads that became customers, >= 0", min_value=0),
    ),
    unique=("month", "channel"),
    date_column="month",
    date_freq="MS",
)

MARKET_SIZE = Contract(
    kind="market_size",
    description="Total market revenue by month (and region), for market share.",
    columns=(
        Column("month", "datetime", "First day of the month", not_in_future=True),
        Column("market_size", "float", "Total market revenue in currency, > 0", greater_than=0),
        Column("region", "string", "Region (omit for a single national market)", required=False),
    ),
    unique=("month", "region"),
    date_column="month",
    date_freq="MS",
)

EXPERIMENT = Contract(
    kind="experiment",
    description="One row per randomisation unit of an A/B test (customer, visitor, account): its variant, "
    "metrics and optional pre-period covariates, segments and exposure day.",
    columns=(
        Column("unit_id", "string", "Unit that was randomised (once per experiment)"),
        Column("variant", "string", "Variant the unit was assigned to; one of them is the control"),
        Column(
            "timestamp",
            "datetime",
            "Day of assignment or first exposure (for the daily view)",
            required=False,
            not_in_future=True,
        ),
        Column("experiment", "string", "Name of the experiment when one file holds several", required=False),
    ),
    date_column="timestamp",
    extra_numeric=True,
    notes=(
        "Metric and pre-period covariate columns are the other numeric columns (named by `metrics` and "
        "`covariates`); segment columns are other text columns (named by `segments`).",
    ),
)

EXPERIMENT_SUMMARY = Contract(
    kind="experiment_summary",
    description="An A/B test's aggregates when unit rows are not available: one row per variant and metric.",
    columns=(
        Column("variant", "string", "Variant; one of them is the control"),
        Column("metric", "string", "Metric name"),
        Column("n", "int", "Units in the variant, >= 2", min_value=2),
        Column("sum", "float", "Sum of the metric over the units"),
        Column("sum_sq", "float", "Sum of the squared metric over the units, >= 0", min_value=0),
    ),
    unique=("variant", "metric"),
)

MMM = Contract(
    kind="mmm",
    description="Marketing mix series: one row per period (day, week or month) with the outcome, the spend of "
    "each channel and optional controls.",
    columns=(Column("date", "datetime", "Period start (day, week or month)", not_in_future=True),),
    unique=("date",),
    date_column="date",
    extra_numeric=True,
    notes=(
        "The outcome column is named by `target` (default `sales`); spend columns by `channels` (default: every "
        "column whose name starts with `spend_`; numbers >= 0, zero where nothing was spent); controls (price, "
        "promotion, holidays) by `controls`.",
    ),
)

LIFT_TESTS = Contract(
    kind="lift_tests",
    description="Lift tests (experiments) that measured what a channel caused, to calibrate the marketing mix model.",
    columns=(
        Column("channel", "string", "Channel tested (as named in the mix model, or its spend column)"),
        Column("start", "datetime", "First day of the test", not_in_future=True),
        Column("end", "datetime", "Last day of the test", not_in_future=True),
        Column("lift", "float", "Incremental outcome measured over the test, in the outcome's unit", warn_negative=True),
        Column("lift_se", "float", "Standard error of the lift, > 0", greater_than=0),
    ),
)

CONTRACTS: dict[str, Contract] = {
    c.kind: c
    for c in (
        TRANSACTIONS,
        CUSTOMERS,
        PRICE_PANEL,
        SALES_HISTORY,
        SALES_PLAN,
        OPPORTUNITIES,
        MARKETING_FUNNEL,
        MARKET_SIZE,
        EXPERIMENT,
        EXPERIMENT_SUMMARY,
        MMM,
        LIFT_TESTS,
    )
}


#: Each input's name (its path parameter without ``_path``: ``funnel_path`` reads the ``funnel`` input) and
#: the contract its file meets. ``columns`` takes an input's name or its contract's kind as the key.
INPUT_NAMES: dict[str, str] = {
    "transactions": "transactions",
    "customers": "customers",
    "funnel": "marketing_funnel",
    "market": "market_size",
    "panel": "price_panel",
    "sales": "sales_history",
    "future": "sales_plan",
    "opportunities": "opportunities",
    "experiment": "experiment",
    "mmm": "mmm",
    "calibration": "lift_tests",
}


def contract_kind(name: str) -> str:
    """The contract kind of an input named ``name`` (an input name such as ``funnel``, or a kind itself)."""
    return INPUT_NAMES.get(str(name), str(name))


def input_name(kind: str) -> str:
    """The input name users see for a contract ``kind`` (``marketing_funnel`` -> ``funnel``)."""
    return next((n for n, k in INPUT_NAMES.items() if k == kind), kind)


def contract_table_markdown(kind: str) -> str:
    """The contract of ``kind`` as a Markdown table (used for the README)."""
    c = CONTRACTS[kind]
    lines = ["| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
    for col in c.columns:
        rules = []
        if col.greater_than is not None:
            rules.append(f"> {col.greater_than:g}")
        if col.min_value is not None:
            rules.append(f">= {col.min_value:g}")
        if col.not_in_future:
            rules.append("not in the future")
        if not col.nullable:
            rules.append("no missing values")
        if col.warn_negative:
            rules.append("negative allowed (warns)")
        lines.append(
            f"| `{col.name}` | {col.dtype} | {'yes' if col.required else 'no'} | {', '.join(rules)} | {col.description} |"
        )
    return "\n".join(lines)


def contracts_markdown() -> str:
    """Every contract as Markdown, the block kept in README.md (a test checks it is current)."""
    parts = []
    for kind, c in CONTRACTS.items():
        parts.append(f"#### `{kind}`: {c.description}\n")
        parts.append(contract_table_markdown(kind))
        extra = []
        if c.unique:
            extra.append(f"One row per ({', '.join(c.unique)}).")
        if c.extra_numeric:
            extra.append("Other columns are kept (numeric ones as numbers).")
        extra += list(c.notes)
        if extra:
            parts.append("\n" + " ".join(extra))
        parts.append("")
    return "\n".join(parts).strip() + "\n"
