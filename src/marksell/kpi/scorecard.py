"""Marketing and sales KPI scorecard: acquisition cost, customer value, returns, conversion, growth.

Inputs (contract column names, see :mod:`marksell.data.contracts`):

- ``transactions``: ``customer_id, order_date, revenue`` and, for the breakdowns, ``channel`` (the
  customer's acquisition channel) and ``region``; optionally a cost column (``cost_col``).
- ``funnel``: ``month, channel, spend, leads, conversions`` (the monthly marketing funnel).
- ``market`` (optional): ``month, market_size`` and optionally ``region``.

Definitions (per month for the trends and for any reporting period; overall, by channel and by
region where the inputs allow it):

- *new customers* of a month: customers whose first order falls in it, counted under their
  acquisition channel and region (those of the first order).
- *gross profit* = ``gross_margin x revenue`` (or ``revenue - cost`` with ``cost_col``); returns count.
- *CAC* = spend / new customers. Blended CAC uses the channels present in both files. A period
  without new customers has an undefined CAC: NaN with the reason, never infinity.
- *CLV* (historical) = gross profit to the end of the period of the customers acquired up to then,
  per customer: realised value per customer, a lower bound of lifetime value. With
  ``clv_method="auto"`` the predictive CLV of :mod:`marksell.segmentation.clv` replaces it for the reporting and
  comparison periods when that module is installed and its fit works; ``KpiReport.clv_method`` says
  which was used and why.
- *CLV:CAC* = CLV / CAC of the period (1 = the customer just pays back the cost of winning them).
- *CAC payback* = months after acquisition (acquisition month = 1) until the average cumulative gross
  profit per customer, pooled over the cohorts observed that long, first covers the CAC.
- *Attribution rule* (ROAS, ROI): a customer's revenue in the first ``attribution_months`` months
  from acquisition (acquisition month included) is attributed to their acquisition channel and to
  the month it is earned in. ROAS = attributed revenue / spend; marketing ROI = (attributed gross
  profit - spend) / spend.
- *conversion rate* = conversions / leads with a Wilson 95% interval; channel-months with spend or
  conversions but no leads are left out and said so.
- *revenue growth* against the previous period of the same length and the same period a year earlier;
  *market share* = revenue / market size (regions in both files); *3-month retention* = share of the
  customers acquired three months earlier who ordered in the month.

Targets (``DEFAULT_TARGETS``) give each targeted measure a status: on target; *watch* when short of
the target by at most ``watch_band`` (10 %) of it (growth: by at most ``growth_watch_pp``, 5 points);
off target otherwise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError
from marksell.kpi.measures import (
    KpiInputs,
    Period,
    cohort_retention,
    measure_notes,
    measures_from_sums,
    panel,
    parse_period,
    payback_months,
    period_sums,
    prepare_inputs,
    safe_div,
    shifted,
    trailing_sums,
)
from marksell.reporting import numbers
from marksell.segmentation.clv import fit_clv

#: Default targets from common practice (``targets`` overrides any of them).
DEFAULT_TARGETS: dict = {
    "clv_cac": 3.0,  # lifetime value at least 3 x the cost of acquiring the customer
    # "marketing ROI 5:1" is read as revenue : spend, i.e. ROAS >= 5. The profit-based marketing ROI
    # gets the equivalent threshold at the gross margin, roas x gross_margin - 1 (1.0 at 40 %).
    "roas": 5.0,
    "conversion_rate": 0.20,  # lead-to-customer conversion above 20 %
    "revenue_growth_yoy": 0.10,  # revenue growth above 10 % a year
    # CAC benchmark (currency): a number for blended CAC, a dict {channel or "all": number}, or None =
    # each segment's own average CAC over the 12 months before the period ("do not get dearer").
    "cac": None,
    "watch_band": 0.10,  # short of a ratio or CAC target by at most 10 % of it = "watch"
    "growth_watch_pp": 0.05,  # short of the growth target by at most 5 percentage points = "watch"
}

#: Measure -> (label, unit, direction: "higher"/"lower" is better, None = no target).
METRICS: dict[str, tuple[str, str, str | None]] = {
    "revenue": ("Revenue", "currency", None),
    "gross_profit": ("Gross profit", "currency", None),
    "new_customers": ("New customers", "count", None),
    "spend": ("Marketing spend", "currency", None),
    "cac": ("Customer acquisition cost", "currency", "lower"),
    "clv": ("Customer lifetime value", "currency", None),
    "clv_cac": ("CLV : CAC", "ratio", "higher"),
    "payback_months": ("CAC payback", "months", None),
    "roas": ("Return on ad spend", "ratio", "higher"),
    "marketing_roi": ("Marketing ROI", "share", "higher"),
    "conversion_rate": ("Lead-to-customer conversion", "share", "higher"),
    "conversion_rate_low": ("Conversion, 95% CI low", "share", None),
    "conversion_rate_high": ("Conversion, 95% CI high", "share", None),
    "revenue_growth_pop": ("Revenue growth vs previous period", "share", None),
    "revenue_growth_yoy": ("Revenue growth vs a year earlier", "share", "higher"),
    "market_share": ("Market share", "share", None),
    "retention_3m": ("3-month retention", "share", None),
}
#: Measures on the one-screen scorecard, in order.
SCORECARD_METRICS = [
    "revenue",
    "revenue_growth_yoy",
    "revenue_growth_pop",
    "new_customers",
    "spend",
    "cac",
    "clv",
    "clv_cac",
    "payback_months",
    "roas",
    "marketing_roi",
    "conversion_rate",
    "market_share",
    "retention_3m",
]
STATUSES = ("on target", "watch", "off target", "no target", "not available")
KPI_COLUMNS = ["period", "dimension", "dimension_value", "metric", "value", "target", "status", "note"]


# ----------------------------------------------------------------------------- targets and status


def resolve_targets(targets: dict | None, gross_margin: float) -> dict:
    """Defaults updated with ``targets``, plus the ROI threshold equivalent to the ROAS target."""
    given = dict(targets or {})
    unknown = sorted(set(given) - set(DEFAULT_TARGETS) - {"marketing_roi"})
    if unknown:
        raise AnalysisError(f"unknown target(s) {unknown}; known: {sorted([*DEFAULT_TARGETS, 'marketing_roi'])}")
    t = {**DEFAULT_TARGETS, **given}
    if "marketing_roi" not in given and t["roas"] is not None:
        t["marketing_roi"] = round(float(t["roas"]) * gross_margin - 1.0, 6)
    t.setdefault("marketing_roi", None)
    return t


def statuses(v: np.ndarray, t: np.ndarray, direction, band: float = 0.10, absolute_band=None) -> np.ndarray:
    """Per value: "on target", "watch" (short by at most the band), "off target", "no target" or "not available".

    The band is ``band`` times the target, or ``absolute_band`` (for rates); ``direction`` "higher" or "lower".
    """
    out = np.full(len(v), "no target", dtype=object)
    if direction is not None:
        slack = np.full(len(v), absolute_band) if absolute_band is not None else band * np.abs(t)
        sign = 1.0 if direction == "higher" else -1.0
        gap = sign * (v - t)  # >= 0: target met
        has = ~np.isnan(t)
        out[has & (gap >= 0)] = "on target"
        out[has & (gap < 0) & (gap >= -slack)] = "watch"
        out[has & (gap < -slack)] = "off target"
    out[np.isnan(v)] = "not available"
    return out


def _cac_target(inp: KpiInputs, targets: dict, dim: str, segs, trailing: pd.DataFrame | None) -> np.ndarray:
    t = targets.get("cac")
    segs = list(segs)
    if isinstance(t, dict):
        return np.array([float(t.get(s, np.nan)) for s in segs])
    if t is not None:
        return np.array([float(t) if s == "all" else np.nan for s in segs])
    if trailing is None or dim == "region":
        return np.full(len(segs), np.nan)
    return safe_div(trailing["spend"], trailing["acq_new"])


# ----------------------------------------------------------------------------- long tables


def _long(inp, dim, labels, ends, s, prev, yoy, prev_ok, yoy_ok, targets, trailing, clv=None) -> pd.DataFrame:
    """Measures, payback, notes, targets and statuses of aligned rows of sums, in long form."""
    m = measures_from_sums(s, prev, yoy)
    if clv is not None:
        m["clv"] = clv
        m["clv_cac"] = safe_div(m["clv"], m["cac"])
    segs = s.index.get_level_values("dimension_value") if isinstance(s.index, pd.MultiIndex) else s.index
    pb_note = np.full(len(s), "", dtype=object)
    if inp.funnel is not None and dim != "region":
        pb = np.full(len(s), np.nan)
        for i, (seg, end, cac) in enumerate(zip(segs, ends, m["cac"].to_numpy())):
            pb[i], pb_note[i] = payback_months(inp, dim, seg, end, cac)
        m["payback_months"] = pb
    notes = measure_notes(s, m, dim, inp, prev_ok, yoy_ok)
    blank = (notes["payback_months"] == "").to_numpy() & np.isnan(m["payback_months"].to_numpy())
    notes.loc[blank, "payback_months"] = pb_note[blank]
    tv = {k: np.full(len(s), np.nan) for k in METRICS}
    for k in ("clv_cac", "roas", "marketing_roi", "conversion_rate", "revenue_growth_yoy"):
        if targets.get(k) is not None:
            tv[k][:] = float(targets[k])
    tv["cac"] = _cac_target(inp, targets, dim, segs, trailing)
    n, cols = len(s), {"value": [], "target": [], "status": [], "note": []}
    for k, (_, _, direction) in METRICS.items():
        v = m[k].to_numpy(dtype=float)
        cols["value"].append(v)
        cols["target"].append(tv[k])
        cols["status"].append(
            statuses(
                v, tv[k], direction, targets["watch_band"], targets["growth_watch_pp"] if k == "revenue_growth_yoy" else None
            )
        )
        note = notes[k].to_numpy(dtype=object)
        if k == "cac" and targets.get("cac") is None:
            note = np.where((note == "") & ~np.isnan(tv[k]), "target: own average CAC of the previous 12 months", note)
        cols["note"].append(note)
    nk = len(METRICS)
    return pd.DataFrame(
        {
            "period": np.tile(np.asarray(labels, dtype=object), nk),
            "dimension": dim,
            "dimension_value": np.tile(np.asarray(segs, dtype=object), nk),
            "metric": np.repeat(np.array(list(METRICS), dtype=object), n),
            **{c: np.concatenate(v) for c, v in cols.items()},
        }
    )


def monthly_kpis(inp: KpiInputs, targets: dict, dims: list[str]) -> pd.DataFrame:
    """Every measure for every month of the data (the trends), overall and by ``dims``, long form."""
    out = []
    for dim in ["overall", *dims]:
        s = panel(inp, dim)
        months = s.index.get_level_values("month")
        prev, yoy = shifted(s, 1), shifted(s, 12)
        trailing = trailing_sums(s, 12) if targets.get("cac") is None else None
        out.append(
            _long(
                inp,
                dim,
                months.strftime("%Y-%m"),
                months,
                s,
                prev,
                yoy,
                months - pd.DateOffset(months=1) >= inp.first_month,
                months - pd.DateOffset(months=12) >= inp.first_month,
                targets,
                trailing,
            )
        )
    return pd.concat(out, ignore_index=True)


def _inside(inp: KpiInputs, p: Period) -> bool:
    return p.start >= inp.first_month and p.end <= inp.last_month


def period_kpis(inp: KpiInputs, p: Period, targets: dict, dims: list[str], clv: dict | None = None):
    """Every measure for one reporting period, overall and by ``dims``, long form."""
    out = []
    for dim in ["overall", *dims]:
        s = period_sums(inp, p, dim)
        prev = period_sums(inp, p.previous(), dim).reindex(s.index) if _inside(inp, p.previous()) else None
        yoy = period_sums(inp, p.year_earlier(), dim).reindex(s.index) if _inside(inp, p.year_earlier()) else None
        trail = Period("trailing", p.start - pd.DateOffset(months=12), 12)
        trailing = period_sums(inp, trail, dim).reindex(s.index) if targets.get("cac") is None and _inside(inp, trail) else None
        c = None
        if clv is not None and dim in clv:
            c = clv[dim].reindex(s.index).to_numpy(dtype=float)
        n = len(s)
        out.append(
            _long(
                inp,
                dim,
                [p.label] * n,
                [p.end] * n,
                s,
                prev,
                yoy,
                np.full(n, prev is not None),
                np.full(n, yoy is not None),
                targets,
                trailing,
                c,
            )
        )
    return pd.concat(out, ignore_index=True)


# ----------------------------------------------------------------------------- predictive CLV


def predictive_clv(inp: KpiInputs, end: pd.Timestamp, dims: list[str], horizon_months: int = 12) -> tuple[dict | None, str]:
    """Mean predictive CLV per segment from :mod:`marksell.segmentation.clv`, or (None, why it is not used).

    A customer's value = realised gross profit to the end of ``end``'s month + the expected discounted
    gross profit of the next ``horizon_months`` (BG/NBD + Gamma-Gamma, ``marksell.segmentation.clv.fit_clv``),
    averaged over the customers acquired up to then.
    """
    historical = "historical (gross profit to date per customer acquired)"
    as_of = end + pd.offsets.MonthBegin(1)
    tx = inp.tx[inp.tx["order_date"] < as_of]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit_clv(
                tx[["customer_id", "order_date", "revenue"]],
                horizon_months=horizon_months,
                gross_margin=inp.gross_margin,
                as_of=as_of,
            )
    except Exception as exc:  # a failed fit falls back, saying why
        return None, f"{historical}: the predictive CLV fit failed ({type(exc).__name__}: {exc})"
    if not res.available:
        return None, f"{historical}: the predictive CLV model could not be fitted ({res.reason})"
    future = res.customers.set_index(res.customers["customer_id"].astype(str))["clv"].astype(float)
    cust = inp.customers[inp.customers["acq_month"] <= end].set_index("customer_id")
    value = tx.groupby("customer_id")["gross_profit"].sum().reindex(cust.index).fillna(0.0)
    value = value + future.reindex(cust.index).fillna(0.0)
    out = {"overall": pd.Series({"all": value.mean()})}
    for d in dims:
        out[d] = value.groupby(cust[d]).mean()
    return out, (
        f"predictive (realised gross profit to date + expected gross profit of the next "
        f"{horizon_months} months per customer, BG/NBD + Gamma-Gamma from marksell.segmentation.clv)"
    )


# ----------------------------------------------------------------------------- drivers and scorecard


def fmt_value(value, unit: str, currency: str = "") -> str:
    """A measure formatted for people ("n/a" when not available); money with ``currency`` in front."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "currency":
        return numbers.money(value, currency, 0 if abs(value) >= 1000 else 2)
    if unit == "ratio":
        return f"{value:.2f}x"
    if unit == "share":
        return numbers.share(value, 1)
    if unit == "months":
        return f"{value:.0f} month" if value == 1 else f"{value:.0f} months"
    return f"{value:,.0f}"


