"""One call from data to every result of an experiment: health, effects, sequential, Bayes, plan, decision."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.errors import DataContractError
from marksell.experiments import bayes, decision, effects, health, power, segments, sequential, validate
from marksell.experiments.stats import Metric, Moments, moments_from_aggregates, unit_moments


@dataclass
class ExperimentRun:
    """Everything :func:`run_experiment` found; ``notes`` say in one line what was skipped and why."""

    control: str
    variants: list[str]
    metrics: list[Metric]
    primary_metric: str
    alpha: float
    moments: Moments
    results: pd.DataFrame
    health: pd.DataFrame
    guardrails: pd.DataFrame
    decisions: pd.DataFrame
    power: pd.DataFrame
    srm: dict
    looks: pd.DataFrame | None = None
    first_significant: pd.DataFrame | None = None
    segment_effects: pd.DataFrame | None = None
    heterogeneity: pd.DataFrame | None = None
    prior: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _counts(moments: Moments) -> dict[str, int]:
    first = moments.table.drop_duplicates("variant")
    return {str(v): int(n) for v, n in zip(first["variant"], first["n"])}


def _plan_rows(
    run_moments: Moments,
    results: pd.DataFrame,
    control: str,
    primary: str,
    split: np.ndarray,
    variants: list[str],
    alpha: float,
    power_target: float,
    traffic_per_day: float,
) -> pd.DataFrame:
    est = effects.estimates(run_moments.table, cuped=False)
    c = est[(est["variant"] == control) & (est["metric"] == primary)].iloc[0]
    shares = dict(zip(variants, split))
    treat_share = float(np.mean([s for v, s in shares.items() if v != control]))
    baseline = float(c["estimate"])
    sd = float(np.sqrt(c["unit_var"]))
    table = power.plan(
        primary,
        baseline,
        sd,
        traffic_per_day,
        float(shares[control]),
        treat_share,
        alpha=alpha,
        power=power_target,
        current_control_units=float(c["n"]),
    )
    prim = results[results["metric"] == primary]
    if prim["cuped"].any():
        reduction = float(prim["variance_reduction"].mean())
        adjusted = power.plan(
            primary,
            baseline,
            sd * np.sqrt(max(1 - reduction, 1e-12)),
            traffic_per_day,
            float(shares[control]),
            treat_share,
            alpha=alpha,
            power=power_target,
            current_control_units=float(c["n"]),
        )
        adjusted["basis"] = adjusted["basis"] + " with CUPED"
        table = pd.concat([table, adjusted], ignore_index=True)
    return table


@dataclass
class _Input:
    """The experiment's data after checking: unit rows (``None`` for a summary table) and their moments."""

    units: pd.DataFrame | None
    moments: Moments
    metrics: list[Metric]
    crossovers: int = 0
    exposure: dict | None = None


def _summary_input(data: pd.DataFrame, control: str, metrics, source: str, notes: list[str]) -> _Input:
    validate.check_aggregates(data, control, source)
    moments = moments_from_aggregates(data, kinds=metrics if isinstance(metrics, dict) else None)
    if metrics:
        wanted = list(metrics)
        moments.metrics = [m for m in moments.metrics if m.name in wanted]
        moments.table = moments.table[moments.table["metric"].isin(wanted)].reset_index(drop=True)
    notes.append(
        "Summary table input (n, sum, sum_sq): no unit rows, so no CUPED, ratio metrics, "
        "segments, crossover check or sequential looks."
    )
    return _Input(None, moments, moments.metrics)


def _unit_input(
    data: pd.DataFrame,
    control: str,
    metrics,
    covariates,
    segment_cols: list,
    drop_crossovers: bool,
    cols: dict,
    source: str,
    notes: list[str],
) -> _Input:
    unit_col, variant_col, time_col = cols["unit"], cols["variant"], cols["time"]
    exclude = {unit_col, variant_col, time_col, "experiment", *segment_cols}
    metric_list = validate.parse_metrics(data, metrics, covariates, exclude)
    data, crossovers = validate.check_units(
        data,
        metric_list,
        control,
        source,
        variant_col=variant_col,
        unit_col=unit_col if unit_col in data.columns else None,
        covariates=covariates,
        segments=segment_cols,
        drop_crossovers=drop_crossovers,
    )
    variants = sorted({str(v) for v in data[variant_col].dropna().unique()})
    variants = [str(control)] + [v for v in variants if v != str(control)]
    moments = unit_moments(data, metric_list, variant_col, variants)
    exposure = None
    if time_col in data.columns:
        days = pd.to_datetime(data[time_col]).dt.normalize()
        exposure = health.exposure_balance(days, data[variant_col].astype(str))
    else:
        notes.append(f"No '{time_col}' column: exposure balance over time and sequential looks skipped.")
    return _Input(data, moments, metric_list, crossovers, exposure)


def _check_choice(names: list[str], primary: str, guardrails: dict, source: str) -> None:
    """The primary metric and the guardrails are among the metrics."""
    if primary not in names:
        raise DataContractError(
            source,
            "experiment",
            [
                {
                    "column": primary,
                    "expected": "the primary metric among the metrics",
                    "found": f"metrics {names}",
                    "fix": "set `primary_metric` to one of them",
                }
            ],
        )
    unknown = [g for g in guardrails if g not in names]
    if unknown:
        raise DataContractError(
            source,
            "experiment",
            [
                {
                    "column": g,
                    "expected": "a guardrail among the metrics",
                    "found": f"metrics {names}",
                    "fix": "add it to `metrics` or remove it from `guardrails`",
                }
                for g in unknown
            ],
        )


