"""Assemble the opportunity prioritisation: ranking table, summary figures and recommendation.

:func:`run_prioritisation` runs every step of :mod:`marksell.prioritisation.scoring` and
:mod:`marksell.prioritisation.sensitivity` on one opportunities table; the notebook calls the
steps one by one to explain them, and uses :func:`ranking_table`, :func:`summary`
and :func:`recommendation_text` to write ``ranking.csv``, ``summary.json`` and the words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from marksell.prioritisation import scoring as pr
from marksell.prioritisation import sensitivity as ps


@dataclass
class PrioritisationResult:
    """Everything one run produces (see :func:`run_prioritisation`)."""

    spec: pd.DataFrame
    ahp: pr.AHPResult | None
    x: pd.DataFrame
    weights: pd.DataFrame
    scores: pd.DataFrame
    agreement: pd.DataFrame
    dominance: pd.DataFrame
    monte_carlo: dict
    flips: pd.DataFrame
    portfolio: pd.DataFrame
    ranking: pd.DataFrame
    summary: dict


def run_prioritisation(
    opps: pd.DataFrame,
    criteria=None,
    ahp_matrix=None,
    methods=pr.METHODS,
    top_k: int = 3,
    n_draws: int = 2000,
    seed: int = 0,
    concentration: float = 50.0,
    id_col: str = "opportunity_id",
    name_col: str = "name",
) -> PrioritisationResult:
    """Run the whole prioritisation on ``opps`` (contract in :mod:`marksell.prioritisation.scoring`)."""
    spec = pr.criteria_spec(criteria)
    ahp = None
    if ahp_matrix is not None and len(ahp_matrix):
        ahp = pr.ahp_weights(ahp_matrix)
        spec = pr.apply_ahp(spec, ahp)
    x = pr.decision_matrix(opps, spec, id_col=id_col, name_col=name_col)
    weights = pr.weights_table(spec, x)
    scores = pr.score_methods(x, spec, methods)
    agreement = pr.rank_agreement(scores)
    dominance = pr.pareto_dominance(x, spec)
    mc = {
        m: ps.monte_carlo_ranks(x, spec, method=m, n_draws=n_draws, top_k=top_k, concentration=concentration, seed=seed)
        for m in methods
    }
    flips = ps.weight_change_to_flip(x, spec, method=methods[0])
    portfolio = portfolio_view(opps.set_index(id_col), x, spec)
    ranking = ranking_table(opps, scores, dominance, mc[methods[0]], portfolio, id_col, name_col)
    return PrioritisationResult(
        spec,
        ahp,
        x,
        weights,
        scores,
        agreement,
        dominance,
        mc,
        flips,
        portfolio,
        ranking,
        summary(ranking, scores, agreement, mc, flips, ahp, top_k, weights),
    )


#: The two axes of the GE-McKinsey matrix: the ``group`` value in the criteria specification, and its label.
GE_AXES = {"attractiveness": "market attractiveness", "ability": "ability to win"}


def portfolio_view(opps: pd.DataFrame, x: pd.DataFrame, spec: pd.DataFrame) -> pd.DataFrame:
    """GE-McKinsey coordinates and zone, plus the expected-value view when its columns exist.

    ``opps`` is indexed by opportunity id. The matrix needs criteria in both groups (``attractiveness``
    and ``ability``); without them the coordinates are NaN and ``zone`` is "not available". The expected
    value needs a ``market_size`` column (copied as the bubble size). ``attrs["notes"]`` holds one line
    per view left out, ``attrs["axes"]`` the criteria of each axis.
    """
    groups = spec.set_index("criterion")["group"]
    axes = {g: groups.index[groups == g].tolist() for g in GE_AXES}
    notes = []
    lacking = [GE_AXES[g] for g, crits in axes.items() if not crits]
    if lacking:
        out = pd.DataFrame({"attractiveness": np.nan, "ability_to_win": np.nan, "zone": "not available"}, index=x.index)
        notes.append(
            f"GE-McKinsey matrix left out: no criterion for {' or '.join(lacking)}; give the criteria a "
            "`group` (attractiveness or ability) to draw it"
        )
    else:
        out = pr.ge_matrix(x, spec)
    if "market_size" in opps.columns:
        out["market_size"] = opps.loc[x.index, "market_size"].astype(float).to_numpy()
        out = out.join(pr.expected_value(opps.loc[x.index]))
    else:
        notes.append(
            "expected-value view left out: it needs a `market_size` column (multiplied by growth_pct, "
            "achievable_share_pct and margin_pct where present)"
        )
    out.attrs.update(notes=notes, axes=axes)
    return out


def expected_value_table(portfolio: pd.DataFrame, names: pd.Series, top: int = 8) -> pd.DataFrame | None:
    """The options with the largest expected value (name, zone, size, value, value per investment), or
    None when the expected-value view was left out."""
    if "expected_value" not in portfolio.columns:
        return None
    cols = [
        c
        for c in ("name", "zone", "market_size", "expected_value", "value_per_investment")
        if c in portfolio.columns or c == "name"
    ]
    view = portfolio.join(names)[cols]
    if view["zone"].eq("not available").all():
        view = view.drop(columns="zone")
    return view.sort_values("expected_value", ascending=False).head(top)


def ahp_view(ahp: pr.AHPResult | None, spec: pd.DataFrame) -> pr.AHPResult | None:
    """The AHP result to show: the user's, else the illustrative workshop matrix when it covers exactly
    the specification's criteria (the default ones), else None."""
    if ahp is not None:
        return ahp
    if sorted(pr.EXAMPLE_AHP["criteria"]) == sorted(spec["criterion"]):
        return pr.ahp_weights(pr.EXAMPLE_AHP)
    return None