def fmt_change(delta: float, unit: str, currency: str = "") -> str:
    if unit == "share":
        return f"{delta * 100:+.1f} pp"
    if unit == "ratio":
        return f"{delta:+.2f}"
    if unit == "months":
        return f"{delta:+.0f} months"
    if unit == "currency":  # small amounts (CAC, CLV) with cents, large ones without
        text = numbers.money(delta, currency, 0 if abs(delta) >= 1000 else 2)
        return text if text.startswith("-") else "+" + text
    return f"{delta:+,.0f}"


def substitution_effects(inp: KpiInputs, metric: str, cur: Period, cmp: Period, dim: str) -> pd.Series:
    """Change of the overall measure if only one segment had moved from ``cmp`` to ``cur``.

    The comparison period's overall components plus one segment's change, through the measure's
    formula, minus the comparison value. Segments without the data the measure needs get NaN.
    """
    key = ("effects", cur, cmp, dim)
    if key not in inp.panels:
        sc = period_sums(inp, cur, dim)
        sp = period_sums(inp, cmp, dim).reindex(sc.index)
        base = period_sums(inp, cmp, "overall").iloc[0]
        f0 = measures_from_sums(base.to_frame().T).iloc[0]
        delta = (sc - sp)[base.index]
        eff = measures_from_sums(delta.fillna(0.0) + base.to_numpy(dtype=float)) - f0
        inp.panels[key] = (eff, delta)
    eff, delta = inp.panels[key]
    eff = eff[metric].copy()
    needs = {
        "cac": "spend",
        "clv_cac": "spend",
        "roas": "spend",
        "marketing_roi": "spend",
        "spend": "spend",
        "conversion_rate": "leads_ok_leads",
        "market_share": "market_size",
    }.get(metric)
    if needs:
        eff[delta[needs].isna().to_numpy()] = np.nan
    return eff


