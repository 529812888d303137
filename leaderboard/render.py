"""Render results as a leaderboard: Markdown or tidy CSV (HTML: :mod:`.html_report`).

Runs are grouped by (model, dataset, preset, view, official); each metric is shown as the
mean over seeds with a 95% Student-t confidence interval of that mean,
``mean ± t(0.975, n-1) · s / sqrt(n)`` (``s`` the sample standard deviation of the ``n``
seeds' values). Each seed is one whole replication (training and its own samples), so this
interval holds both sources of variation; with the 2-5 seeds a benchmark affords, a
percentile bootstrap of the seed values under-covers badly (with 3 seeds it cannot reach
beyond their range), the t interval does not. With one seed the interval is that run's
own 95% bootstrap interval over its samples (the scorer's ``<metric>_ci_low``/``_ci_high``),
when the scorer gave one.

A run is scored in its model's ``view`` (``melody`` lines or ``full`` pieces): each
(dataset, view) is a track with its own real-data reference row. A track shows its headline
table (:mod:`.headline`), then the full tables by family (one row per metric, one column
per model); the papers' published figures follow with citations, and a glossary
(:mod:`.glossary`). Official runs (``leaderboard/results/official.jsonl``) are never
averaged with the user's own runs of the same settings: rows carry ``official``.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musebench.datasets.views import VIEWS
from musebench.leaderboard.format import cell
from musebench.leaderboard.glossary import glossary_markdown
from musebench.leaderboard.headline import closeness_note, headline_rows
from musebench.leaderboard.listening import listening_markdown
from musebench.leaderboard.performance import performance_markdown
from musebench.metrics.info import FAMILIES, heading, info

#: What the tables' signs mean, said once above them.
LEGEND = ("Each cell is the mean over seeds ± the half-width of its 95% interval (Student t "
          "over seeds; one seed: the run's bootstrap over its samples). ↑ higher is better, "
          "↓ lower is better, ≈ real: closer to the real data's value is better. Δ is the "
          "difference to the real data. **Bold**: best, beyond the runner-up's interval; "
          "ties within the intervals are not marked.")


def view_rank(view: str) -> tuple[int, str]:
    """Sort key of a view (or a :func:`shown_view`): :data:`~musebench.datasets.views.VIEWS`
    in their order first, unknown views after, by name (rows without a ``view`` are
    ``full``)."""
    base = view.split(",")[0]
    return (VIEWS.index(base) if base in VIEWS else len(VIEWS), view)


@dataclass
class Entry:
    """One leaderboard line: a group of runs (or one reference row) and its statistics."""

    model: str
    dataset: str
    preset: str
    kind: str
    seeds: int
    stats: dict[str, tuple[float, float, float]]  # metric -> (mean, ci low, ci high)
    source: str = ""
    folders: list[Path] = field(default_factory=list)
    kept: list[list[Path]] = field(default_factory=list)  # per run: its committed samples
    figures: list[list[Path]] = field(default_factory=list)  # per run: its model's figures
    view: str = "full"
    official: bool = False
    runs: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)  # (seed, metrics)


def run_folder(row: dict[str, Any]) -> Path | None:
    """The row's run folder; a relative ``folder`` is relative to the results store that
    held the row (``store_dir``, set when the store is read for the leaderboard)."""
    if not row.get("folder"):
        return None
    folder = Path(row["folder"])
    return folder if folder.is_absolute() else Path(row.get("store_dir", ".")) / folder


def kept_samples(row: dict[str, Any]) -> list[Path]:
    """The MIDI samples committed with an official row (its ``samples``, relative to the
    store that held it), which every checkout has, unlike the run folder of the machine
    that made the row."""
    return [Path(row.get("store_dir", ".")) / name for name in row.get("samples") or []]


def run_figures(row: dict[str, Any]) -> list[Path]:
    """The figures a model drew of its samples (``MusicGenerator.write_figures``, e.g. the
    LSTM with attention's attention maps): those committed with an official row (its
    ``figures``, relative to its store), else the PNGs of its run folder's ``figures/``."""
    if row.get("figures"):
        return [Path(row.get("store_dir", ".")) / name for name in row["figures"]]
    folder = run_folder(row)
    return sorted((folder / "figures").glob("*.png")) if folder is not None else []