def weighting_views(
    x: pd.DataFrame, spec: pd.DataFrame, ahp: pr.AHPResult | None, methods, top_k: int, names: pd.Series
) -> pd.DataFrame:
    """The top ``top_k`` options under the weights used, the AHP weights (when shown) and the entropy
    weights: one column per weighting, rows are ranks."""
    views = {"weights used": spec}
    if ahp is not None:
        views["AHP weights"] = pr.apply_ahp(spec, ahp)
    views["entropy weights"] = spec.assign(weight=pr.entropy_weights(x, spec).to_numpy())
    k = min(top_k, len(x))
    return pd.DataFrame(
        {view: pr.score_methods(x, s, methods)[f"rank_{methods[0]}"].nsmallest(k).index.map(names) for view, s in views.items()},
        index=pd.RangeIndex(1, k + 1, name="rank"),
    )


#: Most dominating options listed per row of ``ranking.csv``; the rest are counted (a chain of n options
#: would otherwise list n^2 / 2 ids: 225 MB for 5,000).
MAX_DOMINATORS_LISTED = 20


def capped_dominators(dominated_by: pd.Series, rank: pd.Series, limit: int = MAX_DOMINATORS_LISTED) -> pd.Series:
    """``dominated_by`` lists longer than ``limit``: the ``limit`` best-ranked ids, then ``+N more``."""

    def cap(text):
        ids = str(text).split(";") if isinstance(text, str) and text else []
        if len(ids) <= limit:
            return text
        best = sorted(ids, key=lambda i: (rank.get(i, np.inf), i))
        return ";".join(best[:limit]) + f";+{len(ids) - limit} more"

    return dominated_by.map(cap)


