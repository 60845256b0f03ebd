"""Loading and presentation helpers of the KPI notebook: inputs, formatted tables, headline in words."""

from __future__ import annotations

import warnings

import pandas as pd

from marksell.kpi.scorecard import METRICS, KpiReport, fmt_change, fmt_value, split_column_maps


def load_kpi_inputs(transactions_path: str = "", funnel_path: str = "", market_path: str = "",
                    columns: dict | None = None) -> tuple[dict, list[str]]:
    """Transactions, marketing funnel and (optional) market size through the loaders.

    ``market_path``: empty = the sample company's file, ``"none"`` = no market share. Data-quality
    warnings of the loaders (returns, gaps) are collected as notes instead of being printed.
    Returns ``({"transactions", "funnel", "market"}, notes)``.
    """
    from marksell.data.loaders import load_market_size, load_marketing_funnel, load_transactions

    maps = split_column_maps(columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tx = load_transactions(transactions_path, columns=maps["transactions"] or None)
        funnel = load_marketing_funnel(funnel_path, columns=maps["marketing_funnel"] or None)
        market = None
        if str(market_path).strip().lower() != "none":
            market = load_market_size(market_path, columns=maps["market_size"] or None)
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
    return {"transactions": tx, "funnel": funnel, "market": market}, notes


def scorecard_display(report: KpiReport) -> pd.DataFrame:
    """The scorecard as formatted text (value, target, status, comparison, change)."""
    rows = []
    for _, r in report.scorecard.iterrows():
        unit, direction = r["unit"], METRICS[r["metric"]][2]
        target = "" if pd.isna(r["target"]) else ("≥ " if direction == "higher" else "≤ ") + fmt_value(r["target"], unit)
        change = fmt_change(r["change"], unit) if pd.notna(r["change"]) else "n/a"
        rows.append({"measure": r["measure"], "value": fmt_value(r["value"], unit), "target": target,
                     "status": r["status"], report.compare_period.label: fmt_value(r["compare_value"], unit),
                     "change": change})
    return pd.DataFrame(rows).set_index("measure")


def dimension_display(report: KpiReport, dim: str) -> pd.DataFrame:
    """A channel or region table with the measures that exist for that dimension, formatted."""
    t = report.tables[dim]
    cols = (["new_customers", "spend", "cac", "clv", "clv_cac", "payback_months", "roas", "marketing_roi",
             "conversion_rate"] if dim == "channel" else
            ["revenue", "revenue_growth_yoy", "new_customers", "clv", "market_share", "retention_3m"])
    out = pd.DataFrame(index=t.index)
    for c in cols:
        out[METRICS[c][0]] = [fmt_value(v, METRICS[c][1]) for v in t[c]]
    if dim == "channel":
        lo, hi = t["conversion_rate_low"], t["conversion_rate_high"]
        out["conversion 95% CI"] = [f"{a:.0%}-{b:.0%}" if pd.notna(a) else "n/a" for a, b in zip(lo, hi)]
        out["CLV:CAC status"] = t["clv_cac_status"]
        out["pays back"] = ["n/a" if v is None else ("yes" if v else "no") for v in t["pays_back"]]
    out.index.name = dim
    return out


def retention_summary(report: KpiReport, offsets=(1, 3, 6, 12)) -> pd.DataFrame:
    """Average retention k months after acquisition over the cohorts observed that long (weighted)."""
    c = report.cohorts
    rows = []
    for k in offsets:
        s = c[c["months_since_acquisition"] == k]
        if len(s):
            rows.append({"months after acquisition": k, "cohorts": len(s),
                         "retention": s["active_customers"].sum() / s["customers"].sum()})
    return pd.DataFrame(rows).set_index("months after acquisition").round(3)


def headline_markdown(report: KpiReport) -> str:
    """The scorecard's message in a few bullet points a head of marketing and sales can act on."""
    sc = report.scorecard
    targeted = sc[sc["status"].isin(["on target", "watch", "off target"])]
    lines = [f"**{report.period.label}** against **{report.compare_period.label}**: "
             f"{(targeted['status'] == 'on target').sum()} of {len(targeted)} targeted measures on target, "
             f"{(targeted['status'] == 'watch').sum()} to watch, {(targeted['status'] == 'off target').sum()} off target."]
    for status in ("off target", "watch"):
        for _, r in targeted[targeted["status"] == status].iterrows():
            lines.append(f"- *{status}*: {r['sentence']}")
    ch = report.tables.get("channel")
    if ch is not None and ch["clv_cac"].notna().any():
        good = [c for c in ch.index if ch.loc[c, "clv_cac_status"] == "on target"]
        pays = {c: (None if ch.loc[c, "pays_back"] is None else bool(ch.loc[c, "pays_back"])) for c in ch.index}
        losing = [c for c in ch.index if pays[c] is False]
        thin = [c for c in ch.index if pays[c] is True and c not in good]
        if good:
            lines.append(f"- Channels that pay back at least {report.targets['clv_cac']:g}x their acquisition cost: "
                         f"{', '.join(good)} - candidates for more budget.")
        if thin:
            lines.append(f"- Channels that pay back but below {report.targets['clv_cac']:g}x: {', '.join(thin)} - "
                         "improve conversion or cut cost per customer.")
        if losing:
            listed = ", ".join(f"{c} (CLV:CAC {fmt_value(ch.loc[c, 'clv_cac'], 'ratio')})" for c in losing)
            lines.append(f"- Channels whose customers are worth less than they cost to win: {listed} - "
                         "cut or rework this spend first.")
    if report.notes:
        lines.append("- Caveats: " + " ".join(report.notes))
    return "\n".join(lines)


def format_notes(notes: list[str]) -> str:
    """Notes as a bulleted list ("none" when empty)."""
    return "\n".join(f"- {n}" for n in notes) if notes else "- none"
