"""The glossary of the report: every metric shown, with meaning, formula, direction and
source, generated from the metric docstrings and :mod:`musebench.metrics.info`."""

from __future__ import annotations

import html

from musebench.metrics.info import ARROWS, CLOSENESS_DEFINITION, info, meaning

HEADER = ("metric", "family", "direction", "meaning", "formula", "source")
DIRECTIONS = {"higher": "↑ higher", "lower": "↓ lower", "real": "≈ real (closer is better)",
              "none": "count, not ranked"}


def glossary_rows(names: list[str]) -> list[list[str]]:
    """One line per metric, sorted by name: the columns of :data:`HEADER`."""
    rows = []
    for name in sorted(set(names)):
        entry = info(name)
        rows.append([name, entry.family, DIRECTIONS.get(entry.direction, ARROWS[entry.direction]),
                     meaning(name), entry.formula or "–", entry.source])
    return rows


def glossary_markdown(names: list[str]) -> str:
    """The glossary as a Markdown section."""
    lines = ["## Glossary\n", CLOSENESS_DEFINITION + "\n",
             "| " + " | ".join(HEADER) + " |", "|---" * len(HEADER) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in glossary_rows(names)]
    return "\n".join(lines) + "\n"


def glossary_html(names: list[str]) -> str:
    """The glossary as an HTML section (``id="glossary"``)."""
    head = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join(f'<tr id="m-{html.escape(row[0])}">'
                   + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                   for row in glossary_rows(names))
    return (f'<h2 id="glossary">Glossary</h2><p>{html.escape(CLOSENESS_DEFINITION)}</p>'
            f'<table class="glossary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            "</table>")
