"""Rhythm and texture metrics: emptiness, groove, note lengths, density, polyphony.

One value per piece, NaN where undefined (see :mod:`musebench.metrics.batch`).

Sources:
    - empty-bar rate, qualified-note rate: MuseGAN (Dong et al., AAAI 2018). MuseGAN's
      published code returns the *non-empty* rate under the name ``empty_bar_rate``; ours
      is the empty rate its paper defines.
    - empty-beat rate, polyphony, polyphony rate, groove consistency: muspy
      (``muspy.metrics``; groove consistency from Wu & Yang, ISMIR 2020). Documented
      differences: a beat/bar counts as non-empty when a note *sounds* in one of its steps
      (muspy also marks the beat a note ends on, and counts one extra beat/bar when the
      length is a multiple of the beat/bar); polyphony rate counts steps with at least
      ``threshold`` pitches (muspy's code uses ``> threshold``).
    - inter-onset intervals, note-length histogram: Yang & Lerch 2020 (mgeval).
    - n-gram repetitions: C-RNN-GAN (Mogren 2016), counted on pitch n-grams, n = 2..9.
"""

from __future__ import annotations

import numpy as np

from musebench.metrics.batch import NoteBatch, safe_divide

#: Yang & Lerch's 12 note-length classes in beats: whole, half, quarter, 8th, 16th,
#: their dotted forms, and half / quarter / 8th triplets.
NOTE_LENGTH_CLASSES = np.array([4, 2, 1, 1 / 2, 1 / 4, 3, 3 / 2, 3 / 4, 3 / 8, 4 / 3, 2 / 3, 1 / 3])


