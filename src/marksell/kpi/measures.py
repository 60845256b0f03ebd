"""Building blocks of the KPI scorecard: periods, monthly panels of additive components, measures.

Every measure is a ratio of *additive components* (revenue, gross profit, new customers, spend,
leads, ...) summed over the months of a period and the members of a segment, so the same code gives
monthly trends, quarters and years, overall and by channel or region, and the change decomposition
of the scorecard. The definitions are in :mod:`marksell.kpi.scorecard`.

A monthly *panel* has one row per (month, segment) of a dimension: ``overall`` (segment ``"all"``),
``channel`` or ``region``. NaN marks a component the inputs do not have for a segment (spend by
region, market size by channel), never a zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from marksell.errors import AnalysisError, KpiWarning

FLOW = ["revenue", "gross_profit", "new_customers", "attr_revenue", "attr_profit", "ret3_active", "ret3_base"]
FUNNEL = ["spend", "leads_ok_leads", "leads_ok_conv", "no_leads_rows"]
ACQ = ["acq_new", "acq_revenue", "acq_profit"]
MARKET = ["market_size", "share_revenue"]
STOCK = ["cum_profit", "cum_customers"]
COMPONENTS = FLOW + FUNNEL + ACQ + MARKET + STOCK


# ----------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A reporting period: a month ("2025-12"), a quarter ("2025-Q4") or a year ("2025")."""

    label: str
    start: pd.Timestamp  # first day of the first month
    n_months: int

    @property
    def months(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_months, freq="MS")

    @property
    def end(self) -> pd.Timestamp:
        """First day of the last month."""
        return self.months[-1]

    def shift(self, n_months: int) -> Period:
        start = self.start + pd.DateOffset(months=n_months)
        return Period(period_label(start, self.n_months), start, self.n_months)

    def previous(self) -> Period:
        return self.shift(-self.n_months)

    def year_earlier(self) -> Period:
        return self.shift(-12)


def period_label(start: pd.Timestamp, n_months: int) -> str:
    if n_months == 1:
        return start.strftime("%Y-%m")
    if n_months == 3 and start.month in (1, 4, 7, 10):
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if n_months == 12 and start.month == 1:
        return f"{start.year}"
    return f"{start:%Y-%m}+{n_months}m"


def parse_period(text: str) -> Period:
    """``"2025-12"`` (month), ``"2025-Q4"`` (quarter) or ``"2025"`` (year) as a :class:`Period`."""
    s = str(text).strip().upper()
    if len(s) == 4 and s.isdigit():
        return Period(s, pd.Timestamp(int(s), 1, 1), 12)
    if len(s) == 7 and s[4:6] == "-Q" and s[:4].isdigit() and s[6] in "1234":
        return Period(s, pd.Timestamp(int(s[:4]), 3 * int(s[6]) - 2, 1), 3)
    if len(s) == 7 and s[4] == "-" and s[:4].isdigit() and s[5:].isdigit() and 1 <= int(s[5:]) <= 12:
        return Period(s, pd.Timestamp(int(s[:4]), int(s[5:]), 1), 1)
    raise AnalysisError(f"period {text!r} is not understood; write a month '2025-12', a quarter '2025-Q4' or a year '2025'")


#: The month of the last order counts as complete when that order is this close to the month end.
FULL_MONTH_TOLERANCE_DAYS = 3


def last_full_month(order_dates: pd.Series) -> pd.Timestamp:
    """First day of the last month the data cover completely.

    The month of the last order is complete when the last order falls in its last
    ``FULL_MONTH_TOLERANCE_DAYS`` days (a day or two without orders is normal); otherwise the month
    before it is the last full month.
    """
    last = pd.Timestamp(order_dates.max()).normalize()
    month = last.to_period("M").to_timestamp()
    month_end = month + pd.offsets.MonthEnd(0)
    if (month_end - last).days < FULL_MONTH_TOLERANCE_DAYS:
        return month
    return month - pd.DateOffset(months=1)


# ----------------------------------------------------------------------------- inputs


