"""Render results as a leaderboard: Markdown, CSV, or a self-contained HTML report.

Runs are grouped by (model, dataset, preset, view); each metric is shown as the mean over
seeds with a 95% Student-t confidence interval of that mean,
``mean ± t(0.975, n-1) · s / sqrt(n)`` (``s`` the sample standard deviation of the ``n``
seeds' values). Each seed is one whole replication (training and its own samples), so this
interval holds both sources of variation; with the 2-5 seeds a benchmark affords, a
percentile bootstrap of the seed values under-covers badly (with 3 seeds it cannot reach
beyond their range), the t interval does not. With one seed the interval is that run's
own 95% bootstrap interval over its samples (the scorer's ``<metric>_ci_low``/``_ci_high``),
when the scorer gave one.
Tables have one row per metric and one column per model. A run is scored in its model's
``view`` (``melody`` lines or ``full`` pieces), so each dataset shows one real-data
reference column per view of its runs, first, followed by the models of that view; the
papers' published figures follow in a table of their own, with citations.

The HTML report embeds everything (tables, a bar chart per metric with CI whiskers, the
latest run's piano-roll grid and audio of each group) as base64, so it opens anywhere.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musebench.datasets.views import VIEWS
from musebench.leaderboard.listening import listening_html, listening_markdown
from musebench.leaderboard.performance import performance_html, performance_markdown


def view_rank(view: str) -> tuple[int, str]:
    """Sort key of a view: :data:`~musebench.datasets.views.VIEWS` in their order first,
    unknown views after, by name (rows without a ``view`` are ``full``)."""
    return (VIEWS.index(view) if view in VIEWS else len(VIEWS), view)


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
    folders: list[str] = field(default_factory=list)
    view: str = "full"


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


def aggregate(rows: list[dict[str, Any]], dataset: str | None = None) -> list[Entry]:
    """Group run rows by (model, dataset, preset, view); reference rows stay one entry each.
    Entries are ordered by dataset, then view, the reference before the runs of its view.

    Args:
        rows: store rows and reference rows (``kind`` ``reference``/``published``).
        dataset: keep only this dataset.
    """
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    entries = []
    for row in rows:
        if dataset and row["dataset"] != dataset:
            continue
        kind = row.get("kind", "run")
        if kind != "run":
            entries.append(Entry(row["model"], row["dataset"], str(row["preset"]), kind, 0,
                                 _stats([row["metrics"]]), row.get("source", ""),
                                 view=row.get("view", "full")))
            continue
        groups[(row["model"], row["dataset"], str(row["preset"]),
                row.get("view", "full"))].append(row)
    for (model, data, preset, view), runs in sorted(groups.items()):
        entries.append(Entry(model, data, preset, "run", len({r["seed"] for r in runs}),
                             _stats([r["metrics"] for r in runs]),
                             folders=[r["folder"] for r in runs if r.get("folder")],
                             view=view))
    order = {"reference": 0, "run": 1, "published": 2}
    return sorted(entries, key=lambda e: (e.dataset, e.kind == "published", view_rank(e.view),
                                          order.get(e.kind, 3)))


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


def cell(stat: tuple[float, float, float] | None) -> str:
    """``mean ± half-width`` (just the mean when the interval is a point; '–' if absent)."""
    if stat is None or not math.isfinite(stat[0]):
        return "–"
    mean, low, high = stat
    half = (high - low) / 2
    return f"{mean:.4g}" if not half > 0 else f"{mean:.4g} ± {half:.2g}"


def _label(entry: Entry) -> str:
    if entry.kind == "run":
        return f"{entry.model} ({entry.preset}, {entry.seeds} seed{'s' * (entry.seeds != 1)})"
    return entry.model if entry.kind == "reference" else f"{entry.model} [published]"


def _published_lines(entries: list[Entry]) -> list[tuple[str, list[str]]]:
    """(label, cells) of the published entries, one line each, their own metrics only."""
    names = metric_names(entries)
    return [(e.model, [cell(e.stats.get(n)) for n in names] + [e.source]) for e in entries]


def to_markdown(entries: list[Entry], performance: dict[str, Any] | None = None,
                listening: dict[str, Any] | None = None) -> str:
    """Per dataset: a table with one row per metric and one column per model (each view's
    reference before the models of that view), then the published figures for that dataset with their citations.
    With ``performance`` (``make perf``'s JSON) a Performance section follows
    (:mod:`musebench.leaderboard.performance`); with ``listening`` (the arena's ranking),
    a Listening section (:mod:`musebench.leaderboard.listening`) after the tables."""
    out = []
    for data in sorted({e.dataset for e in entries}):
        shown = table_entries(entries, data)
        published = [e for e in entries if e.dataset == data and e.kind == "published"]
        out.append(f"### {data}\n")
        if shown:
            out.append("| metric | " + " | ".join(_label(e) for e in shown) + " |")
            out.append("|---|" + "---|" * len(shown))
            for name in metric_names(shown):
                out.append(f"| {name} | " + " | ".join(cell(e.stats.get(name)) for e in shown)
                           + " |")
            out.append("")
        if published:
            names = metric_names(published)
            out.append("Published figures:\n")
            out.append("| model | " + " | ".join(names) + " | source |")
            out.append("|---|" + "---|" * (len(names) + 1))
            out += [f"| {label} | " + " | ".join(cells) + " |"
                    for label, cells in _published_lines(published)]
            out.append("")
    if listening:
        out.append(listening_markdown(listening))
    if performance:
        out.append(performance_markdown(performance))
    return "\n".join(out) + "\n"


def to_csv(entries: list[Entry]) -> str:
    """Long CSV: one line per (entry, metric) with mean and CI bounds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "dataset", "preset", "kind", "seeds", "metric", "mean",
                     "ci_low", "ci_high", "source", "view"])
    for e in entries:
        for name, (mean, low, high) in sorted(e.stats.items()):
            writer.writerow([e.model, e.dataset, e.preset, e.kind, e.seeds, name, mean, low,
                             high, e.source, e.view])
    return buffer.getvalue()


