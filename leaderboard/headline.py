"""The headline of a track: a few metrics, their distance to the real data, and who wins.

Rows are the models of one table (one dataset and view) plus its real-data row and any
ceiling rows (entries of other kinds, shown but never ranked); columns are the
:data:`~musebench.metrics.info.HEADLINE` metrics the rows have, then the overall
closeness to real data (:data:`~musebench.metrics.info.CLOSENESS_DEFINITION`).

Best marking is significance-aware. Each run row gets a *badness* interval per metric:
``−CI`` for ↑ metrics, the CI for ↓ metrics, and for "closer to real is better" the
interval of ``|x − real|`` over its CI (0 when the CI holds the real value). The row with
the lowest point badness is marked best only when its interval lies wholly below the
runner-up's; when they overlap the two are tied and nothing is marked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from musebench.leaderboard.format import Stat, cell, signed
from musebench.metrics.info import CLOSENESS, HEADLINE, heading, info

if TYPE_CHECKING:
    from musebench.leaderboard.render import Entry

T = TypeVar("T")


def distance_interval(stat: Stat, real: float) -> tuple[float, float, float]:
    """(point, low, high) of ``|x − real|`` for ``x`` the mean and over the CI."""
    mean, low, high = stat
    point = abs(mean - real)
    if not (math.isfinite(low) and math.isfinite(high)):
        return point, point, point
    near = 0.0 if low <= real <= high else min(abs(low - real), abs(high - real))
    return point, near, max(abs(low - real), abs(high - real))


def badness(stat: Stat, metric: str, real: float | None) -> tuple[float, float, float] | None:
    """(point, low, high) where lower is better; None when ``metric`` cannot be ranked."""
    direction = info(metric).direction
    mean, low, high = stat
    if not math.isfinite(mean) or direction == "none":
        return None
    low, high = (low, high) if math.isfinite(low) and math.isfinite(high) else (mean, mean)
    if direction == "higher":
        return -mean, -high, -low
    if direction == "lower":
        return mean, low, high
    if real is None or not math.isfinite(real):
        return None
    return distance_interval((mean, low, high), real)


def ranking(stats: list[tuple[T, Stat]], metric: str,
            real: float | None) -> list[tuple[tuple[float, float, float], T]]:
    """``(badness, item)`` of each ``(item, stat)`` that can be ranked on ``metric``, best
    first (:func:`badness`)."""
    return sorted(((b, item) for item, stat in stats
                   if (b := badness(stat, metric, real)) is not None),
                  key=lambda pair: pair[0][0])


def best_entry(entries: list[Entry], metric: str, real: float | None) -> Entry | None:
    """The run entry that is best on ``metric`` beyond the runner-up's CI, else None
    (fewer than two ranked runs, or a tie within the intervals)."""
    ranked = ranking([(e, e.stats[metric]) for e in entries
                      if e.kind == "run" and metric in e.stats], metric, real)
    if len(ranked) < 2:
        return None
    (best, entry), (runner_up, _) = ranked[0], ranked[1]
    return entry if best[2] < runner_up[1] else None


def headline_metrics(entries: list[Entry]) -> list[str]:
    """The headline metrics any run of ``entries`` has, in :data:`HEADLINE` order."""
    return [m for m in HEADLINE if any(m in e.stats and math.isfinite(e.stats[m][0])
                                       for e in entries if e.kind == "run")]


def headline_rows(entries: list[Entry], label: Callable[[Entry], str]
                  ) -> tuple[list[str], list[list[str]], list[list[bool]]]:
    """(header, rows of cell text, rows of best flags) of the headline table.

    A run's cell is ``mean ± half (Δ distance)``: its signed difference to the real data's
    value; the real-data row shows its own values; ``label`` names a row."""
    metrics = headline_metrics(entries)
    reference = next((e for e in entries if e.kind == "reference"), None)
    real = {m: reference.stats[m][0] if reference and m in reference.stats else None
            for m in metrics}
    best = {m: best_entry(entries, m, real[m]) for m in metrics}
    header = ["model", *(heading(m) for m in metrics)]
    rows, flags = [], []
    for e in entries:
        cells, marks = [label(e)], [False]
        for m in metrics:
            text = cell(e.stats.get(m))
            if e.kind != "reference" and real[m] is not None and m in e.stats:
                text += f" (Δ {signed(e.stats[m][0] - real[m])})"
            cells.append(text)
            marks.append(best[m] is e)
        rows.append(cells)
        flags.append(marks)
    return header, rows, flags


def closeness_note(entries: list[Entry]) -> str:
    """Which run is closest to the real data overall (or that none stands out)."""
    winner = best_entry(entries, CLOSENESS, None)
    if winner is not None:
        return (f"Closest to the real data overall: {winner.model} ({CLOSENESS} "
                f"{cell(winner.stats[CLOSENESS])}), beyond the runner-up's 95% interval.")
    if sum(CLOSENESS in e.stats for e in entries if e.kind == "run") >= 2:
        return "No run is closest to the real data beyond the others' 95% intervals."
    return ""
