"""The leaderboard's Listening section: the arena's ranking beside the metric tables.

Renders :func:`musebench.arena.ranking.summarise`'s dict (``musebench leaderboard
--arena DB``) as Markdown or HTML: per system its Bradley–Terry rating with the 95%
bootstrap interval and its votes, then the date of the last vote, the number of raters,
the agreement between raters and the share of sanity pairs passed.
"""

from __future__ import annotations

from typing import Any

from musebench.leaderboard.sections import section_html, section_markdown

HEADER = ("system", "rating", "95% CI", "votes", "wins / ties / losses")


def _lines(summary: dict[str, Any]) -> list[list[str]]:
    return [[row["system"], f"{row['rating']:.0f}", f"{row['ci_low']:.0f}–{row['ci_high']:.0f}",
             str(row["votes"]), f"{row['wins']} / {row['ties']} / {row['losses']}"]
            for row in summary["systems"]]


def caption(summary: dict[str, Any]) -> str:
    """One sentence: votes, raters, date, agreement and sanity pairs."""
    agreement = summary["agreement"]
    sanity = summary["sanity"]
    return (f"Blind pairwise listening test: {summary['votes']} votes by {summary['raters']} "
            f"raters, last vote {summary['date']}. Ratings are Bradley–Terry (1000 = average, "
            "+400 = 10:1 odds of being preferred), with 95% bootstrap intervals over votes. "
            "Agreement between raters: "
            + ("n/a" if agreement is None else f"{agreement:.0%}")
            + "; sanity pairs (real data against the baseline) passed: "
            + (f"{sanity['passed']:.0%} of {sanity['pairs']}." if sanity["pairs"] else "none."))


def listening_markdown(summary: dict[str, Any]) -> str:
    """The Listening section as Markdown."""
    return section_markdown("Listening test", caption(summary), HEADER, _lines(summary))


def listening_html(summary: dict[str, Any]) -> str:
    """The Listening section as HTML."""
    return section_html("Listening test", caption(summary), HEADER, _lines(summary),
                        "listening")