def _occupied_rate(batch: NoteBatch, unit_steps: np.ndarray) -> np.ndarray:
    """Share of ``unit_steps``-long spans (per piece) in which no note sounds."""
    n_units = -(-batch.n_steps // unit_steps)
    unit_offset = np.r_[0, np.cumsum(n_units)]
    total = int(unit_offset[-1])
    size = unit_steps[batch.piece]
    first = unit_offset[batch.piece] + batch.start // size
    last = unit_offset[batch.piece] + (batch.start + batch.duration - 1) // size
    # +1 where a note's first unit begins, -1 after its last: covered units have a sum > 0
    delta = np.bincount(first, minlength=total + 1) - np.bincount(last + 1, minlength=total + 1)
    occupied = np.cumsum(delta[:total]) > 0
    unit_piece = np.repeat(np.arange(batch.n), n_units)
    empty = np.bincount(unit_piece, weights=~occupied, minlength=batch.n)
    return safe_divide(empty, n_units)


def empty_bar_rate(batch: NoteBatch) -> np.ndarray:
    """Share of bars in which no note sounds (MuseGAN's EB).

    .. math:: EB = \\#\\{\\text{bars with no sounding note}\\} / \\#\\{\\text{bars}\\}

    NaN for a piece of length 0.
    """
    return _occupied_rate(batch, batch.steps_per_bar)


def empty_beat_rate(batch: NoteBatch) -> np.ndarray:
    """Share of beats in which no note sounds (muspy's empty-beat rate; see module doc).

    NaN for a piece of length 0.
    """
    return _occupied_rate(batch, batch.steps_per_beat)


def groove_consistency(batch: NoteBatch) -> np.ndarray:
    """One minus the mean Hamming distance of onset patterns of neighbouring bars.

    .. math:: GC = 1 - \\frac{1}{Q (B - 1)} \\sum_{b=1}^{B-1} d_H(G_b, G_{b+1})

    with :math:`G_b` the binary onset vector of bar ``b`` (``Q`` steps per bar). NaN for a
    piece of fewer than two bars.
    """
    width = int(batch.steps_per_bar.max(initial=1))
    bar_offset = np.r_[0, np.cumsum(batch.n_bars)]
    spb = batch.steps_per_bar[batch.piece]
    global_bar = bar_offset[batch.piece] + batch.start // spb
    total = int(bar_offset[-1])
    onsets = np.zeros((total, width), dtype=bool)
    onsets[global_bar, batch.start % spb] = True
    bar_piece = np.repeat(np.arange(batch.n), batch.n_bars)
    pair = np.flatnonzero(bar_piece[1:] == bar_piece[:-1])
    distance = (onsets[pair] != onsets[pair + 1]).sum(axis=1)
    sums = np.bincount(bar_piece[pair], weights=distance, minlength=batch.n)
    pairs = np.maximum(batch.n_bars - 1, 0)
    return 1 - safe_divide(sums, batch.steps_per_bar * pairs)


def qualified_note_rate(batch: NoteBatch, min_beats: float = 1 / 8) -> np.ndarray:
    """Share of notes lasting at least ``min_beats`` beats (MuseGAN's QN: a 32nd note).

    On a 16th-note grid every note qualifies; the metric bites on finer grids. NaN for a
    piece without notes.
    """
    long_enough = batch.duration >= min_beats * batch.steps_per_beat[batch.piece]
    return safe_divide(batch.per_piece(long_enough), batch.note_counts)


def note_density(batch: NoteBatch) -> np.ndarray:
    """Notes per bar: note count / bars. NaN for a piece of length 0."""
    return safe_divide(batch.note_counts, batch.n_bars)


def _onset_intervals(batch: NoteBatch) -> tuple[np.ndarray, np.ndarray]:
    """(piece, interval in beats) between consecutive distinct onsets of each piece."""
    distinct = np.r_[np.ones(min(len(batch.piece), 1), bool), (batch.piece[1:] != batch.piece[:-1])
                     | (batch.start[1:] != batch.start[:-1])]
    piece, start = batch.piece[distinct], batch.start[distinct]
    pair = np.flatnonzero(piece[1:] == piece[:-1])
    beats = (start[pair + 1] - start[pair]) / batch.steps_per_beat[piece[pair]]
    return piece[pair], beats


def ioi_mean(batch: NoteBatch) -> np.ndarray:
    """Mean inter-onset interval in beats between distinct onsets (Yang & Lerch's avg_IOI).

    NaN for a piece with fewer than two distinct onsets.
    """
    piece, beats = _onset_intervals(batch)
    return safe_divide(np.bincount(piece, beats, batch.n), np.bincount(piece, minlength=batch.n))


def ioi_std(batch: NoteBatch) -> np.ndarray:
    """Population standard deviation of the inter-onset intervals in beats.

    NaN for a piece with fewer than two distinct onsets.
    """
    piece, beats = _onset_intervals(batch)
    count = np.bincount(piece, minlength=batch.n)
    mean = safe_divide(np.bincount(piece, beats, batch.n), count)
    square = safe_divide(np.bincount(piece, beats**2, batch.n), count)
    return np.sqrt(np.maximum(square - mean**2, 0.0))


def note_length_histogram(batch: NoteBatch) -> np.ndarray:
    """``(n, 12)`` histogram of note lengths over :data:`NOTE_LENGTH_CLASSES`, sum 1.

    Each note goes to the class nearest in log-duration. Rows of an empty piece are NaN.
    """
    beats = batch.duration / batch.steps_per_beat[batch.piece]
    distance = np.abs(np.log(beats)[:, None] - np.log(NOTE_LENGTH_CLASSES)[None, :])
    hist = batch.histogram(np.argmin(distance, axis=1), 12)
    return safe_divide(hist, hist.sum(axis=1, keepdims=True))


def polyphony(batch: NoteBatch) -> np.ndarray:
    """Mean number of distinct pitches sounding, over steps where at least one sounds.

    .. math:: \\sum_t n_t / \\#\\{t : n_t > 0\\}

    (muspy's polyphony). NaN for a piece without notes.
    """
    counts = batch.sounding_counts
    step_piece = batch.step_piece
    total = np.bincount(step_piece, weights=counts, minlength=batch.n)
    active = np.bincount(step_piece, weights=counts > 0, minlength=batch.n)
    return safe_divide(total, active)


def polyphony_rate(batch: NoteBatch, threshold: int = 2) -> np.ndarray:
    """Share of all steps at which at least ``threshold`` distinct pitches sound.

    NaN for a piece of length 0. muspy's ``polyphony_rate(threshold=t)`` equals ours at
    ``threshold=t + 1`` (see module doc).
    """
    counts = batch.sounding_counts
    hits = np.bincount(batch.step_piece, weights=counts >= threshold, minlength=batch.n)
    return safe_divide(hits, batch.n_steps)


def repetitions(batch: NoteBatch, n: int) -> np.ndarray:
    """Number of pitch n-grams that repeat an earlier n-gram of the same piece.

    .. math:: R_n = \\#\\{n\\text{-grams}\\} - \\#\\{\\text{distinct } n\\text{-grams}\\}

    The notes are taken in onset order (use a melody batch for a single line). 0 for a
    piece shorter than ``n`` notes. ``n`` is at most 9 (one 63-bit code per n-gram).
    """
    if not 1 <= n <= 9:
        raise ValueError(f"repetitions: n must be in 1..9, got {n}")
    count = len(batch.pitch)
    if count < n:
        return np.zeros(batch.n)
    first = np.arange(count - n + 1)
    valid = batch.piece[first] == batch.piece[first + n - 1]
    first = first[valid]
    code = np.zeros(len(first), dtype=np.uint64)
    for k in range(n):  # n <= 9 passes over all windows, not a loop over notes
        code = (code << np.uint64(7)) | batch.pitch[first + k].astype(np.uint64)
    piece = batch.piece[first]
    order = np.lexsort((code, piece))
    code, piece = code[order], piece[order]
    repeat = np.r_[False, (code[1:] == code[:-1]) & (piece[1:] == piece[:-1])]
    return np.bincount(piece, weights=repeat, minlength=batch.n)