def growth_contributions(inp: KpiInputs, cur: Period, ref: Period, dim: str) -> pd.Series:
    """Each segment's revenue change from ``ref`` to ``cur`` as a share of ``ref``'s total revenue."""
    sc, sr = period_sums(inp, cur, dim), period_sums(inp, ref, dim)
    total = float(sr["revenue"].sum())
    if total <= 0:
        return pd.Series(dtype=float)
    return (sc["revenue"] - sr["revenue"].reindex(sc.index).fillna(0.0)) / total


def driver_sentence(
    inp: KpiInputs, kpis: pd.DataFrame, metric: str, cur: Period, cmp: Period, dims: list[str], currency: str = ""
) -> str:
    """One sentence: how the measure moved and the channel or region that contributed most (money in
    ``currency``)."""
    label, unit, _ = METRICS[metric]
    lookup = kpis.attrs.get("lookup")
    if lookup is None:
        lookup = kpis.set_index(["period", "dimension", "dimension_value", "metric"])["value"]

    def val(p, dim="overall", seg="all"):
        return float(lookup.get((p.label, dim, seg, metric), np.nan))

    value, previous = val(cur), val(cmp)
    if np.isnan(value):
        row = kpis[(kpis["period"] == cur.label) & (kpis["dimension"] == "overall") & (kpis["metric"] == metric)]
        note = str(row["note"].iloc[0]) if len(row) and row["note"].iloc[0] else ""
        return f"{label} is not available for {cur.label}" + (f" ({note})." if note else ".")
    ref = {"revenue_growth_yoy": cur.year_earlier(), "revenue_growth_pop": cur.previous()}.get(metric)
    best = None
    for dim in dims:
        if ref is not None:
            eff = growth_contributions(inp, cur, ref, dim)
        elif np.isnan(previous):
            continue
        elif metric == "payback_months":
            segs = sorted(set(kpis.loc[kpis["dimension"] == dim, "dimension_value"]))
            eff = pd.Series({g: val(cur, dim, g) - val(cmp, dim, g) for g in segs}, dtype=float)
        else:
            eff = substitution_effects(inp, metric, cur, cmp, dim)
        eff = eff.dropna()
        if ref is None and value != previous:
            eff = eff[np.sign(eff) == np.sign(value - previous)]
        if len(eff):
            seg = eff.abs().idxmax()
            if best is None or abs(eff[seg]) > abs(best[2]):
                best = (dim, seg, float(eff[seg]))
    if ref is not None:
        head = f"{label}: {fmt_value(value, unit, currency)} ({cur.label} vs {ref.label})"
        return head + (f"; {best[0]} '{best[1]}' contributed most ({best[2] * 100:+.1f} pp)." if best else ".")
    if np.isnan(previous):
        return f"{label} was {fmt_value(value, unit, currency)} in {cur.label}; no value for {cmp.label} to compare with."
    if value == previous:
        return f"{label} was unchanged at {fmt_value(value, unit, currency)} (vs {cmp.label})."
    verb = "rose" if value > previous else "fell"
    head = f"{label} {verb} from {fmt_value(previous, unit, currency)} ({cmp.label}) to {fmt_value(value, unit, currency)}"
    if best is None:
        return head + "."
    what = "change of its own" if metric == "payback_months" else "on its own"
    return head + f"; mostly {best[0]} '{best[1]}' ({fmt_change(best[2], unit, currency)} {what})."


