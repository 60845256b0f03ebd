"""Tables, summary.json and the findings in words, all from a fit and an allocation (nothing hard-coded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.errors import ParameterError
from marksell.mmm.allocate import Allocation
from marksell.mmm.fitting import MixFit
from marksell.reporting.numbers import money
from marksell.reporting.tables import infer_kind

CHANNEL_COLUMNS = [
    "channel",
    "spend",
    "contribution",
    "share_of_spend",
    "share_of_effect",
    "roas",
    "roas_lo",
    "roas_hi",
    "mroas",
    "mroas_lo",
    "mroas_hi",
    "identified",
    "reason",
]
ALLOCATION_COLUMNS = [
    "channel",
    "current_spend",
    "recommended_spend",
    "change_pct",
    "contribution_current",
    "contribution_recommended",
]
#: A recommended change within this many percent counts as "hold".
HOLD_PCT = 5.0


def _band(values: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1 - interval) / 2
    if len(values) == 0:
        nan = np.full(values.shape[1:], np.nan)
        return nan, nan
    return np.quantile(values, a, axis=0), np.quantile(values, 1 - a, axis=0)


def _roas(model, fit: MixFit) -> np.ndarray:
    return model.contributions(fit.spend).sum(axis=0) / fit.spend.sum(axis=0)


def _mroas(model, fit: MixFit) -> np.ndarray:
    return model.marginal(fit.today)[0]


def channel_table(fit: MixFit) -> pd.DataFrame:
    """``channels.csv``: spend, contribution, shares, ROAS and marginal ROAS with intervals per channel."""
    s = fit.series
    ident = fit.identification.set_index("channel")
    contrib = fit.model.contributions(fit.spend).sum(axis=0)
    roas_d = np.array([_roas(m, fit) for m in fit.draws]).reshape(len(fit.draws), len(fit.modelled))
    mroas_d = np.array([_mroas(m, fit) for m in fit.draws]).reshape(len(fit.draws), len(fit.modelled))
    rlo, rhi = _band(roas_d, fit.interval)
    mlo, mhi = _band(mroas_d, fit.interval)
    roas, mroas = _roas(fit.model, fit), _mroas(fit.model, fit)
    spend = s.spend.sum(axis=0)
    rows = []
    for i, c in enumerate(s.channels):
        row = {
            "channel": c,
            "spend": spend[i],
            "share_of_spend": spend[i] / spend.sum(),
            "identified": bool(ident.loc[c, "identified"]),
            "reason": ident.loc[c, "reason"],
        }
        if i in fit.modelled and row["identified"]:
            j = fit.modelled.index(i)
            row.update(
                contribution=contrib[j],
                share_of_effect=contrib[j] / contrib.sum(),
                roas=roas[j],
                roas_lo=rlo[j],
                roas_hi=rhi[j],
                mroas=mroas[j],
                mroas_lo=mlo[j],
                mroas_hi=mhi[j],
            )
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=CHANNEL_COLUMNS)


def decomposition(fit: MixFit) -> pd.DataFrame:
    """``decomposition.csv``: per date the actual, the fit and each component (base, trend, season, controls,
    channels); the components add up to the fit."""
    s, m = fit.series, fit.model
    t = fit.t()
    parts = m.baseline_components(t, s.controls if s.controls.size else None)
    names = m.baseline_names_
    out = pd.DataFrame({"date": s.dates, "actual": s.y, "fitted": m.fitted_})
    out["base"] = parts[:, names.index("intercept")]
    if "trend" in names:
        out["trend"] = parts[:, names.index("trend")]
    out["seasonality"] = parts[:, [k for k, n in enumerate(names) if n.startswith("season_")]].sum(axis=1)
    for j, c in enumerate(s.control_names):
        out[c] = parts[:, names.index(f"control_{j}")]
    contrib = m.contributions(fit.spend)
    for j, c in enumerate(fit.channels):
        out[c] = contrib[:, j]
    return out


def response_curves(fit: MixFit, points: int = 41) -> pd.DataFrame:
    """``response_curves.csv``: long-run outcome per period against steady spend per period, per identified
    channel, from zero to twice the larger of today's and the average spend, with intervals; ``current``
    marks today's spend."""
    ident = fit.identification.set_index("channel")["identified"]
    today, mean = fit.today, fit.spend.mean(axis=0)
    rows = []
    for j, c in enumerate(fit.channels):
        if not ident[c]:
            continue
        grid = np.unique(np.append(np.linspace(0, 2 * max(today[j], mean[j]), points), today[j]))
        level = np.tile(today, (len(grid), 1))
        level[:, j] = grid
        resp = fit.model.response(level)[:, j]
        draws = np.array([m.response(level)[:, j] for m in fit.draws]).reshape(len(fit.draws), len(grid))
        lo, hi = _band(draws, fit.interval)
        rows.append(
            pd.DataFrame(
                {
                    "channel": c,
                    "spend": grid,
                    "response": resp,
                    "response_lo": lo,
                    "response_hi": hi,
                    "mroas": fit.model.marginal(level)[:, j],
                    "current": np.isclose(grid, today[j]),
                }
            )
        )
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["channel", "spend", "response", "response_lo", "response_hi", "mroas", "current"])
    )


