"""The HTML report: per track the headline table with its charts, the full tables by
family, the samples (piano rolls, labelled players, MIDI links), then the published
figures, the glossary, and the Listening and Performance sections.

Tables and piano rolls are embedded; audio and MIDI are files in an asset folder beside
the page (``<page>_files/``), linked, so a report with every official row stays small.
Charts are drawn for the headline metrics only, each with the real data's value as a
dashed reference line.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from musebench.leaderboard.format import cell
from musebench.leaderboard.glossary import glossary_html
from musebench.leaderboard.headline import closeness_note, headline_metrics, headline_rows
from musebench.leaderboard.listening import listening_html
from musebench.leaderboard.media import samples_html
from musebench.leaderboard.performance import performance_html
from musebench.leaderboard.render import (
    LEGEND,
    Entry,
    families,
    label,
    metric_names,
    published_lines,
    tracks,
)
from musebench.metrics.info import heading

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:"
         "collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}"
         "td.best{font-weight:bold;background:#e6f4e6}tr.reference{background:#f3f3f3}"
         "tr.published{background:#f3f3f3}img.roll{max-width:100%}.charts img{margin:4px}"
         "figure.model-figure img{max-width:48%}"
         "ul.players{list-style:none;padding:0}ul.players li{margin:4px 0}"
         "span.label{display:inline-block;min-width:24em}")


def bar_chart(entries: list[Entry], metric: str) -> str | None:
    """A base64 PNG bar chart of ``metric`` over the runs with CI whiskers and the real
    data's value as a dashed line; None when no run has it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [e for e in entries if e.kind == "run" and metric in e.stats
             and math.isfinite(e.stats[metric][0])]
    if not shown:
        return None
    means = np.array([e.stats[metric][0] for e in shown])
    bounds = np.array([e.stats[metric][1:] for e in shown])
    errors = np.nan_to_num(np.stack([means - bounds[:, 0], bounds[:, 1] - means]).clip(min=0))
    fig, ax = plt.subplots(figsize=(4.5, 0.35 * len(shown) + 1.1), dpi=80)
    ax.barh(range(len(shown)), means, xerr=errors, color="tab:blue", capsize=3)
    ax.set_yticks(range(len(shown)), [e.model for e in shown], fontsize=7)
    reference = next((e for e in entries if e.kind == "reference" and metric in e.stats), None)
    if reference is not None and math.isfinite(reference.stats[metric][0]):
        ax.axvline(reference.stats[metric][0], color="black", linestyle="--", linewidth=1,
                   label="real data")
        ax.legend(fontsize=6, loc="lower right")
    ax.set_title(heading(metric), fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.invert_yaxis()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _table(header: list[str], rows: list[list[str]], row_classes: list[str],
           best: list[list[bool]] | None = None, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, (row, kind) in enumerate(zip(rows, row_classes, strict=True)):
        cells = "".join(f"<td{' class=best' if best and best[i][j] else ''}>{html.escape(v)}"
                        "</td>" for j, v in enumerate(row))
        body.append(f'<tr class="{kind}">{cells}</tr>')
    return (f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")


def track_html(data: str, view: str, shown: list[Entry], assets: Path | None) -> str:
    """One track: headline table, closeness note, charts, family tables, samples."""
    out = [f'<h2 id="{html.escape(data)}-{html.escape(view)}">{html.escape(data)}, '
           f"{html.escape(view)} view</h2>"]
    header, rows, flags = headline_rows(shown, label)
    if len(header) > 1:
        out.append("<h3>Headline</h3>" + _table(header, rows, [e.kind for e in shown], flags,
                                                 "headline"))
        note = closeness_note(shown)
        out.append(f"<p>{html.escape(note)}</p>" if note else "")
        charts = [(m, bar_chart(shown, m)) for m in headline_metrics(shown)]
        out.append("<div class=charts>" + "".join(
            f'<img class="chart" alt="{html.escape(m)}" src="data:image/png;base64,{c}">'
            for m, c in charts if c) + "</div>")
    out.append("<h3>All metrics, by family</h3>")
    for family, names in families(metric_names(shown)):
        out.append(f"<h4>{html.escape(family)}</h4>" + _table(
            ["metric", *map(label, shown)],
            [[heading(n), *(cell(e.stats.get(n)) for e in shown)] for n in names],
            ["metric"] * len(names), css="family"))
    runs = [(e, label(e)) for e in shown if e.kind == "run"]
    if runs:
        out.append(samples_html(runs, assets))
    return "\n".join(out)


def to_html(entries: list[Entry], title: str = "musebench leaderboard",
            performance: dict[str, Any] | None = None,
            listening: dict[str, Any] | None = None, assets: Path | None = None,
            notes: list[str] | None = None) -> str:
    """The report page (see the module docstring); ``assets``: the folder for audio and
    MIDI beside the page (None: no players); ``notes``: sentences shown under the title
    (e.g. which rows are official)."""
    body = [f"<h1>{html.escape(title)}</h1>",
            *(f"<p class=note>{html.escape(n)}</p>" for n in notes or []),
            f"<p>{html.escape(LEGEND.replace('**Bold**', 'Bold green'))} "
            '<a href="#glossary">Glossary</a>.</p>']
    for data in sorted({e.dataset for e in entries}):
        for _, view, shown in tracks([e for e in entries if e.dataset == data]):
            body.append(track_html(data, view, shown, assets))
        published = [e for e in entries if e.dataset == data and e.kind == "published"]
        if published:
            body.append(f"<h3>Published figures, {html.escape(data)}</h3>" + _table(
                ["model", *metric_names(published), "source"],
                [[label, *cells] for label, cells in published_lines(published)],
                ["published"] * len(published)))
    body.append(glossary_html(metric_names(entries)))
    if listening:
        body.append(listening_html(listening))
    if performance:
        body.append(performance_html(performance))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
