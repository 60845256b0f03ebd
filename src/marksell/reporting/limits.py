"""Bounds on what parameters and batch files may ask for, checked before any kernel starts.

- Numbers must be finite (no ``nan``/``inf`` anywhere in a parameter value, nested ones included) and inside
  the range that makes sense for the parameter (:data:`RANGES`); the message names the parameter, the range
  and why.
- Parameters that set the amount of work (draws, clusters, horizons...) have an upper bound too; those who
  mean a larger value say so with ``--allow-large-work`` (``allow_large_work: true`` in a batch file).
- Worker counts (``--jobs``, ``n_jobs``) are capped at the machine's cores, with a note saying so.
- YAML (parameter files, batch files, ``-p`` values) is read with the safe loader, without aliases (a
  500-byte alias bomb expands to gigabytes) and at most :data:`MAX_YAML_BYTES` long.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import yaml

from marksell.errors import ParameterError

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric parameter: ``low``/``high`` (inclusive unless ``open_low``), why, and
    whether ``high`` bounds work (then ``--allow-large-work`` lifts it)."""

    low: float | None
    high: float | None
    why: str
    work: bool = False
    open_low: bool = False

    def describe(self) -> str:
        lo = "" if self.low is None else (f"> {_num(self.low)}" if self.open_low else f">= {_num(self.low)}")
        hi = "" if self.high is None else f"<= {_num(self.high)}"
        return " and ".join(p for p in (lo, hi) if p)


#: Ranges by parameter name (the same name means the same thing in every notebook).
RANGES = {
    "discount_rate": Range(0, 1, "an annual rate as a fraction (0.1 is 10 %)"),
    "gross_margin": Range(0, 1, "a share of revenue (0.3 is 30 %)"),
    "concentration": Range(0, 1e6, "how tightly random weights stay around the given ones", open_low=True),
    "max_price_change": Range(0, 1, "a fraction of today's price (0.2 is 20 %)", open_low=True),
    "seed": Range(0, 2**32 - 1, "random seeds are whole numbers from 0 to 2**32 - 1"),
    "n_draws": Range(1, 200_000, "each draw re-scores every option", work=True),
    "n_clusters": Range(0, 30, "0 chooses automatically; each cluster count is fitted and scored", work=True),
    "top_k": Range(1, 10_000, "the shortlist size"),
    "horizon": Range(1, 520, "periods ahead; every model forecasts each of them", work=True),
    "n_origins": Range(0, 52, "each backtest origin refits every model", work=True),
    "combo_size": Range(1, 10, "models averaged per series"),
    "season_length": Range(0, 366, "periods per season (0: from the frequency)", work=True),
    "clv_horizon_months": Range(1, 240, "months of future value", work=True),
    "recent_weeks": Range(1, 520, "weeks that define today's price"),
    "attribution_months": Range(1, 120, "months of revenue attributed to the acquisition channel"),
    "n_jobs": Range(1, None, "worker processes (capped at the machine's cores)"),
    "n_bootstrap": Range(0, 10_000, "each bootstrap sample refits the model", work=True),
    "interval": Range(0, 0.999, "an interval level as a fraction (0.9 is 90 %)", open_low=True),
    "budget": Range(0, None, "spend per period (0: today's)"),
    "max_lag": Range(0, 520, "periods of carry-over", work=True),
}
#: List parameters whose items must each lie in a range.
ITEM_RANGES = {"interval_levels": Range(0, 100, "prediction interval levels in %", open_low=True)}


def machine_cores() -> int:
    """Cores this process may use (the affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cap_workers(requested: int, what: str) -> tuple[int, str | None]:
    """``requested`` capped at the machine's cores, and a note when it was."""
    cores = machine_cores()
    if requested > cores:
        return cores, f"{what} {requested} capped at {cores} (this machine's cores)"
    return requested, None


def check_values(values: dict, allow_large_work: bool = False) -> tuple[dict, list[str]]:
    """Checked parameter values (``n_jobs`` capped) and notes; one :class:`ParameterError` lists every problem."""
    errors, notes, out = [], [], dict(values)
    for name, value in values.items():
        errors += non_finite(value, name)
        rng = RANGES.get(name)
        if rng and _is_number(value) and math.isfinite(value):
            problem = _outside(name, value, rng, allow_large_work)
            if problem:
                errors.append(problem)
        item_rng = ITEM_RANGES.get(name)
        if item_rng and isinstance(value, list):
            for i, item in enumerate(value):
                if not _is_number(item):
                    errors.append(f"parameter '{name}': item {i + 1} ({item!r}) must be a number ({item_rng.why})")
                elif math.isfinite(item) and _outside(f"{name}[{i + 1}]", item, item_rng, allow_large_work):
                    errors.append(_outside(f"{name}[{i + 1}]", item, item_rng, allow_large_work))
    if not errors and isinstance(out.get("n_jobs"), int) and not isinstance(out["n_jobs"], bool):
        out["n_jobs"], note = cap_workers(out["n_jobs"], "n_jobs")
        if note:
            notes.append(note)
    if errors:
        raise ParameterError("; ".join(errors))
    return out, notes


def non_finite(value, where: str) -> list[str]:
    """A problem for every ``nan``/``inf`` inside ``value`` (lists and mappings searched), naming its place."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"parameter '{where}' is {value!r}; numbers must be finite (not nan or inf)"]
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += non_finite(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += non_finite(v, f"{where}[{i + 1}]")
    return out


def _outside(name: str, value, rng: Range, allow_large_work: bool) -> str | None:
    low_bad = rng.low is not None and (value <= rng.low if rng.open_low else value < rng.low)
    high_bad = rng.high is not None and value > rng.high
    if high_bad and rng.work and allow_large_work:
        high_bad = False
    if not (low_bad or high_bad):
        return None
    msg = f"parameter '{name}' is {_num(value)}; it must be {rng.describe()} ({rng.why})"
    if high_bad and rng.work:
        msg += (
            "; larger values multiply the run time and memory: pass --allow-large-work "
            "(allow_large_work: true in a batch file) if you mean it"
        )
    return msg


def _num(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- YAML without aliases
class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases (``*name``: the alias bomb) and deep nesting."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not allowed; write the value out"
            )
        depth = getattr(self, "_ms_depth", 0)
        if depth > MAX_YAML_DEPTH:
            raise yaml.YAMLError(f"nested more than {MAX_YAML_DEPTH} levels deep")
        self._ms_depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._ms_depth = depth


def load_yaml(text: str, source: str):
    """``text`` read as YAML (safe, no aliases, bounded); :class:`ParameterError` naming ``source`` otherwise."""
    if len(text) > MAX_YAML_BYTES:
        raise ParameterError(f"{source}: {len(text):,} characters of YAML; at most {MAX_YAML_BYTES:,} are read")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ParameterError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise ParameterError(f"{source}: YAML nested too deeply") from None