def ranking_table(
    opps: pd.DataFrame,
    scores: pd.DataFrame,
    dominance: pd.DataFrame,
    mc: ps.MonteCarloResult,
    portfolio: pd.DataFrame,
    id_col: str = "opportunity_id",
    name_col: str = "name",
) -> pd.DataFrame:
    """One row per opportunity (``ranking.csv``), ordered by the first method's rank.

    Columns: ``opportunity_id, name, [group], score_<m>, rank_<m>`` per method, ``dominated,
    dominated_by, p_first, p_top_k, rank_min, rank_max, attractiveness, ability_to_win, zone``
    (+ ``expected_value`` when available).
    """
    base = opps.set_index(opps[id_col].astype("string"))
    keep = [name_col] + (["group"] if "group" in base.columns else [])
    out = base.loc[scores.index, keep].rename(columns={name_col: "name"})
    first_rank = next(c for c in scores.columns if c.startswith("rank_"))
    dominance = dominance.assign(dominated_by=capped_dominators(dominance["dominated_by"], scores[first_rank]))
    out = out.join(scores).join(dominance[["dominated", "dominated_by"]])
    out = out.join(mc.table[["p_first", "p_top_k", "rank_min", "rank_max"]])
    cols = ["attractiveness", "ability_to_win", "zone"] + [c for c in ("expected_value",) if c in portfolio]
    out = out.join(portfolio[cols])
    out = out.sort_values([first_rank, "p_first"], ascending=[True, False], kind="stable")
    out.index.name = "opportunity_id"
    return out.reset_index()


def summary(
    ranking: pd.DataFrame,
    scores: pd.DataFrame,
    agreement: pd.DataFrame,
    mc: dict,
    flips: pd.DataFrame,
    ahp: pr.AHPResult | None,
    top_k: int,
    weights: pd.DataFrame,
) -> dict:
    """``summary.json``: top choice per method, AHP consistency, stability figures."""
    methods = [c[5:] for c in scores.columns if c.startswith("rank_")]
    top = {m: str(scores.index[scores[f"rank_{m}"].to_numpy().argmin()]) for m in methods}
    stab = {}
    for m, res in mc.items():
        t = res.table.sort_values("p_first", ascending=False)
        stab[m] = {
            "n_draws": res.n_draws,
            "concentration": res.concentration,
            "top_k": res.top_k,
            "most_often_first": str(t.index[0]),
            "p_first": float(t["p_first"].iloc[0]),
            "p_first_of_top_choice": float(res.table.loc[top[m], "p_first"]),
            "p_top_k_of_top_choice": float(res.table.loc[top[m], "p_top_k"]),
        }
    flip = flips.dropna(subset=["change"])
    smallest = None
    if len(flip):
        f = flip.iloc[0]
        smallest = {
            "criterion": str(f["criterion"]),
            "weight": float(f["weight"]),
            "change": float(f["change"]),
            "weight_needed": float(f["weight_needed"]),
            "new_top": str(f["new_top"]),
        }
    top_lists = {m: scores.sort_values(f"rank_{m}").index[:top_k].astype(str).tolist() for m in methods}
    mentioned = (
        set(top.values()) | {i for ids in top_lists.values() for i in ids} | ({smallest["new_top"]} if smallest else set())
    )
    names = ranking.assign(opportunity_id=ranking["opportunity_id"].astype(str)).set_index("opportunity_id")["name"]
    return {
        "n_opportunities": int(len(ranking)),
        "methods": methods,
        "names": {i: str(names[i]) for i in sorted(mentioned) if i in names.index},
        "top_choice": top,
        "top_k": int(top_k),
        "top_k_by_method": top_lists,
        "rank_agreement": agreement.to_dict(orient="records"),
        "weights_source": sorted(set(weights["source"])),
        "ahp": None
        if ahp is None
        else {
            "consistency_ratio": ahp.consistency_ratio,
            "consistent": ahp.consistent,
            "lambda_max": ahp.lambda_max,
            "message": ahp.message,
        },
        "dominated": ranking.loc[ranking["dominated"], "opportunity_id"].astype(str).tolist(),
        "stability": stab,
        "smallest_weight_change_to_change_top": smallest,
    }


