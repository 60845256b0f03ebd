"""Loading and presentation helpers of the KPI notebook: inputs, formatted tables, headline in words."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from IPython.display import Markdown

from marksell.kpi.scorecard import METRICS, KpiReport, fmt_change, fmt_value
from marksell.reporting.tables import Table, table

#: What is not computed without each optional input.
_WITHOUT = {
    "marketing_funnel": "no marketing funnel given: CAC, CLV : CAC, payback, return on ad spend, marketing "
    "ROI and conversion are not computed",
    "market_size": "no market size given: market share is not computed",
}


def load_kpi_inputs(
    transactions_path: str = "", funnel_path: str = "", market_path: str = "", columns: dict | None = None
) -> tuple[dict, list[str]]:
    """Transactions, marketing funnel and (optional) market size through the loaders.

    With no path at all every input is the sample company's; once any path is given, an empty path
    means that input is not there (said in a note), as does ``"none"``. ``columns`` takes the form of
    every notebook (:func:`marksell.data.columns.input_columns`). Data-quality warnings of the
    loaders (returns, gaps) are collected as notes instead of being printed. Returns
    ``({"transactions", "funnel", "market"}, notes)``.
    """
    from marksell.data.columns import input_columns
    from marksell.data.loaders import load_market_size, load_marketing_funnel, load_transactions

    paths = {"transactions": transactions_path, "marketing_funnel": funnel_path, "market_size": market_path}
    given = {k: str(p or "").strip() for k, p in paths.items()}
    own = any(p and p.lower() != "none" for p in given.values())
    use = {k: given[k].lower() != "none" and (bool(given[k]) or not own) for k in paths}
    use["transactions"] = True
    maps = input_columns(columns, {k: bool(p) and p.lower() != "none" for k, p in given.items()})
    loaders = {"transactions": load_transactions, "marketing_funnel": load_marketing_funnel, "market_size": load_market_size}
    frames = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kind, load in loaders.items():
            frames[kind] = load(given[kind], columns=maps[kind] or None) if use[kind] else None
    notes = [_WITHOUT[k] for k in _WITHOUT if not use[k]]
    notes += sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
    return {"transactions": frames["transactions"], "funnel": frames["marketing_funnel"], "market": frames["market_size"]}, notes


def summary(report: KpiReport, data_notes=()) -> dict:
    """``summary.json``: periods, rules, targets, scorecard, the channel verdicts, the notes of the run and of
    loading the data."""
    verdict = {}
    ch = report.tables.get("channel")
    if ch is not None:
        for seg, r in ch.iterrows():
            verdict[seg] = {
                "clv_cac": None if pd.isna(r["clv_cac"]) else round(float(r["clv_cac"]), 3),
                "pays_back": None if r["pays_back"] is None else bool(r["pays_back"]),
                "status": r["clv_cac_status"],
            }
    return {
        "period": report.period.label,
        "compare_period": report.compare_period.label,
        "data_months": [f"{report.inputs.first_month:%Y-%m}", f"{report.inputs.last_month:%Y-%m}"],
        "clv_method": report.clv_method,
        "attribution_rule": report.attribution_rule,
        "gross_margin": report.inputs.gross_margin,
        "currency": report.currency,
        "targets": report.targets,
        "status_rule": (
            "on target = target met; watch = short by at most watch_band of the target "
            "(growth: growth_watch_pp percentage points); off target = further short"
        ),
        "scorecard": report.scorecard[["metric", "value", "target", "status", "compare_value", "change", "sentence"]].to_dict(
            orient="records"
        ),
        "channel_verdict": verdict,
        "notes": list(report.notes),
        "data_notes": list(data_notes),
    }


def scorecard_display(report: KpiReport, currency: str | None = None) -> Table:
    """The scorecard for people (value, target, status, comparison, change), money in ``currency`` (None: the
    report's)."""
    currency = report.currency if currency is None else currency
    rows = []
    for _, r in report.scorecard.iterrows():
        unit, direction = r["unit"], METRICS[r["metric"]][2]
        target = (
            "" if pd.isna(r["target"]) else ("≥ " if direction == "higher" else "≤ ") + fmt_value(r["target"], unit, currency)
        )
        change = fmt_change(r["change"], unit, currency) if pd.notna(r["change"]) else "n/a"
        rows.append(
            {
                "measure": r["measure"],
                "value": fmt_value(r["value"], unit, currency),
                "target": target,
                "status": r["status"],
                report.compare_period.label: fmt_value(r["compare_value"], unit, currency),
                "change": change,
            }
        )
    out = pd.DataFrame(rows)
    figures = {c: "figure" for c in out.columns if c not in ("measure", "status")}
    return table(out, kinds=figures, max_rows=0)


def dimension_display(report: KpiReport, dim: str, currency: str | None = None):
    """A channel or region table with the measures that exist for that dimension, for people (money in
    ``currency``, None: the report's); without that breakdown, one line saying why (as markdown)."""
    currency = report.currency if currency is None else currency
    if dim not in report.tables:
        return Markdown(f"No breakdown by {dim}: the transactions have no `{dim}` column.")
    t = report.tables[dim]
    cols = (
        ["new_customers", "spend", "cac", "clv", "clv_cac", "payback_months", "roas", "marketing_roi", "conversion_rate"]
        if dim == "channel"
        else ["revenue", "revenue_growth_yoy", "new_customers", "clv", "market_share", "retention_3m"]
    )
    out = pd.DataFrame(index=t.index)
    for c in (c for c in cols if c in t.columns):
        out[METRICS[c][0]] = [fmt_value(v, METRICS[c][1], currency) for v in t[c]]
    figures = {c: "figure" for c in out.columns}
    if dim == "channel" and "conversion_rate_low" in t.columns:
        lo, hi = t["conversion_rate_low"], t["conversion_rate_high"]
        out["conversion 95% CI"] = [f"{a:.0%}-{b:.0%}" if pd.notna(a) else "n/a" for a, b in zip(lo, hi)]
        out["CLV:CAC status"] = t["clv_cac_status"]
        out["pays back"] = ["n/a" if v is None else ("yes" if v else "no") for v in t["pays_back"]]
        figures["conversion 95% CI"] = "figure"
    out.index.name = dim
    return table(out, kinds=figures, max_rows=0)


def retention_summary(report: KpiReport, offsets=(1, 3, 6, 12)) -> pd.DataFrame:
    """Average retention k months after acquisition over the cohorts observed that long (weighted)."""
    c = report.cohorts
    rows = []
    for k in offsets:
        s = c[c["months_since_acquisition"] == k]
        if len(s):
            rows.append(
                {
                    "months after acquisition": k,
                    "cohorts": len(s),
                    "retention": s["active_customers"].sum() / s["customers"].sum(),
                }
            )
    return pd.DataFrame(rows).set_index("months after acquisition").round(3)


def headline_markdown(report: KpiReport) -> str:
    """The scorecard's message in a few bullet points a head of marketing and sales can act on."""
    sc = report.scorecard
    targeted = sc[sc["status"].isin(["on target", "watch", "off target"])]
    lines = [
        f"**{report.period.label}** against **{report.compare_period.label}**: "
        f"{(targeted['status'] == 'on target').sum()} of {len(targeted)} targeted measures on target, "
        f"{(targeted['status'] == 'watch').sum()} to watch, {(targeted['status'] == 'off target').sum()} off target."
    ]
    for status in ("off target", "watch"):
        for _, r in targeted[targeted["status"] == status].iterrows():
            lines.append(f"- *{status}*: {r['sentence']}")
    lines += [f"- {s}" for s in channel_findings(report)]
    if report.notes:
        lines.append("- Caveats: " + " ".join(report.notes))
    return "\n".join(lines)


def format_notes(notes: list[str]) -> str:
    """Notes as a bulleted list ("none" when empty)."""
    return "\n".join(f"- {n}" for n in notes) if notes else "- none"


def channel_findings(report: KpiReport) -> list[str]:
    """Which channels pay back their acquisition cost at the target, below it, or not at all (sentences
    from the reporting period's channel table; none without channel economics)."""
    ch = report.tables.get("channel")
    if ch is None or "clv_cac" not in ch.columns or not ch["clv_cac"].notna().any():
        return []
    target = report.targets["clv_cac"]
    good = [c for c in ch.index if ch.loc[c, "clv_cac_status"] == "on target"]
    pays = {c: (None if ch.loc[c, "pays_back"] is None else bool(ch.loc[c, "pays_back"])) for c in ch.index}
    losing = [c for c in ch.index if pays[c] is False]
    thin = [c for c in ch.index if pays[c] is True and c not in good]
    out = []
    if good:
        out.append(
            f"Channels that pay back at least {target:g}x their acquisition cost: {', '.join(good)} - candidates for more budget."
        )
    if thin:
        out.append(
            f"Channels that pay back but below {target:g}x: {', '.join(thin)} - improve conversion or cut cost per customer."
        )
    if losing:
        listed = ", ".join(f"{c} (CLV:CAC {fmt_value(ch.loc[c, 'clv_cac'], 'ratio')})" for c in losing)
        out.append(f"Channels whose customers are worth less than they cost to win: {listed} - cut or rework this spend first.")
    return out


def region_findings(report: KpiReport) -> list[str]:
    """The regions with the largest and smallest market share and the fastest and slowest growth."""
    reg = report.tables.get("region")
    if reg is None or len(reg) < 2:
        return []
    out = []
    for col, what, unit in (
        ("market_share", "market share", "share"),
        ("revenue_growth_yoy", "revenue growth vs a year earlier", "share"),
    ):
        v = reg[col].dropna() if col in reg.columns else pd.Series(dtype=float)
        if len(v) >= 2:
            hi, lo = v.idxmax(), v.idxmin()
            out.append(f"Highest {what}: {hi} ({fmt_value(v[hi], unit)}); lowest: {lo} ({fmt_value(v[lo], unit)}).")
    return out


def trend_findings(report: KpiReport, months: int = 12) -> list[str]:
    """Over the last ``months`` months: how often blended measures met their targets, and the channel with
    the highest average CAC against the blended one."""
    k = report.kpis
    k = k[k["period"].str.fullmatch(r"\d{4}-\d{2}") & (k["period"] <= report.period.label)]
    last = sorted(k["period"].unique())[-months:]
    k = k[k["period"].isin(last)]
    out = []
    overall = k[k["dimension"] == "overall"]
    for metric in ("roas", "conversion_rate", "clv_cac"):
        sel = overall[(overall["metric"] == metric) & overall["status"].isin(["on target", "watch", "off target"])]
        if len(sel):
            label = METRICS[metric][0]
            out.append(
                f"{label}: on target in {int((sel['status'] == 'on target').sum())} of the last {len(sel)} "
                f"months (range {fmt_value(sel['value'].min(), METRICS[metric][1], report.currency)} to "
                f"{fmt_value(sel['value'].max(), METRICS[metric][1], report.currency)})."
            )
    cac = k[(k["metric"] == "cac") & (k["dimension"] == "channel")].groupby("dimension_value")["value"].mean()
    blended = overall[overall["metric"] == "cac"]["value"].mean()
    cac = cac.dropna()
    if len(cac) >= 2 and blended and np.isfinite(blended):
        top = cac.idxmax()
        money = report.currency
        out.append(
            f"Highest average CAC over these months: {top} ({fmt_value(cac[top], 'currency', money)}, "
            f"{cac[top] / blended:.1f}x the blended {fmt_value(blended, 'currency', money)})."
        )
    return out


def retention_findings(report: KpiReport, recent: int = 6) -> list[str]:
    """Average retention one, three and twelve months after acquisition, and whether the latest cohorts
    sit below or above the earlier ones one month after acquisition."""
    c = report.cohorts
    out = []
    parts = []
    for k in (1, 3, 12):
        s = c[c["months_since_acquisition"] == k]
        if len(s) and s["customers"].sum():
            parts.append(f"{s['active_customers'].sum() / s['customers'].sum():.0%} after {k} month(s)")
    if parts:
        out.append("Share of new customers ordering again: " + ", ".join(parts) + " (cohorts weighted by size).")
    one = c[c["months_since_acquisition"] == 1].sort_values("cohort")
    if len(one) >= 2 * recent:
        new, old = one.tail(recent), one.iloc[:-recent]
        diff = new["active_customers"].sum() / new["customers"].sum() - old["active_customers"].sum() / old["customers"].sum()
        side = "below" if diff < 0 else "above"
        out.append(
            f"The latest {recent} cohorts are {abs(100 * diff):.1f} points {side} the earlier ones one month after acquisition."
        )
    return out


def findings_markdown(lines: list[str], none: str = "Not enough data for a finding here.") -> str:
    """Findings as a bulleted list."""
    return "\n".join(f"- {x}" for x in lines) if lines else none
