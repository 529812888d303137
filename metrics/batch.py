"""Batched arrays of a set of Pieces: the one input every metric reads.

Metrics must score tens of thousands of samples, so a set of Pieces is flattened once
into concatenated note columns plus the index of the piece each note belongs to; every
per-piece figure is then a ``np.bincount`` / ``np.add.reduceat`` over those columns, never
a Python loop over notes.

Conventions shared by every metric:
    - Notes beyond a piece's grid (``start >= n_steps``, possible when ``Piece.length``
      is set) are dropped and durations are cut at ``n_steps``, exactly as
      ``Piece.pianoroll()`` does.
    - A per-piece metric returns a float array of shape ``(n_pieces,)`` and ``NaN`` where
      it is undefined for a piece (e.g. an entropy of an empty piece); ``score()`` leaves
      those pieces out of the mean and reports how many there were as
      ``<metric>_undefined``. NaN never reaches a mean silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from musebench.datasets.piece import NOTE_DTYPE, Piece


@dataclass(eq=False)
class NoteBatch:
    """The notes of ``n`` pieces as concatenated columns.

    Attributes:
        n: number of pieces.
        piece: ``(N,)`` index of the piece each note belongs to (non-decreasing).
        start, duration, pitch, track: ``(N,)`` int64 note columns, in each piece's
            canonical (start, pitch, track) order.
        n_steps: ``(n,)`` length of each piece in steps.
        steps_per_beat, steps_per_bar: ``(n,)`` grid of each piece.
    """

    n: int
    piece: np.ndarray
    start: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    track: np.ndarray
    n_steps: np.ndarray
    steps_per_beat: np.ndarray
    steps_per_bar: np.ndarray

    @classmethod
    def from_pieces(cls, pieces: list[Piece], melody: bool = False) -> NoteBatch:
        """Flatten ``pieces`` (their melody lines if ``melody``) into one batch.

        Raises:
            ValueError: naming the piece, if a pitch lies outside 0..127.
        """
        notes = [p.melody().notes if melody else p.notes for p in pieces]
        n_steps = np.array([p.n_steps for p in pieces], dtype=np.int64)
        counts = np.array([len(x) for x in notes], dtype=np.int64)
        flat = np.concatenate(notes) if notes else np.empty(0, dtype=NOTE_DTYPE)
        piece = np.repeat(np.arange(len(pieces)), counts)
        bad = (flat["pitch"] < 0) | (flat["pitch"] > 127)
        if bad.any():
            culprit = pieces[int(piece[np.argmax(bad)])]
            raise ValueError(f"{culprit.id}: pitch {int(flat['pitch'][np.argmax(bad)])} is "
                             "outside MIDI's 0..127")
        start = flat["start"].astype(np.int64)
        keep = start < n_steps[piece]
        end = np.minimum(start + flat["duration"], n_steps[piece])[keep]
        start = start[keep]
        return cls(
            n=len(pieces),
            piece=piece[keep],
            start=start,
            duration=end - start,
            pitch=flat["pitch"].astype(np.int64)[keep],
            track=flat["track"].astype(np.int64)[keep],
            n_steps=n_steps,
            steps_per_beat=np.array([p.steps_per_beat for p in pieces], dtype=np.int64),
            steps_per_bar=np.array([p.steps_per_bar for p in pieces], dtype=np.int64),
        )

    # ------------------------------------------------------------ reductions
    @cached_property
    def note_counts(self) -> np.ndarray:
        """``(n,)`` number of notes of each piece."""
        return np.bincount(self.piece, minlength=self.n)

    @cached_property
    def n_bars(self) -> np.ndarray:
        """``(n,)`` bars of each piece (a started bar counts)."""
        return -(-self.n_steps // self.steps_per_bar)

    def per_piece(self, weights: np.ndarray | None = None) -> np.ndarray:
        """``(n,)`` sum of ``weights`` (one per note) over each piece's notes."""
        return np.bincount(self.piece, weights=weights, minlength=self.n).astype(float)

    def histogram(self, bins: np.ndarray, n_bins: int,
                  weights: np.ndarray | None = None) -> np.ndarray:
        """``(n, n_bins)`` per-piece histogram of the per-note bin index ``bins``."""
        flat = np.bincount(self.piece * n_bins + bins, weights=weights,
                           minlength=self.n * n_bins)
        return flat.reshape(self.n, n_bins).astype(float)

    @cached_property
    def next_in_piece(self) -> np.ndarray:
        """``(N,)`` bool: the following note belongs to the same piece (consecutive pairs)."""
        same = np.zeros(len(self.piece), dtype=bool)
        same[:-1] = self.piece[1:] == self.piece[:-1]
        return same

    @cached_property
    def piece_offsets(self) -> np.ndarray:
        """``(n + 1,)`` offsets of each piece's steps on one concatenated time axis."""
        return np.r_[0, np.cumsum(self.n_steps)]

    @cached_property
    def sounding_counts(self) -> np.ndarray:
        """Distinct pitches sounding at each step, on the concatenated time axis.

        Overlapping notes of the same pitch (unisons across tracks, re-struck notes)
        sound as one pitch, as in a piano roll. Returns an int array of length
        ``n_steps.sum()``.
        """
        start, end = merged_pitch_intervals(self)
        offset = self.piece_offsets
        total = int(offset[-1])
        delta = np.bincount(start, minlength=total + 1) - np.bincount(end, minlength=total + 1)
        return np.cumsum(delta[:total])

    @cached_property
    def step_piece(self) -> np.ndarray:
        """Piece index of every step on the concatenated time axis."""
        return np.repeat(np.arange(self.n), self.n_steps)


