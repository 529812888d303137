"""The result of a listening study: ratings with intervals, votes, agreement, sanity.

:func:`summarise` turns the vote table into one JSON-able dict, which ``musebench arena
ranking``, ``GET /api/ranking`` and the leaderboard's Listening section all show:

- ``systems``: per system its Bradley–Terry ``rating`` with the 95% bootstrap interval
  ``ci_low``-``ci_high`` (:mod:`musebench.arena.bradley_terry`, ties half a win each way),
  and its ``votes``, ``wins``, ``ties`` and ``losses``; best first.
- ``agreement``: of all pairs of votes by two different raters on the same two systems,
  the share that agree (same system preferred, or both a tie); None without such pairs.
  Chance level is about 1/3 to 1/2 depending on how often raters say "about the same".
- ``sanity``: the sanity pairs (real data against the baseline) voted on and the share in
  which the real data was preferred; ``flagged_raters`` lists raters who preferred it in
  fewer than half of their sanity pairs (inattentive listeners worth a look).
  Sanity pairs count in the fit like any vote (they are real comparisons); with
  ``exclude_flagged`` the flagged raters' votes are left out of everything but ``sanity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from musebench.arena.bradley_terry import fit
from musebench.arena.db import Vote

#: The first system's score for each choice.
SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5}


def agreement(pair_keys: np.ndarray, raters: np.ndarray, outcomes: np.ndarray) -> float | None:
    """Share of agreeing pairs among vote pairs of different raters on the same system pair.

    Args:
        pair_keys: per vote, an id of its unordered system pair.
        raters: per vote, the rater's id.
        outcomes: per vote, 0/1/2 = the pair's first system, a tie, its second system.
    """
    agree = total = 0.0
    for key in np.unique(pair_keys):
        here = pair_keys == key
        _, rater_index = np.unique(raters[here], return_inverse=True)
        counts = np.zeros((rater_index.max() + 1, 3))
        np.add.at(counts, (rater_index, outcomes[here]), 1)
        # pairs of votes from different raters: all pairs minus same-rater pairs
        per_outcome = counts.sum(axis=0)
        agree += ((per_outcome**2).sum() - (counts**2).sum()) / 2
        total += (per_outcome.sum() ** 2 - (counts.sum(axis=1) ** 2).sum()) / 2
    return float(agree / total) if total else None


def sanity_summary(votes: Sequence[Vote]) -> dict[str, Any]:
    """Sanity pairs voted on, the share passed, and the raters who failed half or more."""
    checks = [(v.rater, (v.a_system if v.choice == "a" else
                         v.b_system if v.choice == "b" else None) == v.sanity_winner)
              for v in votes if v.sanity_winner is not None]
    by_rater: dict[str, list[bool]] = {}
    for rater, passed in checks:
        by_rater.setdefault(rater, []).append(passed)
    return {"pairs": len(checks),
            "passed": float(np.mean([p for _, p in checks])) if checks else None,
            "flagged_raters": sorted(r for r, results in by_rater.items()
                                     if np.mean(results) < 0.5)}


def summarise(votes: Sequence[Vote], systems: Sequence[str] = (), n_boot: int = 1000,
              seed: int = 0, exclude_flagged: bool = False) -> dict[str, Any]:
    """The study's result (see the module docstring).

    Args:
        votes: the vote table.
        systems: systems to list even without votes (the study's systems).
        n_boot: bootstrap replicates of the intervals.
        seed: the bootstrap's seed (the same votes give the same intervals).
        exclude_flagged: leave out every vote of the raters that sanity pairs flag
            (``excluded_raters`` lists them; ``sanity`` still reports everyone).
    """
    sanity = sanity_summary(votes)
    excluded = sanity["flagged_raters"] if exclude_flagged else []
    votes = [v for v in votes if v.rater not in excluded]
    names = sorted(set(systems) | {v.a_system for v in votes} | {v.b_system for v in votes})
    index = {name: i for i, name in enumerate(names)}
    first = np.array([index[v.a_system] for v in votes], dtype=int)
    second = np.array([index[v.b_system] for v in votes], dtype=int)
    score = np.array([SCORES[v.choice] for v in votes], dtype=float)
    result = fit(first, second, score, len(names), n_boot=n_boot, seed=seed)
    rows = []
    for i, name in enumerate(names):
        mine = np.concatenate([score[first == i], 1 - score[second == i]])
        rows.append({"system": name, "rating": round(float(result.rating[i]), 1),
                     "ci_low": round(float(result.ci_low[i]), 1),
                     "ci_high": round(float(result.ci_high[i]), 1),
                     "votes": int(len(mine)), "wins": int((mine == 1).sum()),
                     "ties": int((mine == 0.5).sum()), "losses": int((mine == 0).sum())})
    rows.sort(key=lambda row: -row["rating"])
    low, high = np.minimum(first, second), np.maximum(first, second)
    # outcome relative to the unordered pair's lower-index system: 0 it won, 1 tie, 2 lost
    lower_score = np.where(first == low, score, 1 - score)
    outcomes = np.select([lower_score == 1, lower_score == 0.5], [0, 1], 2)
    raters = np.array([v.rater for v in votes], dtype=object)
    last = max((v.voted_at for v in votes), default=None)
    return {
        "date": (last or datetime.now(UTC)).date().isoformat(),
        "votes": len(votes),
        "raters": len(set(raters.tolist())),
        "systems": rows,
        "agreement": agreement(low * len(names) + high, raters, outcomes) if len(votes) else None,
        "sanity": sanity,
        "excluded_raters": excluded,
    }


def to_text(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table for the terminal."""
    lines = [f"listening study: {summary['votes']} votes by {summary['raters']} raters "
             f"(last vote {summary['date']})",
             f"{'system':<32} {'rating':>7} {'95% CI':>15} {'votes':>6} {'W/T/L':>12}"]
    for row in summary["systems"]:
        lines.append(f"{row['system']:<32} {row['rating']:>7.0f} "
                     f"{row['ci_low']:>7.0f}-{row['ci_high']:<7.0f} {row['votes']:>6} "
                     f"{row['wins']:>4}/{row['ties']}/{row['losses']}")
    share = summary["agreement"]
    lines.append("agreement between raters: " + ("n/a" if share is None else f"{share:.0%}"))
    sanity = summary["sanity"]
    if sanity["pairs"]:
        lines.append(f"sanity pairs passed: {sanity['passed']:.0%} of {sanity['pairs']}"
                     + (f"; flagged raters: {', '.join(sanity['flagged_raters'])}"
                        if sanity["flagged_raters"] else ""))
    else:
        lines.append("sanity pairs passed: none voted on yet")
    if summary["excluded_raters"]:
        lines.append(f"left out: the votes of {', '.join(summary['excluded_raters'])}")
    return "\n".join(lines) + "\n"