def carryover_table(fit: MixFit) -> pd.DataFrame:
    """Share of a period's effect that arrives 0, 1, 2, ... periods later, per channel (columns)."""
    return pd.DataFrame(fit.model.carryover(), columns=fit.channels).rename_axis("lag")


def hyperparameters(fit: MixFit) -> pd.DataFrame:
    """Fitted carry-over and saturation parameters per channel (spend units), with today's spend."""
    hp = pd.DataFrame(fit.model.hyperparameters())
    hp.insert(0, "channel", fit.channels)
    hp["today_spend"] = fit.today
    return hp


def allocation_table(plan: Allocation) -> pd.DataFrame:
    """``budget_allocation.csv``."""
    return plan.table.reindex(columns=ALLOCATION_COLUMNS)


def calibration_table(fit: MixFit) -> pd.DataFrame:
    """Per lift test: measured lift, and the channel's contribution over the test span without and with it."""
    rows = []
    for r in fit.calibration:
        j = r["channel"]
        without = fit.uncalibrated.contributions(fit.spend)[r["mask"], j].sum()
        with_ = fit.model.contributions(fit.spend)[r["mask"], j].sum()
        rows.append(
            {
                "channel": r["name"],
                "start": r["start"],
                "end": r["end"],
                "measured_lift": r["lift"],
                "lift_se": r["se"],
                "model_without_test": without,
                "model_with_test": with_,
            }
        )
    return pd.DataFrame(rows)


def verdicts(channels: pd.DataFrame, plan: Allocation) -> pd.DataFrame:
    """Grow / hold / cut per channel from the recommended change."""
    t = plan.table.set_index("channel")
    out = channels[["channel", "identified", "reason", "mroas", "mroas_lo", "mroas_hi"]].copy()
    out["change_pct"] = out["channel"].map(t["change_pct"])
    out["verdict"] = np.select(
        [~out["identified"], out["change_pct"] > HOLD_PCT, out["change_pct"] < -HOLD_PCT],
        ["not identified", "grow", "cut"],
        "hold",
    )
    return out


OUTCOME_KINDS = ("auto", "money", "count")