@dataclass
class KpiInputs:
    """The inputs checked and reduced to monthly components (see :func:`prepare_inputs`)."""

    tx: pd.DataFrame  # customer_id, order_date, month, revenue, gross_profit, channel, region, acq_month, offset
    customers: pd.DataFrame  # customer_id, acq_month, channel, region
    components: pd.DataFrame  # month, channel, region + FLOW
    funnel: pd.DataFrame | None  # month, channel, spend, leads, conversions, leads_ok
    market: pd.DataFrame | None  # month, region, market_size
    first_month: pd.Timestamp
    last_month: pd.Timestamp  # last full month
    gross_margin: float
    attribution_months: int
    dimensions: list[str]
    matched_channels: list[str]  # channels in both transactions and funnel (blended CAC uses these)
    matched_regions: list[str]  # regions in both transactions and market size
    channel_known: bool
    notes: list[str] = field(default_factory=list)
    panels: dict = field(default_factory=dict, repr=False)

    @property
    def months(self) -> pd.DatetimeIndex:
        return pd.date_range(self.first_month, self.last_month, freq="MS")


def _month(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.to_period("M").dt.to_timestamp()


def _midx(ts) -> np.ndarray:
    ts = pd.DatetimeIndex(ts)
    return np.asarray(ts.year * 12 + ts.month - 1)


def _warn(notes: list[str], message: str, stacklevel: int = 3) -> None:
    """Keep ``message`` in ``notes`` and warn; ``stacklevel`` 3 points at the caller of the function that warns."""
    notes.append(message)
    warnings.warn(message, KpiWarning, stacklevel=stacklevel)


def _require(df: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = sorted(set(cols) - set(df.columns))
    if missing:
        raise AnalysisError(
            f"{what} is missing required column(s) {missing}; map your column names with "
            "`columns={'your name': 'contract name'}` when loading"
        )


def prepare_inputs(
    transactions: pd.DataFrame,
    funnel: pd.DataFrame | None,
    market: pd.DataFrame | None = None,
    *,
    gross_margin: float = 0.4,
    cost_col: str | None = None,
    attribution_months: int = 12,
    dimensions=("channel", "region"),
) -> KpiInputs:
    """Check the inputs and derive the monthly components every measure is built from.

    Channels (regions) found in one file but not the other and spend without leads are reported as
    :class:`KpiWarning` and kept in ``notes``; the affected cells become "not available".
    """
    _check_options(transactions, gross_margin, attribution_months)
    notes: list[str] = []
    dims = _breakdown_dimensions(transactions, dimensions, notes)
    tx = _orders(transactions, gross_margin, cost_col)
    tx, customers = _acquisitions(tx)
    comp = _monthly_components(tx, customers, attribution_months)
    first_month, last_month = tx["month"].min(), max(last_full_month(tx["order_date"]), tx["month"].min())
    comp = comp[comp["month"] <= last_month]
    channel_known = "channel" in transactions.columns
    fun, matched_channels = None, sorted(customers["channel"].unique()) if channel_known else []
    if funnel is not None:
        fun = _prepare_funnel(funnel, notes)
        if channel_known:
            matched_channels = _match_channels(customers, fun, notes)
    mk, matched_regions = None, []
    if market is not None:
        mk, matched_regions = _prepare_market(market, customers, "region" in transactions.columns, notes)
    return KpiInputs(
        tx,
        customers,
        comp,
        fun,
        mk,
        first_month,
        last_month,
        gross_margin,
        int(attribution_months),
        dims,
        matched_channels,
        matched_regions,
        channel_known,
        notes,
    )


def _check_options(transactions: pd.DataFrame, gross_margin: float, attribution_months: int) -> None:
    """The transactions' required columns, a margin share in (0, 1], a window of at least one month, some orders."""
    _require(transactions, ["customer_id", "order_date", "revenue"], "transactions")
    if not 0 < gross_margin <= 1:
        raise AnalysisError(f"gross_margin must be a share between 0 and 1, got {gross_margin}")
    if int(attribution_months) < 1:
        raise AnalysisError(f"attribution_months must be at least 1, got {attribution_months}")
    if len(transactions) == 0:
        raise AnalysisError("transactions are empty: there is nothing to measure")


def _breakdown_dimensions(transactions: pd.DataFrame, dimensions, notes: list[str]) -> list[str]:
    """The breakdowns (channel, region) the transactions can give; a missing column is a note, not an error."""
    dims = []
    for d in dimensions:
        if d not in ("channel", "region"):
            raise AnalysisError(f"dimension {d!r} is not supported; use 'channel' and/or 'region'")
        if d in transactions.columns:
            dims.append(d)
        else:
            _warn(notes, f"the transactions have no '{d}' column: no breakdown by {d}", stacklevel=4)
    return dims


def _orders(transactions: pd.DataFrame, gross_margin: float, cost_col: str | None) -> pd.DataFrame:
    """One row per order, sorted by date: customer, date, month, revenue, gross profit, channel and region
    (``"unknown"`` where empty, ``"all"`` without the column). Gross profit is revenue less ``cost_col``, else
    revenue times ``gross_margin``."""
    tx = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].astype(str).to_numpy(),
            "order_date": pd.to_datetime(transactions["order_date"]).to_numpy(),
            "revenue": transactions["revenue"].astype(float).to_numpy(),
        }
    )
    if cost_col:
        _require(transactions, [cost_col], "transactions")
        tx["gross_profit"] = tx["revenue"] - transactions[cost_col].astype(float).to_numpy()
    else:
        tx["gross_profit"] = tx["revenue"] * gross_margin
    for d in ("channel", "region"):
        tx[d] = transactions[d].astype("string").fillna("unknown").astype(str).to_numpy() if d in transactions.columns else "all"
    tx["month"] = _month(tx["order_date"])
    return tx.sort_values("order_date", kind="stable")