def recommendation_text(
    ranking: pd.DataFrame, summary: dict, x: pd.DataFrame | None = None, spec: pd.DataFrame | None = None
) -> str:
    """A few sentences for leadership: what first, how sure, what would change it, trade-offs.

    ``x`` and ``spec`` (optional) add the trade-off against the runner-up.
    """
    names = ranking.set_index("opportunity_id")["name"]
    top = summary["top_choice"][summary["methods"][0]]
    lines = [_first_choice(summary, names)]
    if summary.get("ahp") and not summary["ahp"]["consistent"]:
        lines.append(
            f"Caution: the weights come from AHP judgements that contradict each other "
            f"(consistency ratio {summary['ahp']['consistency_ratio']:.2f} > 0.10); "
            "settle the comparison named below before acting on this order. " + summary["ahp"]["message"]
        )
    lines.append(_next_in_line(ranking, summary, names, top))
    lines.append(_what_would_change(summary, names))
    lines.append(_dominated_options(ranking, top))
    if x is not None and spec is not None:
        lines.append(_tradeoff(ranking, x, spec, names, top))
    lines.append(_portfolio_view(ranking, names, top))
    return "\n\n".join(line for line in lines if line)


def _first_choice(summary: dict, names: pd.Series) -> str:
    """The first choice of the first method, the methods that agree (or prefer another), and how often it stays
    first under random weightings."""
    methods = summary["methods"]
    m0 = methods[0]
    top = summary["top_choice"][m0]
    agree = len(set(summary["top_choice"].values())) == 1
    st = summary["stability"][m0]
    return (
        f"**First choice: {names[top]} ({top}).** It ranks first by "
        + (
            " and ".join(pr.METHOD_LABELS.get(m, m) for m in methods)
            if agree
            else f"the {pr.METHOD_LABELS.get(m0, m0)}; "
            + ", ".join(
                f"{pr.METHOD_LABELS.get(m, m)} prefers {names[t]} ({t})" for m, t in summary["top_choice"].items() if t != top
            )
        )
        + f", and stays first in {st['p_first_of_top_choice']:.0%} of {st['n_draws']:,} random "
        f"weightings around the agreed weights."
    )


def _next_in_line(ranking: pd.DataFrame, summary: dict, names: pd.Series, top: str) -> str:
    """The rest of the first method's top k, with how often each stays in the top k ("" when none)."""
    k = summary["top_k"]
    others = [i for i in summary["top_k_by_method"][summary["methods"][0]] if i != top]
    if not others:
        return ""
    p = ranking.set_index("opportunity_id")["p_top_k"]
    return "Next in line: " + "; ".join(f"{names[i]} ({i}, in the top {k} in {p[i]:.0%} of weightings)" for i in others) + "."


def _what_would_change(summary: dict, names: pd.Series) -> str:
    """The smallest change of one weight that changes the first choice."""
    sm = summary["smallest_weight_change_to_change_top"]
    if sm is None:
        return "No single weight moved on its own between 0 and 1 changes the first choice."
    verb = "raising" if sm["change"] > 0 else "lowering"
    return (
        f"What would change it: {verb} the weight of {sm['criterion']} from {sm['weight']:.2f} to "
        f"{sm['weight_needed']:.2f} ({abs(sm['change']) * 100:.0f} points) would make "
        f"{names[sm['new_top']]} ({sm['new_top']}) the first choice."
    )


def _dominated_options(ranking: pd.DataFrame, top: str) -> str:
    """The options matched or beaten on every criterion, naming those beaten by more than the first choice."""
    dom = ranking.set_index("opportunity_id")
    dom = dom.loc[dom["dominated"], "dominated_by"]
    if not len(dom):
        return ""
    by_others = [i for i, by in dom.items() if set(by.split(";")) - {top}]
    return (
        f"Dominated options: {len(dom)} option(s) are matched or beaten on every criterion by "
        "another option, whatever the weights. "
        + (
            f"Those beaten by something other than the first choice are the clearest to drop: {', '.join(by_others)}."
            if by_others
            else "All of them are beaten only by the first choice itself."
        )
    )