def check_outcome_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`OUTCOME_KINDS`, else a :class:`ParameterError` saying the fix."""
    if kind not in OUTCOME_KINDS:
        raise ParameterError(
            f"outcome_kind must be one of {list(OUTCOME_KINDS)}, got {kind!r}: set it to 'money' when the outcome "
            "is revenue or sales value, 'count' for units, orders or conversions, 'auto' to judge by the column name"
        )
    return kind


def outcome_unit(outcome: str, values, currency: str = "", kind: str = "auto") -> str:
    """The unit of the outcome: ``currency`` when the outcome is money, "" for units, orders, conversions or any
    other count. ``kind`` is what the user knows ("money" or "count"); "auto" judges by the outcome's name and
    values as the tables do (``sales``, ``revenue`` are money)."""
    if check_outcome_kind(kind) != "auto":
        return currency if kind == "money" else ""
    return currency if infer_kind(outcome, pd.Series(values, dtype=float)) == "money" else ""


def summary(fit: MixFit, plan: Allocation, currency: str = "", unit: str = "") -> dict:
    """``{"json": summary.json content, "tables": {name: frame}, "findings": [markdown sentences]}``.

    ``currency``: the currency of spend in the findings ("" = none); ``unit``: that of the outcome (see
    :func:`outcome_unit`; "" for counts)."""
    channels = channel_table(fit)
    tables = {
        "channels": channels,
        "budget_allocation": allocation_table(plan),
        "decomposition": decomposition(fit),
        "response_curves": response_curves(fit),
        "hyperparameters": hyperparameters(fit),
        "scenarios": plan.scenarios,
        "carryover": carryover_table(fit),
        "verdicts": verdicts(channels, plan),
    }
    if fit.calibration:
        tables["calibration"] = calibration_table(fit)
    js = {**_json(fit, plan, channels, tables), "currency": currency, "outcome_unit": unit}
    return {"json": js, "tables": tables, "findings": findings(fit, plan, channels, tables["verdicts"], currency, unit)}


def _json(fit: MixFit, plan: Allocation, channels: pd.DataFrame, tables: dict) -> dict:
    s = fit.series
    hp = tables["hyperparameters"].set_index("channel")
    contrib_now = float(plan.table["contribution_current"].sum())
    return {
        "outcome": s.target,
        "period": s.period,
        "periods": len(s.y),
        "first_date": f"{s.dates[0]:%Y-%m-%d}",
        "last_date": f"{s.dates[-1]:%Y-%m-%d}",
        "model": {
            **{k: v for k, v in fit.settings.items()},
            "interval": fit.interval,
            "method": "variable projection: NNLS effects, bounded least squares for carry-over and "
            "saturation; moving-block bootstrap refits",
        },
        "hyperparameters": {c: {k: float(v) for k, v in row.items()} for c, row in hp.iterrows()},
        "accuracy": fit.accuracy,
        "residuals": fit.residuals,
        "channels": {
            r["channel"]: {
                k: r[k]
                for k in ("roas", "roas_lo", "roas_hi", "mroas", "mroas_lo", "mroas_hi", "share_of_spend", "share_of_effect")
            }
            for _, r in channels.iterrows()
            if r["identified"]
        },
        "not_identified": {r["channel"]: r["reason"] for _, r in channels.iterrows() if not r["identified"]},
        "budget": {
            "per_period": plan.budget,
            "max_change": plan.max_change,
            "gross_margin": plan.gross_margin,
            "recommended": dict(zip(plan.table["channel"], plan.table["recommended_spend"])),
        },
        "uplift": {
            "value": plan.uplift,
            "lo": plan.uplift_lo,
            "hi": plan.uplift_hi,
            "pct_of_marketing_effect": 100 * plan.uplift / contrib_now if contrib_now else None,
        },
        "scenarios": plan.scenarios.to_dict(orient="records"),
        "notes": list(s.notes),
    }


def _num(x: float, unit: str = "") -> str:
    """An amount with ``unit`` (a currency) in front: whole above 100, two decimals below."""
    return money(x, unit, 0 if abs(x) >= 100 else 2)


def findings(
    fit: MixFit, plan: Allocation, channels: pd.DataFrame, verdict: pd.DataFrame, currency: str = "", unit: str = ""
) -> list[str]:
    """Sentences a manager can act on, written from the results: spend in ``currency``, the outcome in ``unit``."""
    s = fit.series
    out, pct = [], int(round(100 * fit.interval))
    acc = fit.accuracy
    fit_r2 = acc["fit"]["r2"]
    line = f"The model explains {100 * fit_r2:.1f} % of the {s.period}-to-{s.period} variation of `{s.target}`"
    if acc.get("holdout"):
        h = acc["holdout"]
        mape = f"{h['mape']:.1f} %" if np.isfinite(h["mape"]) else "n/a (zero outcomes)"
        line += (
            f"; on the last {h['n']} {s.period}s, which it did not see while fitting, its error was "
            f"{mape} (MAPE), R² {h['r2']:.2f}"
        )
    out.append(line + ".")
    ok = channels[channels["identified"]].sort_values("contribution", ascending=False)
    if len(ok):
        top = ok.iloc[0]
        out.append(
            f"`{top['channel']}` brings the largest share of the marketing effect "
            f"({100 * top['share_of_effect']:.0f} % for {100 * top['share_of_spend']:.0f} % of the spend); "
            f"each unit spent returned {top['roas']:.2f} in `{s.target}` ({pct} % interval "
            f"{top['roas_lo']:.2f} to {top['roas_hi']:.2f})."
        )
    breakeven = 1 / plan.gross_margin if plan.gross_margin else 1.0
    what = f"gross profit pays back above {breakeven:.2f}" if plan.gross_margin else "revenue pays back above 1"
    for _, v in verdict[verdict["identified"]].sort_values("change_pct", ascending=False).iterrows():
        sure = (
            "clearly above"
            if v["mroas_lo"] > breakeven
            else "clearly below"
            if v["mroas_hi"] < breakeven
            else "not clearly above or below"
        )
        out.append(
            f"**{v['verdict'].capitalize()} `{v['channel']}`** ({v['change_pct']:+.0f} %): the next unit "
            f"at today's spend returns {v['mroas']:.2f} ({pct} % interval {v['mroas_lo']:.2f} to "
            f"{v['mroas_hi']:.2f}), {sure} break-even ({what})."
        )
    gain = (
        f"Re-splitting the same budget ({_num(plan.budget, currency)} per {s.period}) as recommended adds "
        f"{_num(plan.uplift, unit)} `{s.target}` per {s.period} in the long run ({pct} % interval "
        f"{_num(plan.uplift_lo, unit)} to {_num(plan.uplift_hi, unit)})"
    )
    if np.isfinite(plan.uplift_lo) and plan.uplift_lo <= 0:
        gain += "; the interval includes no gain, so move part of the budget first and measure"
    out.append(gain + ".")
    sc = plan.scenarios.set_index("budget_pct")
    if 120 in sc.index and "outcome_change" in sc and np.isfinite(sc.loc[120, "outcome_change"]):
        r = sc.loc[120]
        txt = (
            f"With 20 % more budget (best split) `{s.target}` would change by {_num(r['outcome_change'], unit)} "
            f"per {s.period} for {_num(r['spend_change'], currency)} more spend"
        )
        if plan.gross_margin:
            txt += f", a profit change of {_num(r['profit_change'], unit)} at a {100 * plan.gross_margin:.0f} % margin"
        out.append(txt + ".")
    if plan.gross_margin and "profit_change" in sc and sc["profit_change"].notna().any():
        best = sc["profit_change"].idxmax()
        below = verdict[verdict["identified"] & (verdict["mroas_hi"] < breakeven)]["channel"].tolist()
        txt = (
            f"Of the budgets tried ({', '.join(f'{k} %' for k in sc.index)} of today's), {best} % earns the most "
            f"gross profit ({_num(sc.loc[best, 'profit_change'], unit)} per {s.period} against today's split)"
        )
        if len(below) == int(verdict["identified"].sum()):
            txt += (
                "; no channel's next unit pays back in gross profit at today's spend, so the budget is above "
                "its most profitable level"
            )
        out.append(txt + ".")
    for _, r in channels[~channels["identified"]].iterrows():
        out.append(f"No ROAS for `{r['channel']}`: {r['reason']}; it keeps today's spend in the plan.")
    return out


def rule_comparison(channels: pd.DataFrame, rule_roas: dict) -> pd.DataFrame:
    """The model's ROAS beside a rule-based one (e.g. last-touch attribution in the KPI scorecard) for the
    channels in both; ``rule_vs_model`` above 1 means the rule credits the channel with more than it causes."""
    d = channels[channels["identified"] & channels["channel"].isin(list(rule_roas))].copy()
    d["rule_roas"] = d["channel"].map({str(k): float(v) for k, v in rule_roas.items()})
    d["rule_vs_model"] = d["rule_roas"] / d["roas"]
    return d[["channel", "roas", "roas_lo", "roas_hi", "rule_roas", "rule_vs_model"]].reset_index(drop=True)


def display_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds for ``reporting.tables.table`` where a name misleads: MAPE is already in percent, ``n`` counts
    periods, decay is a share carried over to the next period, the half-saturation point is a spend."""
    kinds = {"mape": "percent", "nrmse": "number", "r2": "number", "n": "count", "decay": "share", "half_saturation": "money"}
    return {c: k for c, k in kinds.items() if c in frame.columns}