def _acquisitions(tx: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each customer's acquisition (the first order: month, channel, region), and the orders labelled with
    their customer's acquisition and ``offset`` (months since it)."""
    first = tx.drop_duplicates("customer_id")
    customers = pd.DataFrame(
        {
            "customer_id": first["customer_id"].to_numpy(),
            "acq_month": first["month"].to_numpy(),
            "channel": first["channel"].to_numpy(),
            "region": first["region"].to_numpy(),
        }
    )
    tx = tx.drop(columns=["channel", "region"]).merge(customers, on="customer_id", how="left")
    tx["offset"] = _midx(tx["month"]) - _midx(tx["acq_month"])
    return tx, customers


def _monthly_components(tx: pd.DataFrame, customers: pd.DataFrame, attribution_months) -> pd.DataFrame:
    """The :data:`FLOW` components per month, acquisition channel and region (zero where nothing happened):
    revenue and profit, new customers, revenue and profit within the attribution window of acquisition, and
    the customers active in their fourth month (``ret3_active``) out of those acquired three months before."""
    keys = ["month", "channel", "region"]
    flows = tx.groupby(keys)[["revenue", "gross_profit"]].sum()
    new = customers.rename(columns={"acq_month": "month"}).groupby(keys).size().rename("new_customers")
    attr = tx[tx["offset"] < attribution_months].groupby(keys)[["revenue", "gross_profit"]].sum()
    attr.columns = ["attr_revenue", "attr_profit"]
    active3 = tx[(tx["offset"] == 3) & (tx["revenue"] > 0)].drop_duplicates("customer_id")
    ret3_active = active3.groupby(keys).size().rename("ret3_active")
    base = customers.assign(month=customers["acq_month"] + pd.DateOffset(months=3))
    ret3_base = base.groupby(keys).size().rename("ret3_base")
    return pd.concat([flows, new, attr, ret3_active, ret3_base], axis=1).fillna(0.0).reset_index()


def _match_channels(customers: pd.DataFrame, fun: pd.DataFrame, notes: list[str]) -> list[str]:
    """The channels in both the transactions and the funnel; channels in only one of them are notes."""
    tx_channels, f_channels = sorted(customers["channel"].unique()), sorted(fun["channel"].unique())
    only_tx, only_f = sorted(set(tx_channels) - set(f_channels)), sorted(set(f_channels) - set(tx_channels))
    if only_tx:
        _warn(
            notes,
            f"channel(s) {only_tx} appear in the transactions but not in the marketing funnel: "
            "their CAC, ROAS, ROI and conversion are not available and they are left out of "
            "blended CAC; add them to the funnel or use the same channel names in both files",
            stacklevel=4,
        )
    if only_f:
        _warn(
            notes,
            f"channel(s) {only_f} appear in the marketing funnel but not in the transactions: "
            "they have spend but no customers to measure, so their CAC is not available and "
            "they are left out of blended CAC; use the same channel names in both files",
            stacklevel=4,
        )
    return sorted(set(tx_channels) & set(f_channels))


def _prepare_funnel(funnel: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    _require(funnel, ["month", "channel", "spend"], "the marketing funnel")
    fun = pd.DataFrame(
        {
            "month": _month(funnel["month"]).to_numpy(),
            "channel": funnel["channel"].astype(str).to_numpy(),
            "spend": funnel["spend"].astype(float).to_numpy(),
        }
    )
    for c in ("leads", "conversions"):
        fun[c] = funnel[c].astype(float).to_numpy() if c in funnel.columns else np.nan
    fun = fun.groupby(["month", "channel"], as_index=False)[["spend", "leads", "conversions"]].sum(min_count=1)
    bad = fun[fun["conversions"] > fun["leads"]]
    if len(bad):
        r = bad.iloc[0]
        raise AnalysisError(
            f"marketing funnel: {len(bad)} row(s) have more conversions than leads (e.g. {r['channel']} "
            f"{r['month']:%Y-%m}: {int(r['conversions'])} conversions from {int(r['leads'])} leads); conversions "
            "are leads that became customers - check which column is which"
        )
    fun["leads_ok"] = fun["leads"].fillna(0) > 0
    no_leads = ~fun["leads_ok"] & ((fun["spend"] > 0) | (fun["conversions"].fillna(0) > 0))
    if no_leads.any():
        ex = fun[no_leads].head(3)
        eg = ", ".join(f"{c} {m:%Y-%m}" for c, m in zip(ex["channel"], ex["month"]))
        _warn(
            notes,
            f"marketing funnel: {int(no_leads.sum())} channel-month(s) have spend or conversions but no "
            f"leads (e.g. {eg}): their conversion rate is not available and they are left out of the "
            "conversion rate; record the leads to include them",
        )
    return fun


def _prepare_market(market: pd.DataFrame, customers: pd.DataFrame, tx_has_region: bool, notes: list[str]):
    _require(market, ["month", "market_size"], "the market size file")
    mk = pd.DataFrame(
        {"month": _month(market["month"]).to_numpy(), "market_size": market["market_size"].astype(float).to_numpy()}
    )
    by_region = "region" in market.columns and tx_has_region
    mk["region"] = market["region"].astype(str).to_numpy() if by_region else "all"
    mk = mk.groupby(["month", "region"], as_index=False)["market_size"].sum()
    if not by_region:
        return mk, ["all"]
    tx_regions, m_regions = set(customers["region"]), set(mk["region"])
    only_tx, only_m = sorted(tx_regions - m_regions), sorted(m_regions - tx_regions)
    if only_tx or only_m:
        _warn(
            notes,
            f"regions differ between the transactions and the market size (only in transactions: "
            f"{only_tx}; only in market size: {only_m}): market share is not available for them and "
            "they are left out of the overall share; use the same region names in both files",
        )
    return mk, sorted(tx_regions & m_regions)


# ----------------------------------------------------------------------------- monthly panels


def panel(inp: KpiInputs, dim: str) -> pd.DataFrame:
    """Monthly components by segment of ``dim`` (index: month, dimension_value). Cached on ``inp``."""
    if dim not in inp.panels:
        inp.panels[dim] = _build_panel(inp, dim)
    return inp.panels[dim]


def _build_panel(inp: KpiInputs, dim: str) -> pd.DataFrame:
    months = inp.months
    comp = inp.components.assign(seg="all" if dim == "overall" else inp.components[dim])
    segs = ["all"] if dim == "overall" else sorted(inp.customers[dim].unique())
    if dim == "channel" and inp.funnel is not None:
        segs = sorted(set(segs) | set(inp.funnel["channel"]))
    grid = pd.MultiIndex.from_product([months, segs], names=["month", "dimension_value"])
    out = comp.groupby(["month", "seg"])[FLOW].sum().rename_axis(["month", "dimension_value"])
    out = out.reindex(grid, fill_value=0.0).astype(float)
    g = out.groupby(level="dimension_value", sort=False)
    out["cum_profit"], out["cum_customers"] = g["gross_profit"].cumsum(), g["new_customers"].cumsum()
    for c in FUNNEL + ACQ + MARKET:
        out[c] = np.nan
    if inp.funnel is not None and dim != "region":
        f = inp.funnel.copy()
        f["leads_ok_leads"] = f["leads"].where(f["leads_ok"], 0.0)
        f["leads_ok_conv"] = f["conversions"].where(f["leads_ok"], 0.0)
        f["no_leads_rows"] = (~f["leads_ok"] & ((f["spend"] > 0) | (f["conversions"].fillna(0) > 0))).astype(float)
        acq = comp
        if dim == "overall" and inp.channel_known:
            f = f[f["channel"].isin(inp.matched_channels)]
            acq = comp[comp["channel"].isin(inp.matched_channels)]
        f = f.assign(seg="all" if dim == "overall" else f["channel"])
        fs = f.groupby(["month", "seg"])[FUNNEL].sum().rename_axis(["month", "dimension_value"])
        have = ["all"] if dim == "overall" else sorted(inp.funnel["channel"].unique())
        fgrid = pd.MultiIndex.from_product([months, have], names=["month", "dimension_value"])
        out.loc[fgrid, FUNNEL] = fs.reindex(fgrid, fill_value=0.0).to_numpy()  # no row = nothing spent
        acq_segs = ["all"] if dim == "overall" else [s for s in have if s in set(inp.matched_channels)]
        agrid = pd.MultiIndex.from_product([months, acq_segs], names=["month", "dimension_value"])
        a = acq.groupby(["month", "seg"])[["new_customers", "attr_revenue", "attr_profit"]].sum()
        out.loc[agrid, ACQ] = a.rename_axis(["month", "dimension_value"]).reindex(agrid, fill_value=0.0).to_numpy()
        # months the funnel file does not cover at all are unknown, not months without spend
        month_of_row = out.index.get_level_values("month")
        uncovered = (month_of_row < inp.funnel["month"].min()) | (month_of_row > inp.funnel["month"].max())
        out.loc[uncovered, FUNNEL + ACQ] = np.nan
    if inp.market is not None and dim != "channel":
        m = inp.market[inp.market["region"].isin(inp.matched_regions)]
        ms = m.pivot_table(index="month", columns="region", values="market_size", aggfunc="sum")
        ms = ms.reindex(index=months, columns=inp.matched_regions)  # a missing month stays NaN
        rev = inp.components[inp.components["month"].isin(months)]
        if inp.matched_regions != ["all"]:
            rev = rev[rev["region"].isin(inp.matched_regions)]
            rv = rev.pivot_table(index="month", columns="region", values="revenue", aggfunc="sum")
        else:
            rv = rev.groupby("month")["revenue"].sum().to_frame("all")
        rv = rv.reindex(index=months, columns=inp.matched_regions).fillna(0.0)
        if dim == "overall":
            out.loc[(months, "all"), "market_size"] = ms.sum(axis=1, skipna=False).to_numpy()
            out.loc[(months, "all"), "share_revenue"] = rv.sum(axis=1).to_numpy()
        else:
            regs = [r for r in inp.matched_regions if r in segs]
            st_ms, st_rv = ms[regs].stack(future_stack=True), rv[regs].stack(future_stack=True)
            idx = pd.MultiIndex.from_arrays([st_ms.index.get_level_values(0), st_ms.index.get_level_values(1)])
            out.loc[idx, "market_size"] = st_ms.to_numpy()
            out.loc[idx, "share_revenue"] = st_rv.reindex(st_ms.index).to_numpy()
    return out


def period_sums(inp: KpiInputs, period: Period, dim: str) -> pd.DataFrame:
    """Components of ``period`` by segment: flows summed over its months, stocks at its last month.

    A component missing (NaN) in any month of the period is missing for the period.
    """
    key = ("sums", period.start, period.n_months, dim)
    if key not in inp.panels:
        p = panel(inp, dim)
        if period.start < inp.first_month or period.end > inp.last_month:
            raise AnalysisError(f"period {period.label} is outside the data ({inp.first_month:%Y-%m} to {inp.last_month:%Y-%m})")
        sub = p.loc[period.months]
        # min_count = all months: a component missing in any month is missing for the period
        sums = sub.drop(columns=STOCK).groupby(level="dimension_value", sort=False).sum(min_count=period.n_months)
        stock = p.loc[period.end, STOCK]
        inp.panels[key] = pd.concat([sums, stock.reindex(sums.index)], axis=1)
    return inp.panels[key].copy()


def shifted(df: pd.DataFrame, n_months: int) -> pd.DataFrame:
    """A monthly panel aligned so that row (m, s) holds the values of (m - n_months, s)."""
    idx = df.index
    src = pd.MultiIndex.from_arrays([idx.get_level_values(0) - pd.DateOffset(months=n_months), idx.get_level_values(1)])
    return df.reindex(src).set_axis(idx)


def trailing_sums(df: pd.DataFrame, n_months: int = 12) -> pd.DataFrame:
    """Flows summed over the ``n_months`` months *before* each month (NaN until that much history)."""
    cols = [c for c in df.columns if c not in STOCK]
    cum = df[cols].groupby(level="dimension_value", sort=False).cumsum(skipna=False)
    out = shifted(cum, 1) - shifted(cum, n_months + 1).fillna(0.0)
    first = df.index.get_level_values("month").min()
    enough = df.index.get_level_values("month") - pd.DateOffset(months=n_months) >= first
    out.loc[~np.asarray(enough), :] = np.nan
    return out


# ----------------------------------------------------------------------------- measures


def safe_div(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a / b
    return np.where(np.isfinite(r) & (b != 0), r, np.nan)


def measures_from_sums(s: pd.DataFrame, prev: pd.DataFrame | None = None, yoy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every measure from summed components (one row per period-segment); undefined ratios are NaN.

    ``prev`` and ``yoy`` hold the components of the previous and year-earlier periods, row-aligned.
    ``payback_months`` is NaN here (it needs the cohort curves: :func:`payback_months`).
    """
    col = {c: s[c].to_numpy(dtype=float) for c in s.columns}
    out = {c: col[c] for c in ("revenue", "gross_profit", "new_customers", "spend")}
    out["cac"] = safe_div(col["spend"], col["acq_new"])
    out["clv"] = safe_div(col["cum_profit"], col["cum_customers"])
    out["clv_cac"] = safe_div(out["clv"], out["cac"])
    out["payback_months"] = np.full(len(s), np.nan)
    out["roas"] = safe_div(col["acq_revenue"], col["spend"])
    out["marketing_roi"] = safe_div(col["acq_profit"] - col["spend"], col["spend"])
    conv, leads = col["leads_ok_conv"], col["leads_ok_leads"]
    out["conversion_rate"] = safe_div(conv, leads)
    low, high = np.full(len(s), np.nan), np.full(len(s), np.nan)
    ok = np.nan_to_num(leads) > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(conv[ok], leads[ok], alpha=0.05, method="wilson")
    out["conversion_rate_low"], out["conversion_rate_high"] = low, high
    for name, ref in (("revenue_growth_pop", prev), ("revenue_growth_yoy", yoy)):
        base = np.full(len(s), np.nan) if ref is None else ref["revenue"].to_numpy(dtype=float)
        out[name] = safe_div(col["revenue"] - base, np.where(base > 0, base, np.nan))
    share = safe_div(col["share_revenue"], col["market_size"])
    out["market_share"] = np.where(share > 1, np.nan, share)  # above 100 %: the inputs disagree (see notes)
    out["retention_3m"] = safe_div(col["ret3_active"], col["ret3_base"])
    return pd.DataFrame(out, index=s.index)


def measure_notes(s: pd.DataFrame, m: pd.DataFrame, dim: str, inp: KpiInputs, prev_ok, yoy_ok) -> pd.DataFrame:
    """A reason for each measure that is not available (empty where there is a value)."""
    n = len(s)
    seg = s.index.get_level_values("dimension_value") if isinstance(s.index, pd.MultiIndex) else s.index
    notes = pd.DataFrame("", index=s.index, columns=m.columns, dtype=object)

    def put(col, mask, text):
        mask = np.asarray(mask, dtype=bool) & (notes[col].to_numpy() == "")
        if mask.any():
            vals = notes[col].to_numpy(dtype=object).copy()
            vals[mask] = text if isinstance(text, str) else np.asarray(text, dtype=object)[mask]
            notes[col] = vals

    funnel_cols = [
        "spend",
        "cac",
        "clv_cac",
        "payback_months",
        "roas",
        "marketing_roi",
        "conversion_rate",
        "conversion_rate_low",
        "conversion_rate_high",
    ]
    everywhere = np.ones(n, dtype=bool)
    if inp.funnel is None:
        for c in funnel_cols:
            put(c, everywhere, "no marketing funnel file given")
    elif dim == "region":
        for c in funnel_cols:
            put(c, everywhere, "spend and leads are recorded by channel only")
    else:
        f_ch = set(inp.funnel["channel"])
        not_in_f = np.array([x not in f_ch and x != "all" for x in seg])
        for c in funnel_cols:
            put(c, s["spend"].isna().to_numpy() & ~not_in_f, "the marketing funnel does not cover this period")
        no_cust = np.array([x not in set(inp.matched_channels) and x != "all" for x in seg]) & ~not_in_f
        for c in funnel_cols:
            put(c, not_in_f, "channel not in the marketing funnel")
            put(c, no_cust, "channel has no customers in the transactions")
        spend_txt = np.array([f"no new customers: CAC undefined (spend {v:,.0f})" for v in s["spend"].fillna(0)], dtype=object)
        no_new = m["cac"].isna().to_numpy() & (s["acq_new"].fillna(-1).to_numpy() == 0)
        put("cac", no_new, spend_txt)
        put("clv_cac", m["cac"].isna(), "CAC undefined (no new customers)")
        put("payback_months", m["cac"].isna(), "CAC undefined (no new customers)")
        for c in ("roas", "marketing_roi"):
            put(c, m[c].isna(), "no spend in the period")
        no_leads = s["no_leads_rows"].fillna(0).to_numpy() > 0
        for c in ("conversion_rate", "conversion_rate_low", "conversion_rate_high"):
            put(c, m[c].isna() & no_leads, "spend or conversions recorded without leads")
            put(c, m[c].isna(), "no leads in the period")
        put("conversion_rate", no_leads, "channel-months with spend but no leads left out")
    put("clv", m["clv"].isna(), "no customers acquired yet")
    if inp.market is None:
        put("market_share", everywhere, "no market size file given")
    elif dim == "channel":
        put("market_share", everywhere, "market size is given by region, not by channel")
    over = (
        (s["share_revenue"].to_numpy(dtype=float) > s["market_size"].to_numpy(dtype=float))
        if {"share_revenue", "market_size"} <= set(s.columns)
        else np.zeros(n, dtype=bool)
    )
    put(
        "market_share",
        over,
        "the company's revenue exceeds the market size for this region and period (a share "
        "above 100 %): check that the market size file is in the same currency, unit and scope",
    )
    put("market_share", m["market_share"].isna(), "no market size for this region and period")
    put("retention_3m", m["retention_3m"].isna(), "no customers acquired three months earlier")
    for c, ok in (("revenue_growth_pop", prev_ok), ("revenue_growth_yoy", yoy_ok)):
        put(c, m[c].isna() & ~np.asarray(ok, dtype=bool), "comparison period outside the data")
        put(c, m[c].isna(), "no revenue in the comparison period")
    return notes


# ----------------------------------------------------------------------------- payback


def cohort_curves(inp: KpiInputs, dim: str) -> dict:
    """Per segment: (cumulative-over-cohorts profit matrix CA[a, k], cumulative cohort sizes CN[a]).

    ``CA[a, k]`` = gross profit in months 0..k after acquisition of all customers acquired in month
    indices 0..a; ``CN[a]`` = number of those customers. The pooled average cumulative profit per
    customer at offset k, seen at month index e, is ``CA[e-k, k] / CN[e-k]``.
    """
    key = ("curves", dim)
    if key in inp.panels:
        return inp.panels[key]
    n = len(inp.months)
    first = int(_midx([inp.first_month])[0])
    tx, cust = inp.tx, inp.customers
    if dim == "overall":
        if inp.channel_known and inp.funnel is not None:
            tx, cust = tx[tx["channel"].isin(inp.matched_channels)], cust[cust["channel"].isin(inp.matched_channels)]
        tx, cust = tx.assign(seg="all"), cust.assign(seg="all")
    else:
        tx, cust = tx.assign(seg=tx[dim]), cust.assign(seg=cust[dim])
    tx = tx[(tx["month"] <= inp.last_month)]
    out = {}
    a_all = _midx(tx["acq_month"]) - first
    for seg in sorted(cust["seg"].unique()):
        mask = (tx["seg"] == seg).to_numpy()
        mat = np.zeros((n, n))
        np.add.at(mat, (a_all[mask], tx["offset"].to_numpy()[mask]), tx["gross_profit"].to_numpy()[mask])
        sizes = np.bincount(_midx(cust.loc[cust["seg"] == seg, "acq_month"]) - first, minlength=n)[:n]
        out[seg] = (np.cumsum(np.cumsum(mat, axis=1), axis=0), np.cumsum(sizes).astype(float))
    inp.panels[key] = out
    return out


def payback_months(inp: KpiInputs, dim: str, seg: str, end: pd.Timestamp, cac: float) -> tuple[float, str]:
    """Months (acquisition month = 1) until the pooled cumulative profit per customer covers ``cac``.

    Offset k uses the cohorts observed for at least k months by ``end``. Returns (months, reason):
    NaN with a reason when CAC is undefined or the threshold is not reached in the months observed.
    """
    if not np.isfinite(cac):
        return np.nan, "CAC undefined"
    curves = cohort_curves(inp, dim).get(seg)
    if curves is None:
        return np.nan, "no customers acquired"
    ca, cn = curves
    e = (end.year - inp.first_month.year) * 12 + end.month - inp.first_month.month
    ks = np.arange(e + 1)
    rows = e - ks
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = ca[rows, ks] / cn[rows]
    hit = np.flatnonzero(np.nan_to_num(avg, nan=-np.inf) >= cac)
    if len(hit):
        return float(hit[0] + 1), ""
    observed = int(np.sum(cn[rows] > 0))
    return np.nan, f"not paid back within the {observed} months observed"


# ----------------------------------------------------------------------------- cohorts


def cohort_retention(inp: KpiInputs, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Long cohort table: ``cohort`` (acquisition month), ``months_since_acquisition``, ``customers``,
    ``active_customers`` (ordered with positive revenue in that month) and ``retention``.

    Only months observed by ``end`` (default: the last full month) are listed.
    """
    end = end or inp.last_month
    tx = inp.tx[(inp.tx["revenue"] > 0) & (inp.tx["month"] <= end)]
    size = inp.customers[inp.customers["acq_month"] <= end].groupby("acq_month").size()
    act = tx.drop_duplicates(["customer_id", "offset"]).groupby(["acq_month", "offset"]).size()
    end_i = int(_midx([end])[0])
    cohort = np.repeat(size.index.to_numpy(), [end_i - int(_midx([a])[0]) + 1 for a in size.index])
    k = np.concatenate([np.arange(end_i - int(_midx([a])[0]) + 1) for a in size.index])
    out = pd.DataFrame({"cohort": pd.DatetimeIndex(cohort).strftime("%Y-%m"), "months_since_acquisition": k})
    out["customers"] = size.reindex(cohort).to_numpy()
    out["active_customers"] = act.reindex(pd.MultiIndex.from_arrays([cohort, k])).fillna(0).to_numpy().astype(int)
    out["retention"] = out["active_customers"] / out["customers"]
    return out


def retention_matrix(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Cohorts as rows, months since acquisition as columns (for the heat map)."""
    return cohorts.pivot(index="cohort", columns="months_since_acquisition", values="retention")