def _tradeoff(ranking: pd.DataFrame, x: pd.DataFrame, spec: pd.DataFrame, names: pd.Series, top: str) -> str:
    """Where the first choice is ahead of and behind the best-ranked option it does not dominate."""
    by = ranking.set_index("opportunity_id")["dominated_by"].fillna("")
    rivals = [i for i in ranking["opportunity_id"] if i != top and top not in str(by[i]).split(";")]
    if not rivals:
        return ""
    rival = rivals[0]
    t = criterion_tradeoffs(x, spec, top, rival)
    wins = t.index[t["advantage"] > 0].tolist()[:3]
    loses = t.index[t["advantage"] < 0].tolist()[:3]
    return (
        f"Trade-off: the best-ranked option that {names[top]} does not beat on every criterion is "
        f"{names[rival]} ({rival}); {names[top]} is ahead on {', '.join(wins) or 'nothing'}"
        + (f" but behind on {', '.join(loses)}." if loses else ".")
    )


def _portfolio_view(ranking: pd.DataFrame, names: pd.Series, top: str) -> str:
    """The first choice's GE-McKinsey zone and the count of options to invest in and to harvest ("" without zones)."""
    if not ("zone" in ranking.columns and ranking["zone"].ne("not available").all()):
        return ""
    z = ranking.set_index("opportunity_id")["zone"]
    return (
        f"Portfolio view: {names[top]} sits in the '{z[top]}' zone of the GE-McKinsey matrix; "
        f"{int((z == 'invest').sum())} option(s) are in 'invest', {int((z == 'harvest').sum())} in "
        "'harvest'."
    )


