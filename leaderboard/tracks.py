"""The official per-track tables' content: for each (track, dataset), the real data, every
model of the track, and each model's representation ceiling, one row each, with the mean
and 95 % interval over seeds of each headline metric.

:func:`track_table` returns a :class:`pandas.DataFrame` (the renderer draws it; numbers,
not strings): columns ``row``, ``kind`` (``reference``, ``published``, ``run``,
``stale``, ``ceiling``), ``seeds``, ``train_minutes`` (a run's median training time
over its seeds, from each row's ``train_seconds``: what the equal budget bought, on the
machine and load the row was made on; empty for other lines),
then ``<metric>``, ``<metric>_ci_low``, ``<metric>_ci_high`` per headline metric. Over
two or more seeds the interval is Student's t over the seeds' values; a single seed keeps
that run's own bootstrap interval (its row's ``_ci_low`` / ``_ci_high``).
:func:`markdown` is a plain drawing of it for ``musebench leaderboard --official``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from musebench.leaderboard.headline import ranking


def _over_seeds(values: list[dict[str, Any]], metric: str) -> tuple[float, float, float]:
    """(mean, low, high) of ``metric`` over the seeds' metric dicts."""
    points = np.array([v.get(metric) for v in values if v.get(metric) is not None], dtype=float)
    points = points[np.isfinite(points)]
    if len(points) == 0:
        return math.nan, math.nan, math.nan
    if len(points) == 1:
        only = next(v for v in values if v.get(metric) is not None)
        low, high = only.get(f"{metric}_ci_low"), only.get(f"{metric}_ci_high")
        return (float(points[0]), float(low) if low is not None else math.nan,
                float(high) if high is not None else math.nan)
    mean = float(points.mean())
    half = float(stats.t.ppf(0.975, len(points) - 1) * points.std(ddof=1) / math.sqrt(len(points)))
    return mean, mean - half, mean + half


def _line(name: str, kind: str, values: list[dict[str, Any]],
          headline: list[str], seconds: list[float] | None = None) -> dict[str, Any]:
    known = [float(x) for x in seconds or [] if x is not None]
    line: dict[str, Any] = {"row": name, "kind": kind, "seeds": len(values),
                            "train_minutes": float(np.median(known)) / 60 if known else math.nan}
    for metric in headline:
        line[metric], line[f"{metric}_ci_low"], line[f"{metric}_ci_high"] = _over_seeds(
            values, metric)
    return line


def _group(row: dict[str, Any], stale: bool) -> str:
    """The name ``row`` is averaged under: its model, apart as ``(trial)`` when made from
    uncommitted code and as ``(stale)`` when its code or config changed since."""
    name = row["model"] if row.get("clean_tree", True) else f"{row['model']} (trial)"
    return f"{name} (stale)" if stale else name


def track_table(rows: list[dict[str, Any]], track: str, dataset: str, headline: list[str],
                reference: dict[str, Any] | None = None,
                published: list[dict[str, Any]] | None = None,
                stale: list[bool] | None = None) -> pd.DataFrame:
    """The table of ``track`` on ``dataset`` from the official ``rows`` (those with that
    ``track`` and ``dataset``), the real-data ``reference`` row first, then per model
    (sorted) its run and its ceiling. Rows of a trial from uncommitted code
    (``clean_tree`` false, never in the official store) are grouped apart as
    ``<model> (trial)``, and rows flagged in ``stale`` (one flag per row of ``rows``:
    made by code or a config that has changed since,
    :func:`musebench.experiments.official.stale_rows`) as ``<model> (stale)``, so neither
    is ever averaged with current rows. The ``published`` rows (the papers' figures,
    :func:`~musebench.leaderboard.reference.published_rows`) follow the reference as
    ``<model> (published)``."""
    flags = stale if stale is not None else [False] * len(rows)
    mine = [dict(r, model=_group(r, flag), stale=flag) for r, flag in zip(rows, flags, strict=True)
            if r.get("track") == track and r.get("dataset") == dataset]
    lines = []
    if reference is not None:
        lines.append(_line(str(reference.get("model", "real data")), "reference",
                           [reference["metrics"]], headline))
    lines += [_line(f"{r['model']} (published)", "published", [r["metrics"]], headline)
              for r in published or [] if r.get("dataset") == dataset]
    for model in sorted({r["model"] for r in mine}):
        runs = [r for r in mine if r["model"] == model]
        lines.append(_line(model, "stale" if runs[0]["stale"] else "run",
                           [r["metrics"] for r in runs], headline,
                           [r.get("train_seconds") for r in runs]))
        ceilings = [r["ceiling"] for r in runs if r.get("ceiling")]
        if ceilings:
            lines.append(_line(f"{model} (ceiling)", "ceiling", ceilings, headline))
    return pd.DataFrame(lines, columns=["row", "kind", "seeds", "train_minutes", *[
        f"{m}{s}" for m in headline for s in ("", "_ci_low", "_ci_high")]])