# ----------------------------------------------------------------------------- chart captions
# Each caption says what the chart shows and how to read it, then one figure of this run computed here.


def decomposition_caption(decomp: pd.DataFrame, channels: list[str], outcome: str = "outcome", period: str = "period") -> str:
    """Caption of :func:`marksell.mmm.plots.decomposition_figure`: how to read it, and the channels' share of the
    modelled outcome."""
    text = (
        f"{outcome} per {period}: the black line is the actual outcome; the layers stacked under it are what "
        "the model attributes to the base (intercept, trend, season and controls, at the bottom) and to each "
        f"channel. Where the line leaves the top of the stack, the model misses that {period}."
    )
    fitted = float(decomp["fitted"].sum())
    if fitted > 0 and channels:
        share = float(decomp[list(channels)].to_numpy().sum()) / fitted
        text += (
            f" Here the {len(channels)} channel(s) account for {share:.0%} of the modelled {outcome} over "
            f"{len(decomp)} {period}s."
        )
    return text


def roas_caption(channels: pd.DataFrame, breakeven: float = 1.0, interval: float = 0.9) -> str:
    """Caption of :func:`marksell.mmm.plots.roas_figure`: how to read it, and how many channels' next unit of spend
    clearly pays back."""
    d = channels[channels["identified"]]
    left_out = len(channels) - len(d)
    bounded = d["mroas_lo"].notna().all()
    above = int((d["mroas_lo" if bounded else "mroas"] > breakeven).sum())
    return (
        f"Per measured channel, two dots with {interval:.0%} intervals: the average return on spend (upper) and "
        f"the return of the next unit of spend at today's spend (lower); the dashed line is break-even "
        f"({breakeven:.2f}). A dot right of the line returns more than it costs; an interval across the line "
        f"means the data cannot tell. Here {above} of {len(d)} measured channel(s) have a marginal return "
        + ("whose whole interval lies above" if bounded else "above")
        + " break-even"
        + (f"; {left_out} channel(s) that cannot be measured are left out." if left_out else ".")
    )