def criterion_tradeoffs(x: pd.DataFrame, spec: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Where option ``a`` is better and where worse than ``b``: values and normalised gap per criterion."""
    r = pd.DataFrame(pr.benefit_matrix(x, spec), index=x.index, columns=spec["criterion"].to_numpy())
    out = pd.DataFrame(
        {
            a: x.loc[a].to_numpy(),
            b: x.loc[b].to_numpy(),
            "direction": spec["direction"].to_numpy(),
            "weight": spec["weight"].to_numpy(),
            "advantage": (r.loc[a] - r.loc[b]).to_numpy(),
        },
        index=spec["criterion"].to_numpy(),
    )
    out["weighted_advantage"] = out["advantage"] * out["weight"]
    out.index.name = "criterion"
    return out.sort_values("weighted_advantage", key=np.abs, ascending=False)


# --------------------------------------------------------------------------- findings in words
def weights_text(weights: pd.DataFrame) -> str:
    """Where the weights put the emphasis (by group when the criteria have groups), and where the entropy
    view would put it instead."""
    w = weights.set_index("criterion")
    groups = w["group"].fillna("no group")
    if groups.nunique() > 1 or groups.iloc[0] != "no group":
        by = w.groupby(groups)["weight"].sum().sort_values(ascending=False)
        text = "The weights put " + ", ".join(f"{v:.0%} on {g}" for g, v in by.items()) + "."
    else:
        top = w["weight"].sort_values(ascending=False)
        text = f"The largest weight is on {top.index[0]} ({top.iloc[0]:.0%})."
    if "entropy_weight" in w:
        gain = (w["entropy_weight"] - w["weight"]).sort_values(ascending=False)
        text += (
            f" The entropy view would lean most on {gain.index[0]} ({w.at[gain.index[0], 'entropy_weight']:.0%} "
            f"instead of {w.at[gain.index[0], 'weight']:.0%}), where the options differ most."
        )
    return text


def agreement_text(agreement: pd.DataFrame, scores: pd.DataFrame, names: pd.Series) -> str:
    """Whether the scoring methods agree on the first choice and on the order."""
    if agreement.empty:
        return "One scoring method was used, so there is no second ranking to compare with."
    lines = []
    for _, r in agreement.iterrows():
        a, b = pr.METHOD_LABELS.get(r["method_a"], r["method_a"]), pr.METHOD_LABELS.get(r["method_b"], r["method_b"])
        top_a = scores.index[scores[f"rank_{r['method_a']}"] == 1][0]
        top_b = scores.index[scores[f"rank_{r['method_b']}"] == 1][0]
        first = (
            f"both put {names[top_a]} first" if r["same_top_choice"] else f"the {a} puts {names[top_a]} first, {b} {names[top_b]}"
        )
        lines.append(
            f"The {a} and {b}: {first}; Kendall's tau {r['kendall_tau']:.2f}, Spearman's rho "
            f"{r['spearman_rho']:.2f}, largest shift of one option {r['max_rank_shift']} place(s)."
        )
    return " ".join(lines)


def stability_text(mc: ps.MonteCarloResult, names: pd.Series) -> str:
    """How often the leader stays first and which options hold the top k across the random weightings."""
    t = mc.table.sort_values("p_first", ascending=False)
    lead = t.index[0]
    text = (
        f"{names[lead]} comes first in {t['p_first'].iloc[0]:.0%} of {mc.n_draws:,} weightings"
        + (f", {names[t.index[1]]} in {t['p_first'].iloc[1]:.0%}" if len(t) > 1 and t["p_first"].iloc[1] > 0 else "")
        + "."
    )
    steady = mc.table[mc.table["p_top_k"] >= 0.8].sort_values("p_top_k", ascending=False)
    text += (
        f" In the top {mc.top_k} in at least 80 % of them: "
        + (", ".join(f"{names[i]} ({p:.0%})" for i, p in steady["p_top_k"].items()) if len(steady) else "none")
        + "."
    )
    return text


def flips_text(flips: pd.DataFrame, names: pd.Series) -> str:
    """Which single weights can change the first choice on their own, and by how much."""
    can = flips.dropna(subset=["change"])
    if can.empty:
        return "No single weight, moved on its own anywhere between 0 and 1, changes the first choice."
    parts = [
        f"{r['criterion']} from {r['weight']:.2f} to {r['weight_needed']:.2f} ({names[r['new_top']]} first)"
        for _, r in can.iterrows()
    ]
    return f"{len(can)} of {len(flips)} weights can change the first choice on their own: " + "; ".join(parts) + "."


def views_text(views: pd.DataFrame) -> str:
    """Whether the weightings compared agree on the first choice and on the shortlist."""
    firsts = views.iloc[0]
    same_first = firsts.nunique() == 1
    same_list = len({frozenset(views[c]) for c in views.columns}) == 1
    if same_first and same_list:
        return f"All {views.shape[1]} weightings give the same first choice ({firsts.iloc[0]}) and the same shortlist."
    only = sorted({v for c in views.columns for v in views[c] if sum(v in set(views[o]) for o in views.columns) == 1})
    return (
        f"All weightings put {firsts.iloc[0]} first"
        if same_first
        else "The first choice depends on the weighting: " + ", ".join(f"{c}: {v}" for c, v in firsts.items())
    ) + (f"; options in only one shortlist: {', '.join(only)}." if only else ".")


def portfolio_text(portfolio: pd.DataFrame, names: pd.Series) -> str:
    """Zones of the GE-McKinsey matrix and the expected-value leader, when those views exist."""
    lines = []
    z = portfolio["zone"]
    if z.ne("not available").any():
        lines.append(
            f"{int((z == 'invest').sum())} option(s) sit in 'invest', {int((z == 'selective').sum())} in "
            f"'selective' and {int((z == 'harvest').sum())} in 'harvest'."
        )
    if "expected_value" in portfolio.columns and portfolio["expected_value"].notna().any():
        ev = portfolio["expected_value"].sort_values(ascending=False)
        lead = ev.index[0]
        ratio = ev.iloc[0] / ev.iloc[1] if len(ev) > 1 and ev.iloc[1] > 0 else np.nan
        lines.append(
            f"The largest expected value is {names[lead]}'s ({ev.iloc[0]:,.2f}"
            + (f", {ratio:.1f} times the next" if np.isfinite(ratio) else "")
            + ")"
            + (f", in the '{z[lead]}' zone." if z[lead] != "not available" else ".")
        )
    return " ".join(lines)


def display_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds for ``reporting.tables.table`` where a column's name misleads: value per investment is a ratio,
    and the expected value is in the criteria's own units (not money unless they are)."""
    kinds = {"value_per_investment": "ratio", "expected_value": "number"}
    return {c: k for c, k in kinds.items() if c in frame.columns}


# ----------------------------------------------------------------------------- chart captions
# Each caption says what the chart shows and how to read it, then one figure of this run computed here.


def ranking_caption(scores: pd.DataFrame, highlight: int = 5) -> str:
    """Caption of :func:`marksell.prioritisation.plots.ranking_comparison`."""
    ranks = scores[[c for c in scores.columns if c.startswith("rank_")]]
    methods = " and ".join(pr.METHOD_LABELS.get(c[5:], c[5:]) for c in ranks.columns)
    text = (
        f"Each option's rank under {methods} (1 = best, at the top); options in the top {highlight} of any "
        "method are coloured and named."
    )
    if ranks.shape[1] < 2:
        return text
    same = int((ranks.nunique(axis=1) == 1).sum())
    return (
        text + " A level line keeps its place whichever method scores it; crossing lines show where the "
        f"methods disagree. Here {same} of {len(ranks)} options take the same rank under every method."
    )


def stability_caption(mc: ps.MonteCarloResult, names: pd.Series) -> str:
    """Caption of :func:`marksell.prioritisation.plots.rank_stability`."""
    lead = mc.table["p_first"].idxmax()
    return (
        f"One row per leading option, one column per rank: each cell is the share of {mc.n_draws:,} random "
        f"weightings around the agreed weights ({pr.METHOD_LABELS.get(mc.method, mc.method)}) in which the "
        "option takes that rank, darker for more often. A row with one dark cell keeps its place whatever the "
        f"weights; a smeared row depends on them. Here {names.get(lead, lead)} comes first in "
        f"{mc.table.at[lead, 'p_first']:.0%} of the weightings."
    )


def sweep_caption(flips: pd.DataFrame) -> str:
    """Caption of :func:`marksell.prioritisation.plots.sweep_chart` (``flips``: ``weight_change_to_flip``)."""
    can = int(flips["change"].notna().sum())
    return (
        "One panel per criterion: the rank (1 = best, at the top) of the leading options as that criterion's "
        "weight moves from 0 to 1, the other weights keeping their proportions; the dashed line is the agreed "
        "weight. Where another option's line reaches rank 1, that weight changes the first choice. Here "
        f"{can} of {len(flips)} weights can change the first choice on their own."
    )


def portfolio_caption(portfolio: pd.DataFrame, size_col: str = "market_size") -> str:
    """Caption of :func:`marksell.prioritisation.plots.ge_bubble_matrix`."""
    z = portfolio["zone"]
    size = f"bubble area is {size_col}" if size_col in portfolio.columns else "bubbles are all the same size"
    return (
        "Each bubble is an option: ability to win across, market attractiveness up, both rescaled to this "
        f"list of options and split into thirds; {size}. Shaded cells: invest (green, top right), selective "
        "(amber, the diagonal), harvest (red, bottom left); the leading options are marked by id and named "
        f"beside the chart. Here {int((z == 'invest').sum())} option(s) sit in invest, "
        f"{int((z == 'selective').sum())} in selective and {int((z == 'harvest').sum())} in harvest."
    )