def scorecard_table(
    inp: KpiInputs, kpis: pd.DataFrame, cur: Period, cmp: Period, dims: list[str], currency: str = ""
) -> pd.DataFrame:
    """One row per headline measure (overall): value, target, status, comparison, change and sentence (money
    in ``currency``)."""
    kpis.attrs["lookup"] = kpis.set_index(["period", "dimension", "dimension_value", "metric"])["value"]
    now = kpis[(kpis["period"] == cur.label) & (kpis["dimension"] == "overall")].set_index("metric")
    then = kpis[(kpis["period"] == cmp.label) & (kpis["dimension"] == "overall")].set_index("metric")
    rows = []
    for k in SCORECARD_METRICS:
        label, unit, _ = METRICS[k]
        v = now.loc[k, "value"]
        p = then.loc[k, "value"] if k in then.index else np.nan
        rows.append(
            {
                "metric": k,
                "measure": label,
                "unit": unit,
                "value": v,
                "target": now.loc[k, "target"],
                "status": now.loc[k, "status"],
                "compare_value": p,
                "change": v - p if pd.notna(v) and pd.notna(p) else np.nan,
                "note": now.loc[k, "note"],
                "sentence": driver_sentence(inp, kpis, k, cur, cmp, dims, currency),
            }
        )
    return pd.DataFrame(rows)