def share_caption(channels: pd.DataFrame) -> str:
    """Caption of :func:`marksell.mmm.plots.share_figure`: how to read it, and how many channels earn more than
    their share of the budget."""
    d = channels[channels["identified"]]
    more = int((d["share_of_effect"] > d["share_of_spend"]).sum())
    return (
        "Per measured channel, ordered by spend: its share of all spend (left bar) and its share of the "
        "effect of all channels on the outcome (right bar). A right bar taller than the left means the channel "
        f"brings more than its share of the budget. Here {more} of {len(d)} channel(s) do."
    )


def response_caption(curves: pd.DataFrame, outcome: str = "outcome", period: str = "period") -> str:
    """Caption of :func:`marksell.mmm.plots.response_figure`: how to read it, and the range of today's marginal
    returns."""
    text = (
        f"One panel per channel: the extra {outcome} per {period} (up) that a steady spend per {period} "
        "(across) brings in the long run, carry-over included; the band is the bootstrap interval, the dot "
        "today's spend. Where the dot sits on the flat part, more money buys little; beyond the largest spend "
        "in the data the curve is an extrapolation."
    )
    now = curves[curves["current"]].set_index("channel")["mroas"].dropna()
    if len(now) >= 2:
        text += (
            f" Here the return of the next unit of spend at today's spend runs from {now.min():.2f} "
            f"({now.idxmin()}) to {now.max():.2f} ({now.idxmax()})."
        )
    return text


def carryover_caption(carry: pd.DataFrame, period: str = "period") -> str:
    """Caption of :func:`marksell.mmm.plots.carryover_figure`: how to read it, and the channel that spreads its
    effect most (the smallest share in the period of the spend)."""
    text = (
        f"One line per channel: the share of a {period}'s effect that arrives 0, 1, 2, ... {period}s after the "
        "spend. A line that starts high and drops at once acts immediately; a low, flat line spreads its effect "
        f"over later {period}s."
    )
    if carry.shape[1]:
        share = carry / carry.sum()
        slow = share.iloc[0].idxmin()
        most = int((share[slow].cumsum() >= 0.9 - 1e-9).idxmax())  # first lag by which 90 % has arrived
        text += (
            f" Here {slow} spreads its effect most: {share[slow].iloc[0]:.0%} arrives in the {period} of the "
            f"spend, 90% by {most} {period}(s) after it."
        )
    return text
