"""Two results stores side by side: per model, dataset, preset and metric, the difference
of the means over seeds, its 95% interval and whether it is significant.

Each row of a store is one run (one seed). For a (model, dataset, preset) present in
both stores and a metric both report, the difference is ``mean(new) - mean(base)``:

- with at least two runs on each side, its interval is Welch's t interval: standard
  error :math:`\\sqrt{s_b^2/n_b + s_n^2/n_n}`, degrees of freedom by Welch-Satterthwaite
  :math:`(a+b)^2 / (a^2/(n_b-1) + b^2/(n_n-1))` with :math:`a = s_b^2/n_b,\\ b = s_n^2/n_n`
  (method ``welch``). It holds the seed-to-seed variation, which is what a benchmark
  difference must beat;
- with one run on a side, there is no seed variance to use; where the rows carry the
  scorer's bootstrap interval (``<metric>_ci_low`` / ``_ci_high``, over the samples of a
  run), each side's standard error is its mean half-width / 1.96 / sqrt(n), and the
  interval is normal (method ``bootstrap``). It holds the sampling noise only, so it is
  narrower than a seed interval would be;
- otherwise there is no interval (method ``-``) and the difference is never significant.

A difference is significant when its interval excludes 0. :func:`regressions` picks the
significant ones that go the wrong way for the metrics a user names.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

LEVEL = 0.95
#: Keys of a row's ``metrics`` that are not metrics of their own.
_NOT_METRICS: tuple[str, ...] = ("_ci_low", "_ci_high", "_undefined")
_COUNTS: tuple[str, ...] = ("n_samples", "n_reference")

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Difference:
    """One metric of one (model, dataset, preset) in two stores."""

    model: str
    dataset: str
    preset: str
    metric: str
    base: float
    new: float
    n_base: int
    n_new: int
    diff: float
    low: float
    high: float
    p: float
    method: str

    @property
    def significant(self) -> bool:
        return self.method != "-" and (self.low > 0 or self.high < 0)


def _groups(rows: list[dict[str, Any]]) -> dict[Key, list[dict[str, float]]]:
    groups: dict[Key, list[dict[str, float]]] = defaultdict(list)
    for row in rows:
        key = (str(row["model"]), str(row["dataset"]), str(row.get("preset", "-")))
        groups[key].append(row.get("metrics") or {})
    return groups


def _values(runs: list[dict[str, Any]], name: str) -> np.ndarray:
    values = [run.get(name) for run in runs]
    return np.array([v for v in values if isinstance(v, int | float) and math.isfinite(v)],
                    dtype=float)


def welch(base: np.ndarray, new: np.ndarray,
          level: float = LEVEL) -> tuple[float, float, float]:
    """Welch's t interval ``(low, high)`` of ``mean(new) - mean(base)`` and its two-sided
    p-value (both samples of at least two values)."""
    diff = new.mean() - base.mean()
    a, b = base.var(ddof=1) / len(base), new.var(ddof=1) / len(new)
    se = math.sqrt(a + b)
    if se == 0:
        return diff, diff, 1.0 if diff == 0 else 0.0
    df = (a + b) ** 2 / (a * a / (len(base) - 1) + b * b / (len(new) - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return diff - half, diff + half, float(2 * stats.t.sf(abs(diff) / se, df))


def _bootstrap_se(runs: list[dict[str, Any]], name: str, z: float) -> float | None:
    low, high = _values(runs, f"{name}_ci_low"), _values(runs, f"{name}_ci_high")
    if len(low) != len(runs) or len(high) != len(runs):
        return None
    return float(np.mean(high - low)) / 2 / z / math.sqrt(len(runs))


def difference(key: Key, name: str, base_runs: list[dict[str, Any]],
               new_runs: list[dict[str, Any]], level: float = LEVEL) -> Difference | None:
    """The :class:`Difference` of metric ``name`` (None where a side has no value)."""
    base, new = _values(base_runs, name), _values(new_runs, name)
    if len(base) == 0 or len(new) == 0:
        return None
    diff = float(new.mean() - base.mean())
    low, high, p, method = math.nan, math.nan, math.nan, "-"
    if len(base) >= 2 and len(new) >= 2:
        low, high, p = welch(base, new, level)
        method = "welch"
    else:
        z = float(stats.norm.ppf(0.5 + level / 2))
        se_base, se_new = _bootstrap_se(base_runs, name, z), _bootstrap_se(new_runs, name, z)
        if se_base is not None and se_new is not None:
            se = math.hypot(se_base, se_new)
            low, high, method = diff - z * se, diff + z * se, "bootstrap"
            p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float(diff == 0)
    return Difference(*key, name, float(base.mean()), float(new.mean()), len(base), len(new),
                      diff, float(low), float(high), float(p), method)


def compare_stores(base_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]],
                   metrics: list[str] | None = None,
                   level: float = LEVEL) -> tuple[list[Difference], list[Key], list[Key]]:
    """Every shared (model, dataset, preset) and metric: ``(differences, only in base,
    only in new)``. ``metrics`` restricts the metrics (default: all both report)."""
    base, new = _groups(base_rows), _groups(new_rows)
    out = []
    for key in sorted(set(base) & set(new)):
        names = {name for runs in (*base[key], *new[key]) for name in runs
                 if not name.endswith(_NOT_METRICS) and name not in _COUNTS}
        for name in sorted(names if metrics is None else names & set(metrics)):
            found = difference(key, name, base[key], new[key], level)
            if found is not None:
                out.append(found)
    return out, sorted(set(base) - set(new)), sorted(set(new) - set(base))


def parse_rule(rule: str) -> tuple[str, str]:
    """``METRIC`` (any significant change), ``METRIC:higher`` / ``METRIC:lower`` (which way
    is better; a significant change the other way fails) or ``any`` (every metric, either
    way), as ``(metric, direction)``.

    Raises:
        ValueError: an unknown direction (named).
    """
    metric, _, direction = rule.partition(":")
    direction = direction or "either"
    if direction not in ("higher", "lower", "either") or not metric:
        raise ValueError(f"--fail-on {rule!r}: expected METRIC, METRIC:higher, METRIC:lower "
                         "or any")
    return metric, direction


def regressions(differences: list[Difference], rules: list[str]) -> list[Difference]:
    """The significant differences that a rule of ``rules`` (see :func:`parse_rule`)
    counts as a regression."""
    parsed = [parse_rule(rule) for rule in rules]
    bad = []
    for d in differences:
        if not d.significant:
            continue
        for metric, direction in parsed:
            if metric in ("any", d.metric) and (
                    direction == "either" or (direction == "higher") == (d.diff < 0)):
                bad.append(d)
                break
    return bad
