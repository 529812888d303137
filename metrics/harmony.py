"""Harmony metrics: chord conformance, chord-tone ratio, scale consistency, tonal distance.

One value per piece, NaN where undefined (see :mod:`musebench.metrics.batch`).

The chords are the Piece's own chords: the conditioning chords for a conditioned model,
the annotated (or derived) chords for real data. A melody note "sounds over" the chord
that is sounding at its onset; notes with no chord sounding (N.C.) are left out.

Sources:
    - chord conformance: share of melody notes (and of melody duration) that are chord
      tones, as in MidiNet's and the lead-sheet literature's "chord tone rate".
    - chord-tone ratio: CTnCTR of Yeh et al., "Automatic melody harmonization with triad
      chords", JNMR 2021: (n_c + n_p) / (n_c + n_n); we count a non-chord tone as
      "proper" (n_p) when the next melody note is a chord tone 1 or 2 semitones away
      (a passing/neighbour tone resolving by step).
    - scale consistency: muspy's best of 24 major / natural-minor scales (after Mogren,
      C-RNN-GAN 2016); the 36-scale variant adds the harmonic minor scales.
    - tonal distance: Harte, Sandler & Gasser, "Detecting harmonic change in musical
      audio", 2006 (6-d tonal centroid), between tracks per bar as in MuseGAN (AAAI 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musebench.datasets.piece import CHORD_DTYPE, MODES, QUALITIES, QUALITY_INTERVALS, Piece
from musebench.metrics.batch import NoteBatch, bar_segments, safe_divide

#: ``(5, 12)`` chord-tone mask of each quality with root C, rows in ``QUALITIES`` order.
QUALITY_MASK = np.zeros((len(QUALITIES), 12), dtype=bool)
for _index, _quality in enumerate(QUALITIES):
    QUALITY_MASK[_index, list(QUALITY_INTERVALS[_quality])] = True

_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
_NATURAL_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
_HARMONIC_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1], dtype=bool)


def _scales(*patterns: np.ndarray) -> np.ndarray:
    """``(12 * len(patterns), 12)`` masks: every pattern on every root."""
    return np.stack([np.roll(p, root) for p in patterns for root in range(12)])


#: muspy's 24 scales (12 major, 12 natural minor), then the 12 harmonic minors.
SCALES_24 = _scales(_MAJOR, _NATURAL_MINOR)
SCALES_36 = _scales(_MAJOR, _NATURAL_MINOR, _HARMONIC_MINOR)

#: Harte's 6x12 tonal-centroid transform (fifths, minor thirds, major thirds circles).
_L = np.arange(12)
TONAL_CENTROID = np.stack([
    np.sin(_L * 7 * np.pi / 6), np.cos(_L * 7 * np.pi / 6),
    np.sin(_L * 3 * np.pi / 2), np.cos(_L * 3 * np.pi / 2),
    0.5 * np.sin(_L * 2 * np.pi / 3), 0.5 * np.cos(_L * 2 * np.pi / 3),
])


@dataclass(eq=False)
class ChordBatch:
    """The chords of ``n`` pieces as concatenated columns (``piece`` non-decreasing)."""

    piece: np.ndarray
    start: np.ndarray
    end: np.ndarray
    tones: np.ndarray  # (C, 12) bool chord-tone mask

    @classmethod
    def from_pieces(cls, pieces: list[Piece]) -> ChordBatch:
        chords = [p.chords for p in pieces]
        counts = np.array([len(c) for c in chords], dtype=np.int64)
        flat = np.concatenate(chords) if chords else np.empty(0, dtype=CHORD_DTYPE)
        root = flat["root"].astype(np.int64)
        columns = (np.arange(12)[None, :] - root[:, None]) % 12
        tones = QUALITY_MASK[flat["quality"].astype(np.int64)[:, None], columns]
        start = flat["start"].astype(np.int64)
        return cls(np.repeat(np.arange(len(pieces)), counts), start,
                   start + flat["duration"], tones)

    def has_chords(self) -> bool:
        return len(self.start) > 0

    def at_onsets(self, melody: NoteBatch) -> tuple[np.ndarray, np.ndarray]:
        """For each melody note: (covered by a chord?, is a chord tone of it?)."""
        if len(self.start) == 0:
            nothing = np.zeros(len(melody.start), dtype=bool)
            return nothing, nothing
        span = int(max(melody.n_steps.max(initial=0), self.end.max(initial=0))) + 1
        index = np.searchsorted(self.piece * span + self.start,
                                melody.piece * span + melody.start, side="right") - 1
        safe = np.maximum(index, 0)
        covered = ((index >= 0) & (self.piece[safe] == melody.piece)
                   & (melody.start < self.end[safe]))
        tone = covered & self.tones[safe, melody.pitch % 12]
        return covered, tone


def chord_conformance_notes(melody: NoteBatch, chords: ChordBatch) -> np.ndarray:
    """Share of melody notes under a chord that are chord tones of it.

    .. math:: CC_n = \\#\\{\\text{chord-tone notes}\\} / \\#\\{\\text{notes under a chord}\\}

    NaN for a piece with no melody note under a chord.
    """
    covered, tone = chords.at_onsets(melody)
    return safe_divide(melody.per_piece(tone), melody.per_piece(covered))


def chord_conformance_duration(melody: NoteBatch, chords: ChordBatch) -> np.ndarray:
    """Share of melody duration (notes under a chord) spent on chord tones.

    .. math:: CC_d = \\sum_{\\text{chord tones}} d_i / \\sum_{\\text{notes under a chord}} d_i
    """
    covered, tone = chords.at_onsets(melody)
    return safe_divide(melody.per_piece(tone * melody.duration),
                       melody.per_piece(covered * melody.duration))


def chord_tone_ratio(melody: NoteBatch, chords: ChordBatch) -> np.ndarray:
    """Yeh et al.'s CTnCTR = (n_c + n_p) / (n_c + n_n), in [0, 1].

    ``n_c`` chord tones, ``n_n`` non-chord tones (notes under a chord only), ``n_p`` the
    non-chord tones whose next melody note is a chord tone 1-2 semitones away. NaN for a
    piece with no melody note under a chord.
    """
    covered, tone = chords.at_onsets(melody)
    non_chord = covered & ~tone
    nxt = np.r_[np.arange(1, len(tone)), 0] if len(tone) else np.zeros(0, dtype=np.int64)
    step = np.abs(melody.pitch[nxt] - melody.pitch) if len(tone) else np.zeros(0)
    proper = non_chord & melody.next_in_piece & tone[nxt] & (step >= 1) & (step <= 2)
    return safe_divide(melody.per_piece(tone) + melody.per_piece(proper),
                       melody.per_piece(covered))


def _best_scale(batch: NoteBatch, scales: np.ndarray) -> np.ndarray:
    hist = batch.histogram(batch.pitch % 12, 12)
    in_scale = hist @ scales.T.astype(float)
    return safe_divide(in_scale.max(axis=1, initial=0.0), hist.sum(axis=1))


def scale_consistency(batch: NoteBatch) -> np.ndarray:
    """Largest share of notes inside one of 24 major / natural-minor scales (as muspy).

    .. math:: SC = \\max_{s} \\#\\{\\text{notes with pitch class in } s\\} / \\#notes

    NaN for a piece without notes.
    """
    return _best_scale(batch, SCALES_24)


def scale_consistency_36(batch: NoteBatch) -> np.ndarray:
    """Scale consistency over 36 scales: major, natural minor and harmonic minor."""
    return _best_scale(batch, SCALES_36)


def in_scale_rate(batch: NoteBatch, keys: list[tuple[int, str] | None]) -> np.ndarray:
    """Share of notes in the scale of each piece's own key (major / natural minor).

    NaN for a piece without notes, without a key, or in a mode other than major/minor.
    """
    has_key = np.array([k is not None and k[1] in MODES for k in keys], dtype=bool)
    rows = np.array([k[0] % 12 + 12 * MODES.index(k[1]) if ok else 0
                     for k, ok in zip(keys, has_key, strict=True)], dtype=np.int64)
    scale = SCALES_24[rows][batch.piece]
    inside = scale[np.arange(len(batch.pitch)), batch.pitch % 12]
    rate = safe_divide(batch.per_piece(inside), batch.note_counts)
    return np.where(has_key, rate, np.nan)


def tonal_distance(batch: NoteBatch) -> np.ndarray:
    """Mean distance between the tonal centroids of every pair of tracks, per bar.

    For each bar and track the duration-weighted chroma ``c`` gives the centroid
    :math:`\\zeta = \\Phi c / \\lVert c \\rVert_1` (Harte 2006); the metric is the mean of
    :math:`\\lVert \\zeta_a - \\zeta_b \\rVert_2` over track pairs (a < b) and bars where
    both tracks sound. NaN for a piece with no such pair (e.g. a single track).
    """
    n_tracks = int(batch.track.max(initial=0)) + 1
    bar_offset = np.r_[0, np.cumsum(batch.n_bars)]
    total = int(bar_offset[-1])
    note, bar, steps = bar_segments(batch)
    global_bar = bar_offset[batch.piece[note]] + bar
    index = (global_bar * n_tracks + batch.track[note]) * 12 + batch.pitch[note] % 12
    chroma = np.bincount(index, weights=steps, minlength=total * n_tracks * 12)
    chroma = chroma.reshape(total, n_tracks, 12)
    mass = chroma.sum(axis=2)
    centroid = safe_divide(chroma @ TONAL_CENTROID.T, mass[:, :, None])
    a, b = np.triu_indices(n_tracks, k=1)
    both = (mass[:, a] > 0) & (mass[:, b] > 0)
    distance = np.where(both, np.linalg.norm(np.nan_to_num(centroid[:, a] - centroid[:, b]),
                                             axis=2), 0.0)
    bar_piece = np.repeat(np.arange(batch.n), batch.n_bars)
    sums = np.bincount(bar_piece, weights=distance.sum(axis=1), minlength=batch.n)
    pairs = np.bincount(bar_piece, weights=both.sum(axis=1), minlength=batch.n)
    return safe_divide(sums, pairs)
