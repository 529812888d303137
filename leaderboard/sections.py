"""A titled table section of the report (heading, one caption line, a table) in Markdown
or HTML: the one layout of the report's side sections (Performance, Listening test), so
each of them only says what its rows and caption are."""

from __future__ import annotations

import html
from collections.abc import Sequence


def section_markdown(title: str, caption: str, header: Sequence[str],
                     rows: Sequence[Sequence[str]]) -> str:
    """``## title``, the caption, then a Markdown table of ``rows`` under ``header``."""
    lines = [f"## {title}\n", caption + "\n",
             "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def section_html(title: str, caption: str, header: Sequence[str],
                 rows: Sequence[Sequence[str]], css_class: str) -> str:
    """The same section as an HTML fragment; every cell is escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    return (f"<h2>{html.escape(title)}</h2><p>{html.escape(caption)}</p>"
            f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")
