"""The official results inside each model card (``docs/models/<card>.md``), written from the
checked-in official store so a card can never quote a number the store does not hold.

A card marks where its results go and which registered models they cover::

    <!-- official-results: midinet midinet_model2 midinet_model1 -->
    ...written by ``musebench leaderboard --cards``...
    <!-- /official-results -->

:func:`results_block` draws, per (track, dataset) where one of those models has rows, one
table: the track's headline metrics down the side, each model's run and its representation
ceiling across (mean and 95 % interval over seeds, as the README's track tables:
:func:`musebench.leaderboard.tracks.track_table`), then per model its seeds, the commits
the rows were made at, the training budget and minutes a run, and which rows no longer
match today's code or config (a row's config and code hash against what the grid would
record now, :func:`musebench.experiments.official.stale_rows`): those are stale, shown
in a column of their own (never averaged with current rows) until the grid re-runs them.
:func:`update_cards` rewrites every marked block; ``tests/experiments/test_model_cards.py``
checks that the committed cards equal what it writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musebench.experiments.official import code_hash, stale_rows
from musebench.experiments.tracks import Protocol
from musebench.leaderboard.tracks import interval_text, track_table

CARDS = Path(__file__).resolve().parent.parent / "docs" / "models"
BLOCK = re.compile(r"(<!-- official-results: (?P<models>[\w ]+?) -->\n)(?P<body>.*?)"
                   r"(<!-- /official-results -->)", re.DOTALL)


def card_models(text: str) -> list[list[str]]:
    """The model lists of every official-results block of a card's ``text``."""
    return [m.group("models").split() for m in BLOCK.finditer(text)]


def _seeds(rows: list[dict[str, Any]]) -> str:
    """``seed 0`` or ``seeds 0, 1``."""
    seeds = sorted(r["seed"] for r in rows)
    return f"seed{'s' if len(seeds) > 1 else ''} " + ", ".join(str(s) for s in seeds)


def _budget(rows: list[dict[str, Any]]) -> str:
    """The training budget of ``rows`` (all of one cell config when current)."""
    budgets = {(b.get("max_epochs"), b.get("timesteps_per_epoch"), b.get("epoch_share"))
               for r in rows for b in [r.get("budget") or {}]}
    parts = []
    for epochs, per_epoch, share in sorted(budgets, key=str):
        if not epochs:
            parts.append("no training (counts from the training split)")
        elif per_epoch:
            share_text = f" x {share:.3g} of its batches" if share and share < 1 else ""
            parts.append(f"{epochs} epochs{share_text} of {per_epoch:,} time steps")
        else:
            parts.append(f"{epochs} epochs (made before budgets in time steps)")
    minutes = [r["budget"]["minutes"] for r in rows if (r.get("budget") or {}).get("minutes")]
    spent = (f"; {min(minutes):.1f}-{max(minutes):.1f} min a run" if len(minutes) > 1
             else f"; {minutes[0]:.1f} min" if minutes else "")
    return " / ".join(parts) + spent


def _length(rows: list[dict[str, Any]]) -> str:
    """What ``rows`` scored: their track's first ``score_beats`` beats of samples of
    ``sample_beats`` beats (the median generated); empty for rows made before both."""
    scored = sorted({r["score_beats"] for r in rows if r.get("score_beats")})
    made = [r["sample_beats"] for r in rows if r.get("sample_beats") is not None]
    if not scored:
        return ""
    beats = "/".join(str(b) for b in scored)
    span = (f" of samples of {min(made):g}-{max(made):g} beats" if made and min(made) != max(made)
            else f" of samples of {made[0]:g} beats" if made else "")
    return f"; scored over their first {beats} beats{span}"


def _provenance(model: str, rows: list[dict[str, Any]], stale: list[dict[str, Any]]) -> str:
    commits = sorted({r["git_commit"][:7] for r in rows})
    line = (f"- `{model}`: {_seeds(rows)} at commit{'s' if len(commits) > 1 else ''} "
            f"{', '.join(f'`{c}`' for c in commits)}; {_budget(rows)}{_length(rows)}.")
    if stale:
        line += (f" **Stale** (made by code or a config that has changed since; shown apart "
                 f"as `{model} (stale)` until the grid re-runs them): {_seeds(stale)}.")
    return line


def results_block(rows: list[dict[str, Any]], models: list[str], protocol: Protocol,
                  hasher: Callable[[str, str, str], str] = code_hash) -> str:
    """The Markdown of one card's block: ``models``' official ``rows``, per track and
    dataset of ``protocol``; a sentence where none of them has a row yet."""
    parts = []
    for track in protocol.tracks:
        for dataset in track.datasets:
            mine = [r for r in rows if r.get("track") == track.name
                    and r.get("dataset") == dataset and r.get("model") in models]
            if not mine:
                continue
            headline = list(track.headline)
            flags = stale_rows(mine, protocol, hasher)
            table = track_table(mine, track.name, dataset, headline,
                                stale=flags).set_index("row")
            columns = [name for model in models
                       for name in (model, f"{model} (ceiling)", f"{model} (stale)")
                       if name in table.index]
            lines = [f"**{track.title}: `{dataset}`** (mean and 95 % interval over seeds; "
                     "one seed: its bootstrap interval)", "",
                     "| metric | " + " | ".join(f"`{c}`" for c in columns) + " |",
                     "|---|" + "---|" * len(columns)]
            for metric in headline:
                cells = [interval_text(table.at[c, metric], table.at[c, f"{metric}_ci_low"],
                               table.at[c, f"{metric}_ci_high"]) for c in columns]
                lines.append(f"| {metric} | " + " | ".join(cells) + " |")
            lines.append("")
            for model in models:
                theirs = [(r, flag) for r, flag in zip(mine, flags, strict=True)
                          if r["model"] == model]
                if theirs:
                    lines.append(_provenance(model, [r for r, _ in theirs],
                                             [r for r, flag in theirs if flag]))
            parts.append("\n".join(lines) + "\n")
    if not parts:
        return ("No official row yet for " + ", ".join(f"`{m}`" for m in models)
                + ": the grid (`make official`) has not reached it.\n")
    return "\n".join(parts)


def update_cards(rows: list[dict[str, Any]], protocol: Protocol, folder: Path = CARDS,
                 hasher: Callable[[str, str, str], str] = code_hash,
                 write: bool = True) -> list[Path]:
    """Rewrite every official-results block of the cards in ``folder`` from ``rows``; the
    cards whose text changed (written only when ``write``)."""
    changed = []
    for card in sorted(folder.glob("*.md")):
        text = card.read_text(encoding="utf-8")
        new = BLOCK.sub(lambda m: m.group(1) + results_block(
            rows, m.group("models").split(), protocol, hasher) + m.group(4), text)
        if new != text:
            changed.append(card)
            if write:
                card.write_text(new, encoding="utf-8")
    return changed
