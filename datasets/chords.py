"""Chord labels derived from the notes of any polyphonic Piece (template matching).

Sources without chord annotations (Bach chorales, the Boulanger rolls, classical MIDI)
get one chord per beat from this module, so chord-conditioned models (MidiNet) and the
harmony metrics can use them. The method is the classic template matcher of
Fujishima, "Realtime chord recognition of musical sound" (ICMC 1999) applied to a
symbolic pitch-class profile, as in Pardo & Birmingham, "Algorithms for chordal
analysis" (Computer Music Journal 26(2), 2002):

- for each window of ``steps_per_chord`` steps, the duration-weighted pitch-class
  profile ``w[pc]`` = number of (step, sounding pitch) pairs with that pitch class;
- every triad template ``T`` (12 roots x maj/min/dim/aug) scores
  ``score(T) = sum(w[pc] for pc in T) - sum(w[pc] for pc not in T)``
  (Pardo & Birmingham's "positive evidence minus negative evidence"),
  plus a tie-break of half a step for the template whose root is the lowest sounding
  pitch class (the bass) and a smaller one for the order maj > min > dim > aug;
- the best template wins unless fewer than two of its tones sound or its score is not
  positive: then the window is ``other`` with the bass as root;
- a window where nothing sounds gets no chord (a gap: "no chord").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from musebench.datasets.piece import CHORD_DTYPE, QUALITIES, QUALITY_INTERVALS, Piece

TRIADS: tuple[str, ...] = ("maj", "min", "dim", "aug")
BASS_BONUS = 0.5
QUALITY_BONUS = 0.01


def _templates() -> np.ndarray:
    """``(12 * len(TRIADS), 12)`` 0/1 templates; row ``q * 12 + root``."""
    rows = np.zeros((len(TRIADS), 12, 12), dtype=np.float64)
    roots = np.arange(12)
    for q, quality in enumerate(TRIADS):
        for interval in QUALITY_INTERVALS[quality]:
            rows[q, roots, (roots + interval) % 12] = 1.0
    return rows.reshape(-1, 12)


TEMPLATES = _templates()
TEMPLATE_ROOTS = np.tile(np.arange(12), len(TRIADS))
TEMPLATE_QUALITIES = np.repeat([QUALITIES.index(q) for q in TRIADS], 12)
#: ``(128, 12)`` 0/1 matrix folding MIDI pitches onto pitch classes.
PITCH_TO_CLASS = (np.arange(128)[:, None] % 12 == np.arange(12)[None, :]).astype(np.float64)


def derive_chords(piece: Piece, steps_per_chord: int | None = None,
                  merge: bool = False) -> np.ndarray:
    """Chord events derived from the notes of ``piece``, one per window.

    Args:
        piece: any Piece (every track counts).
        steps_per_chord: window length in steps; default one beat (``steps_per_beat``).
        merge: join consecutive windows with the same root and quality into one event.

    Returns:
        A ``CHORD_DTYPE`` array sorted by start; windows where nothing sounds have none.
    """
    window = int(steps_per_chord or piece.steps_per_beat)
    if window < 1:
        raise ValueError(f"{piece.id}: steps_per_chord must be >= 1, got {window}")
    n_steps = piece.n_steps
    if n_steps == 0:
        return np.empty(0, dtype=CHORD_DTYPE)
    n_windows = -(-n_steps // window)
    roll = np.zeros((n_windows * window, 128), dtype=bool)
    roll[:n_steps] = piece.pianoroll()
    roll = roll.reshape(n_windows, window, 128)

    per_pitch = roll.sum(axis=1, dtype=np.float64)            # (W, 128) steps sounding
    profile = per_pitch @ PITCH_TO_CLASS                       # (W, 12) weighted pcs
    sounding = per_pitch.any(axis=1)
    bass = (np.argmax(per_pitch > 0, axis=1) % 12)             # lowest sounding pitch class

    total = profile.sum(axis=1, keepdims=True)
    inside = profile @ TEMPLATES.T                             # (W, 48)
    score = 2.0 * inside - total
    score += BASS_BONUS * (TEMPLATE_ROOTS[None, :] == bass[:, None])
    score += QUALITY_BONUS * (len(TRIADS) - np.arange(len(TRIADS))).repeat(12)[None, :]
    best = np.argmax(score, axis=1)
    tones_present = ((profile > 0).astype(np.float64) @ TEMPLATES.T)[np.arange(n_windows), best]
    raw_score = (2.0 * inside - total)[np.arange(n_windows), best]
    triad = (tones_present >= 2) & (raw_score > 0)

    roots = np.where(triad, TEMPLATE_ROOTS[best], bass)
    qualities = np.where(triad, TEMPLATE_QUALITIES[best], QUALITIES.index("other"))
    starts = np.arange(n_windows) * window
    durations = np.minimum(starts + window, n_steps) - starts

    keep = sounding
    chords = np.empty(int(keep.sum()), dtype=CHORD_DTYPE)
    chords["start"] = starts[keep]
    chords["duration"] = durations[keep]
    chords["root"] = roots[keep]
    chords["quality"] = qualities[keep]
    return merge_equal_chords(chords) if merge else chords


def merge_equal_chords(chords: np.ndarray) -> np.ndarray:
    """Join adjacent chord events (the next starts where the previous ends) that are equal."""
    if len(chords) < 2:
        return chords.copy()
    same = ((chords["root"][1:] == chords["root"][:-1])
            & (chords["quality"][1:] == chords["quality"][:-1])
            & (chords["start"][1:] == chords["start"][:-1] + chords["duration"][:-1]))
    first = np.r_[True, ~same]
    group = np.cumsum(first) - 1
    merged = chords[first].copy()
    ends = np.zeros(len(merged), dtype=np.int64)
    np.maximum.at(ends, group, chords["start"].astype(np.int64) + chords["duration"])
    merged["duration"] = ends - merged["start"]
    return merged


def with_derived_chords(piece: Piece, steps_per_chord: int | None = None,
                        merge: bool = False) -> Piece:
    """A copy of ``piece`` whose ``chords`` are :func:`derive_chords` of its notes."""
    return replace(piece, chords=derive_chords(piece, steps_per_chord, merge),
                   meta=dict(piece.meta, chords_derived=True))
