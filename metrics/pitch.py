"""Pitch metrics: entropies, range, pitches used, histograms, transitions, intervals.

Every function takes a :class:`~musebench.metrics.batch.NoteBatch` and returns one value
(or one feature vector) per piece; NaN marks a piece for which the metric is undefined
(no notes, or fewer than two for interval metrics).

Sources: pitch / pitch-class entropy, pitches and pitch classes used, pitch range follow
muspy (Dong et al., "MusPy", ISMIR 2020, ``muspy.metrics``); pitch-class histogram,
pitch-class transition matrix and average pitch interval follow Yang & Lerch, "On the
evaluation of generative models in music", Neural Comput. Appl. 2020 (mgeval); pitch
classes used per bar follows MuseGAN's UPC (Dong et al., AAAI 2018). C-RNN-GAN's "tone
span" (Mogren 2016) is the same quantity as :func:`pitch_range` and is reported once.
"""

from __future__ import annotations

import numpy as np

from musebench.metrics.batch import NoteBatch, entropy_bits, safe_divide


def pitch_entropy(batch: NoteBatch) -> np.ndarray:
    """Entropy (bits) of the pitch distribution over note counts.

    .. math:: H = -\\sum_{p=0}^{127} P(p) \\log_2 P(p), \\quad P(p) = \\#notes(p) / \\#notes

    NaN for a piece without notes (as muspy).
    """
    return entropy_bits(batch.histogram(batch.pitch, 128))


def pitch_class_entropy(batch: NoteBatch) -> np.ndarray:
    """Entropy (bits) of the pitch-class distribution over note counts (0..log2 12).

    .. math:: H = -\\sum_{c=0}^{11} P(c) \\log_2 P(c)

    NaN for a piece without notes (as muspy).
    """
    return entropy_bits(batch.histogram(batch.pitch % 12, 12))


def pitch_entropy_weighted(batch: NoteBatch) -> np.ndarray:
    """Pitch entropy (bits) with each note weighted by its duration in steps."""
    return entropy_bits(batch.histogram(batch.pitch, 128, weights=batch.duration))


def pitch_class_entropy_weighted(batch: NoteBatch) -> np.ndarray:
    """Pitch-class entropy (bits) with each note weighted by its duration in steps."""
    return entropy_bits(batch.histogram(batch.pitch % 12, 12, weights=batch.duration))


def pitch_range(batch: NoteBatch) -> np.ndarray:
    """Highest minus lowest pitch in semitones (C-RNN-GAN's tone span).

    NaN for a piece without notes (muspy returns 0 there; we keep "no notes" apart from
    "one pitch").
    """
    hist = batch.histogram(batch.pitch, 128) > 0
    has = hist.any(axis=1)
    highest = 127 - np.argmax(hist[:, ::-1], axis=1)
    lowest = np.argmax(hist, axis=1)
    return np.where(has, highest - lowest, np.nan)


def pitches_used(batch: NoteBatch) -> np.ndarray:
    """Number of distinct pitches (muspy's ``n_pitches_used``); 0 for an empty piece."""
    return (batch.histogram(batch.pitch, 128) > 0).sum(axis=1).astype(float)


def pitch_classes_used(batch: NoteBatch) -> np.ndarray:
    """Number of distinct pitch classes (muspy's ``n_pitch_classes_used``); 0 if empty."""
    return (batch.histogram(batch.pitch % 12, 12) > 0).sum(axis=1).astype(float)


def pitch_classes_used_per_bar(batch: NoteBatch) -> np.ndarray:
    """Mean number of distinct pitch classes with an onset in a bar, over all bars.

    .. math:: UPC = \\frac{1}{B} \\sum_{b=1}^{B} |\\{c : \\text{a note of class } c
              \\text{ starts in bar } b\\}|

    Empty bars count as 0 (as MuseGAN's UPC over bars). NaN for a piece of 0 bars.
    """
    bar = batch.start // batch.steps_per_bar[batch.piece]
    bar_offset = np.r_[0, np.cumsum(batch.n_bars)]
    global_bar = bar_offset[batch.piece] + bar
    total_bars = int(bar_offset[-1])
    used = np.bincount(global_bar * 12 + batch.pitch % 12, minlength=total_bars * 12)
    per_bar = (used.reshape(total_bars, 12) > 0).sum(axis=1)
    sums = np.bincount(np.repeat(np.arange(batch.n), batch.n_bars), weights=per_bar,
                       minlength=batch.n)
    return safe_divide(sums, batch.n_bars)


def pitch_class_histogram(batch: NoteBatch) -> np.ndarray:
    """``(n, 12)`` pitch-class histogram over note counts, normalised to sum 1.

    Rows of an empty piece are NaN.
    """
    hist = batch.histogram(batch.pitch % 12, 12)
    return safe_divide(hist, hist.sum(axis=1, keepdims=True))


def pitch_class_transition_matrix(batch: NoteBatch) -> np.ndarray:
    """``(n, 144)`` flattened 12x12 matrix of pitch-class transitions, normalised to sum 1.

    Entry ``(a, b)`` counts consecutive notes (in onset order, Yang & Lerch's
    ``pitch_class_transition_matrix``) going from class ``a`` to class ``b``. Rows of a
    piece with fewer than two notes are NaN.
    """
    first = np.flatnonzero(batch.next_in_piece)
    pair = (batch.pitch[first] % 12) * 12 + batch.pitch[first + 1] % 12
    flat = np.bincount(batch.piece[first] * 144 + pair, minlength=batch.n * 144)
    counts = flat.reshape(batch.n, 144).astype(float)
    return safe_divide(counts, counts.sum(axis=1, keepdims=True))


def average_pitch_interval(batch: NoteBatch) -> np.ndarray:
    """Mean absolute interval in semitones between consecutive notes (onset order).

    .. math:: \\frac{1}{N-1} \\sum_{i=1}^{N-1} |p_{i+1} - p_i|

    Yang & Lerch's ``avg_pitch_shift``. NaN for a piece with fewer than two notes.
    """
    first = np.flatnonzero(batch.next_in_piece)
    jumps = np.abs(batch.pitch[first + 1] - batch.pitch[first])
    sums = np.bincount(batch.piece[first], weights=jumps, minlength=batch.n)
    return safe_divide(sums, np.bincount(batch.piece[first], minlength=batch.n))