def _png_base64(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def bar_chart(entries: list[Entry], metric: str) -> str | None:
    """A base64 PNG bar chart of ``metric`` over ``entries`` with CI whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [e for e in entries if metric in e.stats and math.isfinite(e.stats[metric][0])]
    if not shown:
        return None
    means = np.array([e.stats[metric][0] for e in shown])
    lows = np.array([e.stats[metric][1] for e in shown])
    highs = np.array([e.stats[metric][2] for e in shown])
    errors = np.nan_to_num(np.stack([means - lows, highs - means]).clip(min=0))
    colours = ["tab:gray" if e.kind != "run" else "tab:blue" for e in shown]
    fig, ax = plt.subplots(figsize=(5, 0.4 * len(shown) + 1), dpi=80)
    ax.barh(range(len(shown)), means, xerr=errors, color=colours, capsize=3)
    ax.set_yticks(range(len(shown)), [_label(e) for e in shown], fontsize=7)
    ax.set_title(metric, fontsize=9)
    ax.invert_yaxis()
    fig.tight_layout()
    encoded = _png_base64(fig)
    plt.close(fig)
    return encoded


def _embed_file(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _samples_html(entry: Entry) -> str:
    """The latest run's grid image and up to four audio players of ``entry``."""
    for folder in reversed(entry.folders):
        samples = Path(folder) / "samples"
        if (samples / "grid.png").is_file():
            parts = [f'<img class="roll" alt="samples of {html.escape(entry.model)}" '
                     f'src="{_embed_file(samples / "grid.png", "image/png")}">']
            parts += [f'<audio controls src="{_embed_file(wav, "audio/wav")}"></audio>'
                      for wav in sorted(samples.glob("*.wav"))[:4]]
            return "\n".join(parts)
    return "<p>(no samples on this machine)</p>"


def _html_table(header: list[str], rows: list[list[str]], classes: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(f'<tr class="{c}">' + "".join(f"<td>{html.escape(v)}</td>" for v in row)
                   + "</tr>" for row, c in zip(rows, classes, strict=True))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(entries: list[Entry], title: str = "musebench leaderboard",
            performance: dict[str, Any] | None = None,
            listening: dict[str, Any] | None = None) -> str:
    """A self-contained HTML report: per dataset, the table, bar charts and samples; then,
    with ``listening`` (the arena's ranking), the Listening section, and with
    ``performance`` (``make perf``'s JSON), the Performance section."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for data in sorted({e.dataset for e in entries}):
        shown = table_entries(entries, data)
        published = [e for e in entries if e.dataset == data and e.kind == "published"]
        body.append(f"<h2>{html.escape(data)}</h2>")
        names = metric_names(shown)
        if shown:
            body.append(_html_table(["metric", *map(_label, shown)],
                                    [[n, *(cell(e.stats.get(n)) for e in shown)] for n in names],
                                    ["metric"] * len(names)))
        if published:
            pub_names = metric_names(published)
            body.append("<h3>Published figures</h3>" + _html_table(
                ["model", *pub_names, "source"],
                [[label, *cells] for label, cells in _published_lines(published)],
                ["published"] * len(published)))
        body.append("<div class=charts>")
        for name in names:
            chart = bar_chart(shown, name)
            if chart:
                body.append(f'<img class="chart" alt="{html.escape(name)}" '
                            f'src="data:image/png;base64,{chart}">')
        body.append("</div>")
        for e in (e for e in shown if e.kind == "run"):
            body.append(f"<h3>Samples: {html.escape(_label(e))}</h3>{_samples_html(e)}")
    if listening:
        body.append(listening_html(listening))
    if performance:
        body.append(performance_html(performance))
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
             "font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}"
             "tr.published{background:#f3f3f3}img.roll{max-width:100%}"
             ".charts img{margin:4px}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n")


RENDERERS = {"md": to_markdown, "csv": to_csv, "html": to_html}