def dimension_table(kpis: pd.DataFrame, period: Period, dim: str) -> pd.DataFrame:
    """Measures of one period with one row per channel (or region), plus statuses and ``pays_back``."""
    t = kpis[(kpis["period"] == period.label) & (kpis["dimension"] == dim)]
    wide = t.pivot(index="dimension_value", columns="metric", values="value")
    wide = wide[[k for k in METRICS if k in wide.columns]]
    for k in ("cac", "clv_cac", "roas", "conversion_rate"):
        wide[f"{k}_status"] = t[t["metric"] == k].set_index("dimension_value")["status"].reindex(wide.index)
    wide["pays_back"] = [None if pd.isna(x) else bool(x > 1.0) for x in wide["clv_cac"]]
    wide.columns.name = None
    return wide


# ----------------------------------------------------------------------------- the report


@dataclass
class KpiReport:
    """Everything the KPI notebook shows and writes (see :func:`kpi_report`)."""

    period: Period
    compare_period: Period
    scorecard: pd.DataFrame
    kpis: pd.DataFrame  # long: KPI_COLUMNS
    tables: dict  # dimension -> dimension_table of the reporting period
    cohorts: pd.DataFrame
    targets: dict
    clv_method: str
    attribution_rule: str
    notes: list
    inputs: KpiInputs
    currency: str = ""  # written in front of money in sentences, tiles and tables ("" = none)