def merged_pitch_intervals(batch: NoteBatch) -> tuple[np.ndarray, np.ndarray]:
    """Sounding intervals of each (piece, pitch), overlapping notes merged.

    Returns global (concatenated-time-axis) ``start`` and ``end`` arrays of the merged
    intervals.
    """
    base = batch.piece_offsets[batch.piece]
    start = base + batch.start
    end = start + batch.duration
    order = np.lexsort((start, batch.pitch, batch.piece))
    start, end = start[order], end[order]
    group = (batch.piece * 128 + batch.pitch)[order]
    if len(start) == 0:
        return start, end
    # Running max of ends within each (piece, pitch) group: shift groups apart so one
    # global maximum.accumulate never leaks across groups.
    new_group = np.r_[True, group[1:] != group[:-1]]
    group_id = np.cumsum(new_group) - 1
    shift = group_id * (int(batch.piece_offsets[-1]) + 1)
    running_end = np.maximum.accumulate(end + shift) - shift
    previous_end = np.r_[-1, running_end[:-1]]
    opens = new_group | (start > previous_end)
    return start[opens], np.maximum.reduceat(end, np.flatnonzero(opens))


def bar_segments(batch: NoteBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Notes split at bar lines: (note index, bar index within its piece, steps in bar).

    A note crossing ``k`` bar lines yields ``k + 1`` segments, so per-bar sums (chroma,
    occupancy) are exact.
    """
    spb = batch.steps_per_bar[batch.piece]
    end = batch.start + batch.duration
    first = batch.start // spb
    last = (end - 1) // spb
    count = last - first + 1
    note = np.repeat(np.arange(len(batch.start)), count)
    within = np.arange(len(note)) - np.repeat(np.cumsum(count) - count, count)
    bar = first[note] + within
    spb_n = spb[note]
    steps = (np.minimum(end[note], (bar + 1) * spb_n)
             - np.maximum(batch.start[note], bar * spb_n))
    return note, bar, steps


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN (undefined) where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def entropy_bits(histogram: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of ``histogram``; NaN for an all-zero row.

    .. math:: H = -\\sum_i p_i \\log_2 p_i, \\quad p_i = h_i / \\sum_j h_j
    """
    total = histogram.sum(axis=1, keepdims=True)
    p = safe_divide(histogram, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    out = terms.sum(axis=1)
    out[total[:, 0] == 0] = np.nan
    return out
