"""Give every scored piece the chords of the piece that conditioned it, as that piece has them.

Chord-aware metrics (chord conformance, chord-tone ratio) read a Piece's own ``chords``.
A model's decoder may rebuild chords from its own representation (MidiNet's codec turns
its 13-value vector back into one triad per bar), which would score its samples against
other chords than the real data's. So before scoring, the bench gives sample ``i`` the
chords of ``conditions[i % len(conditions)]`` (the order in which
:meth:`~musebench.models.MusicGenerator.generate` cycles them), per beat and of every
quality, and the same for the representation ceiling's pieces: every row of a table,
real data, samples and ceilings alike, is scored against the conditioning pieces' own
chords. An unconditional model's samples are paired with the test pieces the same way,
so their chord figures are the chance level of a model that ignores chords.

Times are rescaled when the sample's grid differs from the condition's; a sample longer
than its condition gets the condition's chords repeated, bar-aligned, as MidiNet reuses
them.
"""

from __future__ import annotations

import numpy as np

from musebench.datasets.piece import CHORD_DTYPE, Piece


def condition_chords(condition: Piece, steps_per_beat: int, n_steps: int) -> np.ndarray:
    """``condition``'s chords on a grid of ``steps_per_beat`` steps per beat (times
    rounded down), covering ``n_steps`` steps (repeated every ``condition.n_bars`` bars
    where the condition is shorter; cut at ``n_steps``)."""
    chords = condition.chords
    source, target = condition.steps_per_beat, steps_per_beat
    start = chords["start"].astype(np.int64) * target // source
    duration = np.maximum(chords["duration"].astype(np.int64) * target // source, 1)
    period = max(condition.n_bars, 1) * condition.beats_per_bar * target
    if len(chords) == 0 or n_steps <= 0:
        return np.empty(0, dtype=CHORD_DTYPE)
    copies = -(-n_steps // period)
    offsets = np.repeat(np.arange(copies, dtype=np.int64) * period, len(chords))
    start = np.tile(start, copies) + offsets
    end = np.minimum(start + np.tile(duration, copies), n_steps)
    keep = start < n_steps
    out = np.empty(int(keep.sum()), dtype=CHORD_DTYPE)
    out["start"], out["duration"] = start[keep], (end - start)[keep]
    out["root"] = np.tile(chords["root"], copies)[keep]
    out["quality"] = np.tile(chords["quality"], copies)[keep]
    return out


def with_condition_chords(pieces: list[Piece], conditions: list[Piece]) -> list[Piece]:
    """``pieces`` where piece ``i`` carries the chords and key of
    ``conditions[i % len(conditions)]`` and names it in ``meta['chords_from']`` (not
    ``meta['condition']``, which names what a conditional model followed); the notes are
    unchanged. No conditions: ``pieces`` as they are."""
    if not conditions:
        return list(pieces)
    out = []
    for i, piece in enumerate(pieces):
        condition = conditions[i % len(conditions)]
        chords = condition_chords(condition, piece.steps_per_beat, piece.n_steps)
        out.append(Piece(piece.notes, chords=chords, key=condition.key,
                         steps_per_beat=piece.steps_per_beat, beats_per_bar=piece.beats_per_bar,
                         length=piece.length, meta=dict(piece.meta, chords_from=condition.id)))
    return out