def seed_interval(values: np.ndarray) -> tuple[float, float]:
    """95% Student-t interval of the mean of ``values`` (one per seed; NaNs dropped):
    ``mean ± t(0.975, n-1) · s / sqrt(n)``. A point for one value, NaN for none."""
    from scipy import stats

    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if len(values) == 1:
        return mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean - half, mean + half


def _value(metrics: dict[str, Any], name: str) -> float:
    value = metrics.get(name)
    return math.nan if value is None else float(value)


def _stats(metric_rows: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    """metric -> (mean, low, high) over the rows (seeds); see the module docstring."""
    names = list(dict.fromkeys(k for m in metric_rows for k in m))
    stats = {}
    for name in names:
        values = np.array([_value(m, name) for m in metric_rows])
        finite = values[np.isfinite(values)]
        mean = float(finite.mean()) if len(finite) else math.nan
        low, high = seed_interval(values)
        if len(metric_rows) == 1 and math.isfinite(mean):
            own = (_value(metric_rows[0], f"{name}_ci_low"), _value(metric_rows[0], f"{name}_ci_high"))
            low, high = own if all(map(math.isfinite, own)) else (low, high)
        stats[name] = (mean, low, high)
    return stats


def shown_view(row: dict[str, Any]) -> str:
    """The view a row is compared in: its ``view`` (``full`` for rows before views), with
    its scored length where it has one (``melody, first 32 beats``), so rows scored over
    different spans never share a table or a real-data reference."""
    view = str(row.get("view", "full"))
    beats = row.get("score_beats")
    return view if beats is None else f"{view}, first {beats} beats"


def aggregate(rows: list[dict[str, Any]], dataset: str | None = None) -> list[Entry]:
    """Group run rows by (model, dataset, preset, :func:`shown_view`); reference rows stay
    one entry each.
    Entries are ordered by dataset, then view, the reference before the runs of its view,
    official runs before the user's own.

    Args:
        rows: store rows and reference rows (``kind`` ``reference``/``published``).
        dataset: keep only this dataset.
    """
    groups: dict[tuple[str, str, str, str, bool], list[dict[str, Any]]] = defaultdict(list)
    entries = []
    for row in rows:
        if dataset and row["dataset"] != dataset:
            continue
        kind = row.get("kind", "run")
        if kind != "run":
            entries.append(Entry(row["model"], row["dataset"], str(row["preset"]), kind, 0,
                                 _stats([row["metrics"]]), row.get("source", ""),
                                 view=shown_view(row), runs=[(None, row["metrics"])]))
            continue
        groups[(row["model"], row["dataset"], str(row["preset"]), shown_view(row),
                bool(row.get("official")))].append(row)
    for (model, data, preset, view, official), runs in sorted(groups.items()):
        entries.append(Entry(model, data, preset, "run", len({r["seed"] for r in runs}),
                             _stats([r["metrics"] for r in runs]),
                             folders=[f for r in runs if (f := run_folder(r))],
                             kept=[kept_samples(r) for r in runs],
                             figures=[run_figures(r) for r in runs],
                             view=view, official=official,
                             runs=[(r["seed"], r["metrics"]) for r in runs]))
    order = {"reference": 0, "run": 1, "published": 2}
    return sorted(entries, key=lambda e: (e.dataset, e.kind == "published", view_rank(e.view),
                                          order.get(e.kind, 3), not e.official))


def table_entries(entries: list[Entry], dataset: str) -> list[Entry]:
    """The columns of ``dataset``'s table: its runs, and the reference of each view they
    are scored in (every reference when there are no runs); published figures left out."""
    shown = [e for e in entries if e.dataset == dataset and e.kind != "published"]
    views = {e.view for e in shown if e.kind == "run"}
    return [e for e in shown if e.kind != "reference" or not views or e.view in views]


#: Suffixes of the scorer's per-run companions of a metric, not shown as metrics of their own.
AUXILIARY = ("_ci_low", "_ci_high", "_undefined")


def metric_names(entries: list[Entry]) -> list[str]:
    """Every metric of the entries in first-seen order (the scorer's order), companions
    (``_ci_low`` …) left out."""
    seen = dict.fromkeys(k for e in entries for k in e.stats if not k.endswith(AUXILIARY))
    return list(seen)


def published_lines(entries: list[Entry]) -> list[tuple[str, list[str]]]:
    """(label, cells) of the published entries, one line each, their own metrics only."""
    names = metric_names(entries)
    return [(e.model, [cell(e.stats.get(n)) for n in names] + [e.source]) for e in entries]


def label(entry: Entry) -> str:
    if entry.kind == "run":
        official = ", official" if entry.official else ""
        return (f"{entry.model} ({entry.preset}, {entry.seeds} "
                f"seed{'s' * (entry.seeds != 1)}{official})")
    return entry.model if entry.kind != "published" else f"{entry.model} [published]"


def families(names: list[str]) -> list[tuple[str, list[str]]]:
    """``names`` grouped by :data:`~musebench.metrics.info.FAMILIES`, in that order
    (unknown families last); empty families left out."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for name in names:
        grouped[info(name).family].append(name)
    order = [*FAMILIES, *sorted(set(grouped) - set(FAMILIES))]
    return [(family, grouped[family]) for family in order if grouped.get(family)]


def tracks(entries: list[Entry]) -> list[tuple[str, str, list[Entry]]]:
    """(dataset, view, entries) of every track: its reference row, runs and any other rows
    (ceilings) of that view; published figures left out."""
    out = []
    for data in sorted({e.dataset for e in entries}):
        shown = table_entries(entries, data)
        for view in sorted({e.view for e in shown}, key=view_rank):
            out.append((data, view, [e for e in shown if e.view == view]))
    return out


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---" * len(header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def headline_markdown(shown: list[Entry]) -> list[str]:
    """The headline table of one track, best cells in bold, then the closeness note."""
    header, rows, flags = headline_rows(shown, label)
    if len(header) == 1:
        return []
    rows = [[f"**{text}**" if best else text for text, best in zip(row, marks, strict=True)]
            for row, marks in zip(rows, flags, strict=True)]
    note = closeness_note(shown)
    return [*_md_table(header, rows), *([note, ""] if note else [])]


def to_markdown(entries: list[Entry], performance: dict[str, Any] | None = None,
                listening: dict[str, Any] | None = None, notes: list[str] | None = None) -> str:
    """Per track (dataset and view): the headline table, then the full tables by family
    (one row per metric, one column per row of the track), then the published figures
    for the dataset with their citations, then the glossary. With ``listening`` (the
    arena's ranking) a Listening section follows, with ``performance`` (``make perf``'s
    JSON) a Performance section (:mod:`musebench.leaderboard.performance`); ``notes``:
    sentences shown first (e.g. which rows are official)."""
    out = [*(f"{note}\n" for note in notes or []), LEGEND, ""]
    for data in sorted({e.dataset for e in entries}):
        out.append(f"## {data}\n")
        for _, view, shown in tracks([e for e in entries if e.dataset == data]):
            out.append(f"### {data}, {view} view: headline\n")
            out += headline_markdown(shown)
            for family, names in families(metric_names(shown)):
                out.append(f"#### {family}\n")
                out += _md_table(["metric", *map(label, shown)],
                                 [[heading(n), *(cell(e.stats.get(n)) for e in shown)]
                                  for n in names])
        published = [e for e in entries if e.dataset == data and e.kind == "published"]
        if published:
            names = metric_names(published)
            out.append("Published figures:\n")
            out += _md_table(["model", *names, "source"],
                             [[label, *cells] for label, cells in published_lines(published)])
    out.append(glossary_markdown(metric_names(entries)))
    if listening:
        out.append(listening_markdown(listening))
    if performance:
        out.append(performance_markdown(performance))
    return "\n".join(out) + "\n"


TIDY_COLUMNS = ("model", "dataset", "seed", "metric", "value", "ci_low", "ci_high", "preset",
                "view", "kind", "official")


def to_csv(entries: list[Entry]) -> str:
    """Tidy CSV: one line per (model, dataset, seed, metric) with value, ci_low, ci_high
    (a run's own bootstrap interval over its samples; reference and published rows have
    an empty seed), then preset, view, kind and whether the row is official. Companion
    keys (``_ci_low`` …) are columns, not metrics."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIDY_COLUMNS)
    for e in entries:
        for seed, metrics in e.runs:
            for name in (k for k in metrics if not k.endswith(AUXILIARY)):
                value = _value(metrics, name)
                low, high = (_value(metrics, f"{name}_ci_low"), _value(metrics, f"{name}_ci_high"))
                writer.writerow([e.model, e.dataset, "" if seed is None else seed, name,
                                 *(("" if math.isnan(v) else repr(v)) for v in (value, low, high)),
                                 e.preset, e.view, e.kind, e.official])
    return buffer.getvalue()