def _effects(moments: Moments, control: str, primary: str, guardrails: dict, alpha: float, prior, seed: int):
    """The lift table with Bayesian chances and each metric's role."""
    results = effects.adjust(effects.lift_table(moments, control, alpha), primary, alpha)
    chance = bayes.chance_to_beat(results, prior, seed)
    results["prob_beat_control"] = chance["prob_beat_control"]
    results["expected_loss"] = chance["expected_loss"]
    results["prior"] = chance["prior"]
    results["role"] = np.where(
        results["metric"] == primary, "primary", np.where(results["metric"].isin(list(guardrails)), "guardrail", "secondary")
    )
    return results


def run_experiment(
    data: pd.DataFrame,
    control: str,
    metrics=None,
    primary_metric: str = "",
    guardrails: dict | None = None,
    covariates: dict | None = None,
    expected_split: dict | None = None,
    alpha: float = 0.05,
    segment_cols=None,
    sequential_looks: bool = True,
    prior: dict | None = None,
    seed: int = 0,
    min_effect: float = 0.0,
    power_target: float = 0.8,
    traffic_per_day: float = 0.0,
    drop_crossovers: bool = False,
    unit_col: str = "unit_id",
    variant_col: str = "variant",
    time_col: str = "timestamp",
    source: str = "experiment data",
) -> ExperimentRun:
    """Analyse one experiment from unit rows or from a ``variant, metric, n, sum, sum_sq`` table.

    ``metrics``: list or dict (see :func:`validate.parse_metrics`); ``primary_metric``: the one that
    decides (default: the first metric); ``guardrails``: metric -> tolerated relative drop;
    ``covariates``: metric -> pre-period column for CUPED; ``expected_split``: variant -> planned
    share (empty: equal); ``segment_cols``: columns to split effects by; ``sequential_looks``:
    decide on the always-valid interval at the last look (looks over the days of ``time_col`` are
    computed whenever that column exists); ``prior``: see
    :mod:`bayes`; ``min_effect``: the smallest relative lift of the primary metric worth shipping;
    ``traffic_per_day``: eligible units a day for the planner (0 = as observed, when timestamps
    exist).
    """
    notes: list[str] = []
    guardrails = {str(k): float(v) for k, v in (guardrails or {}).items()}
    segment_cols = list(segment_cols or [])
    if validate.is_aggregate(data):
        given = _summary_input(data, control, metrics, source, notes)
    else:
        cols = {"unit": unit_col, "variant": variant_col, "time": time_col}
        given = _unit_input(data, control, metrics, covariates, segment_cols, drop_crossovers, cols, source, notes)
    units, moments, metric_list = given.units, given.moments, given.metrics
    variants = [str(control)] + [v for v in moments.variants if v != str(control)]
    names = [m.name for m in metric_list]
    primary = primary_metric or names[0]
    _check_choice(names, primary, guardrails, source)
    table, srm = _health(moments, variants, expected_split, given, drop_crossovers)
    results = _effects(moments, str(control), primary, guardrails, alpha, prior, seed)
    guard = effects.guardrail_status(results, guardrails)
    looks, first = _sequential_looks(units, metric_list, variants, str(control), alpha, time_col, variant_col)
    traffic_per_day = _traffic_per_day(traffic_per_day, given, time_col, notes)
    seg_levels = seg_q = None
    if segment_cols and units is not None:
        seg_levels, seg_q = segments.segment_effects(units, segment_cols, metric_list, variants, str(control), alpha, variant_col)
    split = health.planned_split(variants, expected_split)
    plan = _plan_rows(moments, results, str(control), primary, split, variants, alpha, power_target, traffic_per_day)
    seq_for_decision = looks[looks["metric"] == primary] if sequential_looks and looks is not None else None
    decisions = decision.decide(results, table, guard, primary, alpha, min_effect, seq_for_decision)
    return ExperimentRun(
        str(control),
        variants,
        metric_list,
        primary,
        alpha,
        moments,
        results,
        table,
        guard,
        decisions,
        plan,
        srm,
        looks,
        first,
        seg_levels,
        seg_q,
        {**bayes.DEFAULT_PRIOR, **(prior or {})},
        notes,
    )


def _health(moments: Moments, variants: list[str], expected_split, given: _Input, drop_crossovers: bool):
    """The health table (sample ratio, crossovers, exposure over time) and the sample-ratio test."""
    counts = _counts(moments)
    table = health.health_table(
        {v: counts[v] for v in variants}, expected_split, given.crossovers, drop_crossovers, given.exposure
    )
    srm = health.sample_ratio({v: counts[v] for v in variants}, expected_split)
    return table, srm


def _sequential_looks(units: pd.DataFrame | None, metric_list, variants, control: str, alpha: float, time_col, variant_col):
    """Always-valid looks over the days of ``time_col`` (Bonferroni over the variants) and each variant's first
    significant look; ``None, None`` without unit rows with timestamps."""
    if units is None or time_col not in units.columns:
        return None, None
    cum = sequential.cumulative_moments(units, metric_list, variants, time_col, variant_col)
    looks = sequential.looks(cum, control, alpha, bonferroni=len(variants) - 1)
    first = sequential.first_significant(looks, alpha / max(len(variants) - 1, 1))
    return looks, first


def _traffic_per_day(traffic_per_day: float, given: _Input, time_col: str, notes: list[str]) -> float:
    """The planner's eligible units a day: as given, else as observed over the exposure days when timestamps exist;
    without either, 0 and a note (the planner then shows units, not days)."""
    units = given.units
    if units is not None and time_col in units.columns and traffic_per_day <= 0:
        traffic_per_day = float(len(units)) / max(given.exposure["days"], 1)
    if traffic_per_day <= 0:
        notes.append("No traffic per day given and no timestamps: the planner shows units, not days.")
    return traffic_per_day