def interval_text(mean: float, low: float, high: float) -> str:
    """``mean [low, high]`` to three decimals; ``mean`` alone without an interval; a dash
    where there is no value."""
    if not np.isfinite(mean):
        return "–"
    if np.isfinite(low) and np.isfinite(high):
        return f"{mean:.3f} [{low:.3f}, {high:.3f}]"
    return f"{mean:.3f}"


#: The share of a run's seeds flagged ``collapsed`` from which :func:`verdicts` leaves it out.
COLLAPSED_SHARE = 0.5


def verdicts(table: pd.DataFrame, headline: list[str]) -> list[str]:
    """Who wins each headline metric of ``table`` among its current runs (not ceilings,
    stale rows or published figures): the best beyond the runner-up's interval, as the
    report marks it in bold (:func:`~musebench.leaderboard.headline.ranking`; "closer to
    the real data" metrics against the real-data row), else the runs whose intervals
    overlap the best's. Metrics that cannot be ranked (no direction, no real value to be
    close to, fewer than two runs) are left out. A run collapsed in at least half its seeds
    (mean ``collapsed`` >= :data:`COLLAPSED_SHARE`, where the track reports it) is not
    ranked: a generator that gives one answer whatever its noise is no contender, however
    its few notes score (C-RNN-GAN's one held note on the classical set is "in key"); a
    last entry names it."""
    reference = table[table["kind"] == "reference"]
    runs = table[table["kind"] == "run"]
    collapsed = (runs["collapsed"] >= COLLAPSED_SHARE if "collapsed" in runs.columns
                 else pd.Series(False, index=runs.index))
    left_out = list(runs.loc[collapsed, "row"])
    runs = runs.loc[~collapsed]
    said = []
    for metric in headline:
        real = float(reference.iloc[0][metric]) if len(reference) else None
        ranked = ranking([(line["row"], (line[metric], line[f"{metric}_ci_low"],
                                         line[f"{metric}_ci_high"]))
                          for _, line in runs.iterrows()], metric, real)
        if len(ranked) < 2:
            continue
        (best, name), (runner_up, second) = ranked[0], ranked[1]
        if best[2] < runner_up[1]:
            said.append(f"{metric}: {name}, beyond {second}'s interval")
        else:
            tied = [other for badness, other in ranked if badness[1] <= best[2]]
            said.append(f"{metric}: no single best; {', '.join(tied)} overlap")
    if left_out:
        said.append(f"not ranked, collapsed in at least half their seeds: {', '.join(left_out)}")
    return said


def markdown(table: pd.DataFrame, headline: list[str], title: str) -> str:
    """``table`` as a Markdown section headed ``title``, then who wins each metric
    (:func:`verdicts`)."""
    head = ["row", "seeds", "train min", *headline]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for _, line in table.iterrows():
        minutes = line["train_minutes"]
        cells = [str(line["row"]), str(line["seeds"]),
                 f"{minutes:.1f}" if np.isfinite(minutes) else "–", *[
            interval_text(line[m], line[f"{m}_ci_low"], line[f"{m}_ci_high"]) for m in headline]]
        lines.append("| " + " | ".join(cells) + " |")
    said = verdicts(table, headline)
    if said:
        lines += ["", "Best (95 % intervals): " + "; ".join(said) + "."]
    return "\n".join(lines) + "\n"
