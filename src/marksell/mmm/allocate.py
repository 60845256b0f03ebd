"""Budget allocation on the fitted long-run response curves.

The recommended split maximises the expected outcome per period, sum_c response_c(spend_c), for a fixed
total budget, with each channel within ``max_change`` of today's spend (and optional minimum/maximum per
channel). For a fixed total, maximising gross profit (``gross_margin`` x outcome - spend) gives the same
split; the margin changes what the scenarios report. Scenarios keep the same per-channel bounds; a budget
they cannot reach has empty figures. Channels that are not identified keep today's spend.
The optimiser is SLSQP with analytic gradients, started from today's split scaled to the budget and from
the middle of the bounds; the best end point wins. The uplift's interval re-evaluates the recommended split
on every bootstrap draw's curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from marksell.errors import ParameterError
from marksell.mmm.fitting import MixFit
from marksell.mmm.model import MarketingMixModel

SCENARIOS = (0.8, 1.0, 1.2)


@dataclass
class Allocation:
    """A recommended split with its uplift and the budget scenarios."""

    table: pd.DataFrame
    budget: float
    uplift: float
    uplift_lo: float
    uplift_hi: float
    scenarios: pd.DataFrame
    max_change: float
    gross_margin: float
    fixed: list[str]


def optimise_split(
    model: MarketingMixModel, today: np.ndarray, budget: float, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Spend per channel maximising the model's long-run outcome for ``budget`` within the bounds."""
    if budget < lower.sum() - 1e-6 or budget > upper.sum() + 1e-6:
        raise ParameterError(
            f"a budget of {budget:,.0f} per period cannot be split within the bounds (between "
            f"{lower.sum():,.0f} and {upper.sum():,.0f}): raise `max_change` or choose a budget in that range"
        )
    scale = max(float(np.mean(today)), 1.0)

    def neg(s):
        return -float(model.response(s * scale).sum()) / scale

    def grad(s):
        return -model.marginal(s * scale)[0]

    starts = [
        _feasible(today * budget / max(today.sum(), 1e-9), lower, upper, budget),
        _feasible((lower + upper) / 2, lower, upper, budget),
    ]
    cons = {"type": "eq", "fun": lambda s: s.sum() - budget / scale, "jac": lambda s: np.ones_like(s)}
    best = None
    for s0 in starts:
        res = optimize.minimize(
            neg,
            s0 / scale,
            jac=grad,
            bounds=list(zip(lower / scale, upper / scale)),
            constraints=[cons],
            method="SLSQP",
            options={"maxiter": 200, "ftol": 1e-12},
        )
        x = _feasible(np.clip(res.x * scale, lower, upper), lower, upper, budget)
        if best is None or model.response(x).sum() > model.response(best).sum():
            best = x
    return best


def _feasible(s: np.ndarray, lower: np.ndarray, upper: np.ndarray, budget: float) -> np.ndarray:
    """Move ``s`` into the bounds and onto the budget (spreading the difference over the free room)."""
    s = np.clip(np.asarray(s, float), lower, upper)
    for _ in range(50):
        gap = budget - s.sum()
        if abs(gap) < 1e-9 * max(budget, 1.0):
            break
        room = (upper - s) if gap > 0 else (s - lower)
        if room.sum() <= 0:
            break
        s = np.clip(s + gap * room / room.sum(), lower, upper)
    return s


def bounds(
    fit: MixFit, max_change: float, min_spend: dict | None = None, max_spend: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per modelled channel: lowest and highest spend per period allowed."""
    if not 0 <= max_change:
        raise ParameterError(f"max_change must be >= 0 (0.3 = +/- 30 %), got {max_change}")
    today = fit.today
    lower, upper = today * (1 - min(max_change, 1.0)), today * (1 + max_change)
    ident = fit.identification.set_index("channel")["identified"]
    for i, c in enumerate(fit.channels):
        if (min_spend or {}).get(c) is not None:
            lower[i] = max(lower[i], float(min_spend[c]))
        if (max_spend or {}).get(c) is not None:
            upper[i] = min(upper[i], float(max_spend[c]))
        if not ident[c]:
            lower[i] = upper[i] = today[i]
        if lower[i] > upper[i]:
            raise ParameterError(
                f"channel {c}: its minimum ({lower[i]:,.0f}) is above its maximum "
                f"({upper[i]:,.0f}); loosen the per-channel limits or `max_change`"
            )
    return lower, upper


def allocate_budget(
    fit: MixFit,
    budget: float = 0.0,
    max_change: float = 0.3,
    gross_margin: float = 0.0,
    min_spend: dict | None = None,
    max_spend: dict | None = None,
    scenarios=SCENARIOS,
) -> Allocation:
    """Recommended split of ``budget`` per period (0: today's total) and the scenario table."""
    today = fit.today
    unmodelled = [i for i in range(len(fit.series.channels)) if i not in fit.modelled]
    fixed_spend = float(fit.series.today_spend[unmodelled].sum())
    total_today = float(today.sum()) + fixed_spend
    budget = float(budget) if budget and budget > 0 else total_today
    lower, upper = bounds(fit, max_change, min_spend, max_spend)
    rec = optimise_split(fit.model, today, budget - fixed_spend, lower, upper)
    uplift, lo, hi = _uplift(fit, rec)
    now, new = fit.model.response(today)[0], fit.model.response(rec)[0]
    table = pd.DataFrame(
        {
            "channel": fit.channels,
            "current_spend": today,
            "recommended_spend": rec,
            "change_pct": np.where(today > 0, (rec / np.where(today > 0, today, 1) - 1) * 100, np.nan),
            "contribution_current": now,
            "contribution_recommended": new,
        }
    )
    rows = []
    for k in scenarios:
        target = k * total_today - fixed_spend
        row = {"budget_pct": round(100 * k), "budget": k * total_today}
        if lower.sum() - 1e-6 <= target <= upper.sum() + 1e-6:
            s = optimise_split(fit.model, today, target, lower, upper)
            u, ulo, uhi = _uplift(fit, s)
            d_spend = float(s.sum() - today.sum())
            row.update(spend_change=d_spend, outcome_change=u, outcome_change_lo=ulo, outcome_change_hi=uhi)
            if gross_margin:
                row.update(
                    profit_change=gross_margin * u - d_spend,
                    profit_change_lo=gross_margin * ulo - d_spend,
                    profit_change_hi=gross_margin * uhi - d_spend,
                )
        rows.append(row)
    fixed = [c for c, ok in zip(fit.identification["channel"], fit.identification["identified"]) if not ok]
    return Allocation(
        table=table,
        budget=budget,
        uplift=uplift,
        uplift_lo=lo,
        uplift_hi=hi,
        scenarios=pd.DataFrame(rows),
        max_change=max_change,
        gross_margin=gross_margin,
        fixed=fixed,
    )


def _uplift(fit: MixFit, split: np.ndarray) -> tuple[float, float, float]:
    """Outcome change per period of ``split`` against today's: point estimate and bootstrap interval."""
    today = fit.today

    def gain(m):
        return float(m.response(split).sum() - m.response(today).sum())

    point = gain(fit.model)
    if not fit.draws:
        return point, float("nan"), float("nan")
    values = np.array([gain(m) for m in fit.draws])
    a = (1 - fit.interval) / 2
    return point, float(np.quantile(values, a)), float(np.quantile(values, 1 - a))
