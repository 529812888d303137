"""The systems of a listening study and their clips, from a results store's rows.

Rows of one model (and preset) are one system; its clips are the ``samples/*.mid`` of its
run folders. The real data is a system too: the test split of the rows' dataset in the
rows' view, loaded and viewed by the same code as the leaderboard's reference rows
(:func:`musebench.datasets.load`, :func:`musebench.models.base.apply_view`). A sample of
a conditional model names its condition (the ``musebench:condition`` MIDI marker), and
the real data's clip of that condition is the conditioning piece itself, so a pair of
the two compares answers to the same question. Every clip is cut to its first ``bars``
bars, so no system is told apart by its length, and is written as MIDI named by the
hash of its content (``<workdir>/clips/<hash>.mid``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musebench.datasets.piece import CHORD_DTYPE, Piece

REAL = "real data"


@dataclass(frozen=True)
class Clip:
    """One stimulus: its system, content hash (``key``), MIDI file and condition."""

    system: str
    key: str
    midi: Path
    condition: str | None = None


@dataclass
class System:
    """A system under test: its clips, and whether they follow a condition (conditional
    models) or are real data."""

    name: str
    clips: list[Clip] = field(default_factory=list)
    conditional: bool = False
    real: bool = False


def write_clip(piece: Piece, system: str, condition: str | None, folder: Path,
               bars: int) -> Clip:
    """``piece`` cut to ``bars`` bars as ``<folder>/<hash>.mid`` (kept if already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    cut = piece.slice(0, min(piece.n_steps, bars * piece.steps_per_bar))
    cut.meta.pop("condition", None)  # the clip itself does not tell its system or pair
    # Only what the system played: the written chord track would be heard under real and
    # conditional clips and not under unconditional ones, telling listeners who is who.
    cut.chords = np.empty(0, dtype=CHORD_DTYPE)
    handle, temporary = tempfile.mkstemp(suffix=".mid", dir=folder)
    os.close(handle)
    data = cut.to_midi(temporary).read_bytes()
    key = hashlib.sha256(data).hexdigest()[:20]
    target = folder / f"{key}.mid"
    os.replace(temporary, target)
    return Clip(system, key, target, condition)


def system_names(rows: list[dict[str, Any]]) -> dict[int, str]:
    """Row index -> system name: the model, with the preset when a model has several."""
    presets = defaultdict(set)
    for row in rows:
        presets[row["model"]].add(str(row["preset"]))
    return {i: row["model"] if len(presets[row["model"]]) == 1
            else f"{row['model']} ({row['preset']})" for i, row in enumerate(rows)}


def real_piece(pieces: dict[str, Piece], condition: str) -> Piece | None:
    """The real piece a condition id names: ``ID``, or ``ID@START`` (a window from step
    START, as :meth:`Piece.slice` names it); None if the test split has no such piece."""
    if condition in pieces:
        return pieces[condition]
    base, _, start = condition.rpartition("@")
    if base in pieces and start.isdigit():
        return pieces[base].slice(int(start), pieces[base].n_steps)
    return None


def study_systems(rows: list[dict[str, Any]], workdir: Path, data_root: Path | None = None,
                  bars: int = 8, clips_per_system: int = 24) -> list[System]:
    """The study's systems: one per model of ``rows`` and the real data of their view.

    Args:
        rows: results-store rows of one dataset (``folder`` with ``samples/*.mid``).
        workdir: where the cut clips are written (``clips/``).
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        bars: clip length in bars.
        clips_per_system: at most this many clips per model (the real data gets one per
            condition of the models' clips, plus this many of its own).

    Raises:
        ValueError: no rows, rows of several datasets or views, or no samples found.
    """
    from musebench.datasets import load
    from musebench.datasets.views import apply_view
    from musebench.models import get_model

    if not rows:
        raise ValueError("the results store has no rows: run `musebench bench` first")
    datasets = sorted({row["dataset"] for row in rows})
    views = sorted({row.get("view", "full") for row in rows})
    if len(datasets) > 1 or len(views) > 1:
        raise ValueError(f"the rows span datasets {datasets} and views {views}; a study "
                         "compares one dataset in one view: choose one with --dataset/--model")
    folder = workdir / "clips"
    names = system_names(rows)
    systems: dict[str, System] = {}
    for i, row in enumerate(rows):
        system = systems.setdefault(names[i], System(names[i]))
        system.conditional = get_model(row["model"]).conditional
        midi = sorted((Path(row.get("folder", "")) / "samples").glob("*.mid"))
        for path in midi[: max(clips_per_system - len(system.clips), 0)]:
            piece = Piece.from_midi(path)
            condition = piece.meta.get("condition") if system.conditional else None
            system.clips.append(write_clip(piece, system.name, condition, folder, bars))
    empty = [name for name, system in systems.items() if not system.clips]
    if empty:
        raise ValueError(f"no samples/*.mid in the run folders of {', '.join(empty)}")
    test = apply_view(load(datasets[0], data_root).test, views[0])
    pieces = {piece.id: piece for piece in test}
    wanted = list(dict.fromkeys([c.condition for s in systems.values() for c in s.clips
                                 if c.condition] + [p.id for p in test[:clips_per_system]]))
    real = System(REAL, real=True)
    for condition in wanted:
        piece = real_piece(pieces, condition)
        if piece is not None:
            real.clips.append(write_clip(piece, REAL, condition, folder, bars))
    return [real, *systems.values()] if real.clips else list(systems.values())