def kpi_report(
    transactions: pd.DataFrame,
    funnel: pd.DataFrame | None,
    market: pd.DataFrame | None = None,
    *,
    period: str = "",
    compare_period: str = "",
    gross_margin: float = 0.4,
    cost_col: str | None = None,
    targets: dict | None = None,
    dimensions=("channel", "region"),
    attribution_months: int = 12,
    clv_method: str = "auto",
    currency: str = "",
) -> KpiReport:
    """The KPI scorecard of ``period`` against ``compare_period``, with monthly trends and cohorts.

    ``period``: "2025-12", "2025-Q4" or "2025"; empty = the last full month of the transactions.
    ``compare_period``: same forms; empty = the same period a year earlier (not available -> changes
    are NaN, said in ``notes``). ``clv_method``: "auto" (predictive when :mod:`marksell.segmentation.clv` works,
    else historical), "historical" or "predictive" (error when not possible). A reporting period
    outside the data raises :class:`~marksell.errors.AnalysisError`. ``currency`` ("€", "EUR"; "" = none) is
    written in front of money in the sentences and kept on the report for its tables, tiles and findings.
    """
    if clv_method not in ("auto", "historical", "predictive"):
        raise AnalysisError(f"clv_method must be 'auto', 'historical' or 'predictive', got {clv_method!r}")
    inp = prepare_inputs(
        transactions,
        funnel,
        market,
        gross_margin=gross_margin,
        cost_col=cost_col,
        attribution_months=attribution_months,
        dimensions=dimensions,
    )
    tg = resolve_targets(targets, gross_margin)
    p = parse_period(period) if str(period).strip() else Period(f"{inp.last_month:%Y-%m}", inp.last_month, 1)
    span = f"{inp.first_month:%Y-%m} to {inp.last_month:%Y-%m}"
    if not _inside(inp, p):
        raise AnalysisError(
            f"reporting period {p.label} is outside the data: the transactions cover the full "
            f"months {span}; choose a period within that range"
        )
    c = parse_period(compare_period) if str(compare_period).strip() else p.year_earlier()
    notes = list(inp.notes)
    if not _inside(inp, c):
        notes.append(f"comparison period {c.label} is outside the data ({span}): changes are not available")
    dims = list(inp.dimensions)
    method, clv = "historical (gross profit to date per customer acquired)", {}
    if clv_method != "historical":
        vals, method = predictive_clv(inp, p.end, dims)
        if vals is None and clv_method == "predictive":
            raise AnalysisError(f"predictive CLV was asked for but is not possible: {method}")
        if vals is not None:
            clv[p.label] = vals
            if _inside(inp, c):
                cvals, _ = predictive_clv(inp, c.end, dims)
                if cvals is not None:
                    clv[c.label] = cvals
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        parts = [monthly_kpis(inp, tg, dims)]
        for q in (p, c):
            if _inside(inp, q) and (q.n_months > 1 or q.label in clv):
                parts.append(period_kpis(inp, q, tg, dims, clv.get(q.label)))
        kpis = pd.concat(parts, ignore_index=True)
        kpis = kpis.drop_duplicates(["period", "dimension", "dimension_value", "metric"], keep="last")
        kpis = kpis.reset_index(drop=True)
        scorecard = scorecard_table(inp, kpis, p, c, dims, currency)
        kpis.attrs.pop("lookup", None)
    tables = {d: dimension_table(kpis, p, d) for d in dims}
    rule = (
        f"a customer's revenue (and gross profit) in the first {inp.attribution_months} months from "
        "acquisition, acquisition month included, is attributed to the customer's acquisition channel "
        "in the month it is earned"
    )
    return KpiReport(p, c, scorecard, kpis, tables, cohort_retention(inp, p.end), tg, method, rule, notes, inp, currency)


def kpis_csv(report: KpiReport) -> pd.DataFrame:
    """The long ``kpis.csv`` table: period, dimension, dimension_value, metric, value, target, status, note."""
    return report.kpis[KPI_COLUMNS]
