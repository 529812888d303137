"""Diversity, mode collapse and memorisation of a set of samples.

Set-level metrics built on two batched representations:
    - a fixed-length *descriptor* per piece (:func:`descriptors`): its duration-weighted
      pitch histogram (128) and its onset-position-in-bar histogram (16 positions), both
      normalised; pieces of any length and grid become comparable points;
    - a 64-bit *content hash* per bar (:func:`bar_hashes`) and per piece: the
      order-free sum of a mixing hash of each (onset in bar, pitch, steps in bar)
      segment, so verbatim equality is a hash comparison.

Sources: NDB is Richardson & Weiss, "On GANs and GMMs", NeurIPS 2018 (k-means bins on
the real data, two-proportion z-tests, alpha = 0.05); the pairwise-distance ratio and
the unique share follow the mode-collapse checks of the GAN literature; the copy rate and
nearest-neighbour distance to the training split measure memorisation.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

from musebench.metrics.batch import NoteBatch, bar_segments

POSITIONS = 16
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _mix(code: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread 64-bit hash of each integer code."""
    with np.errstate(over="ignore"):
        z = code.astype(np.uint64) * _MIX
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _group_sum(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Wrapping uint64 sum of ``values`` per integer key ``0..size-1``."""
    out = np.zeros(size, dtype=np.uint64)
    if len(keys):
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        with np.errstate(over="ignore"):
            out[keys[first]] = np.add.reduceat(values, first)
    return out


def descriptors(batch: NoteBatch) -> np.ndarray:
    """``(n, 144)`` descriptors: pitch histogram (duration-weighted) + onset positions."""
    pitch = batch.histogram(batch.pitch, 128, weights=batch.duration)
    spb = batch.steps_per_bar[batch.piece]
    position = (batch.start % spb) * POSITIONS // spb
    onset = batch.histogram(position, POSITIONS)
    for part in (pitch, onset):
        total = part.sum(axis=1, keepdims=True)
        np.divide(part, total, out=part, where=total > 0)
    return np.hstack([pitch, onset])


def bar_hashes(batch: NoteBatch) -> tuple[np.ndarray, np.ndarray]:
    """(hash, non-empty flag) of every bar of every piece, in piece then bar order."""
    note, bar, steps = bar_segments(batch)
    spb = batch.steps_per_bar[batch.piece[note]]
    onset = np.maximum(batch.start[note] - bar * spb, 0)
    code = (onset * 128 + batch.pitch[note]) * 4096 + steps
    bar_offset = np.r_[0, np.cumsum(batch.n_bars)]
    total = int(bar_offset[-1])
    global_bar = bar_offset[batch.piece[note]] + bar
    hashes = _group_sum(global_bar, _mix(code), total)
    return hashes, np.bincount(global_bar, minlength=total) > 0


def piece_hashes(batch: NoteBatch) -> np.ndarray:
    """One content hash per piece over its (start, duration, pitch) notes."""
    code = (batch.start * 4096 + batch.duration) * 128 + batch.pitch
    return _group_sum(batch.piece, _mix(code), batch.n)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` Euclidean distances, vectorised through the Gram matrix."""
    square = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(square, 0.0))


def mean_pairwise_distance(points: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs i < j; NaN for fewer than two points."""
    if len(points) < 2:
        return float("nan")
    distance = pairwise_distances(points, points)
    return float(distance[np.triu_indices(len(points), k=1)].mean())


def mean_pairwise_distance_resampled(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`mean_pairwise_distance` of each bootstrap resample, from one distance matrix.

    ``weights`` ``(B, n)``: times each point is drawn per resample (see
    :func:`musebench.metrics.distribution.resample_counts`). Pairs of two copies of the
    same drawn point are left out, as the diagonal is in the point estimate:

    .. math:: \\bar d_b = \\frac{w_b^\\top D w_b}{(\\sum_i w_{bi})^2 - \\sum_i w_{bi}^2}

    with ``D`` the ``(n, n)`` distance matrix (zero diagonal), computed once. NaN for a
    resample that drew a single distinct point.
    """
    distance = pairwise_distances(points, points)
    np.fill_diagonal(distance, 0.0)
    weights = np.asarray(weights, dtype=float)
    total = ((weights @ distance) * weights).sum(axis=1)
    pairs = weights.sum(axis=1) ** 2 - (weights**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, total / pairs, np.nan)


def uniqueness(batch: NoteBatch) -> np.ndarray:
    """Per piece, ``1 / c_i`` with ``c_i`` the number of pieces of the set sharing its note
    content; their mean is :func:`unique_share` exactly (each distinct content sums to 1)."""
    _, inverse, counts = np.unique(piece_hashes(batch), return_inverse=True,
                                   return_counts=True)
    return 1.0 / counts[inverse.ravel()]


def unique_share(batch: NoteBatch) -> float:
    """Share of distinct pieces: #distinct(note content) / n. NaN for an empty set."""
    if batch.n == 0:
        return float("nan")
    return len(np.unique(piece_hashes(batch))) / batch.n


def ndb(samples: np.ndarray, reference: np.ndarray, bins: int, seed: int = 0,
        z_critical: float = 1.96) -> int:
    """Number of statistically different bins (Richardson & Weiss 2018).

    k-means with ``bins`` centres on the reference descriptors; each sample and reference
    point goes to its nearest centre; bin ``k`` differs when the two-proportion z-test

    .. math:: z = \\frac{p_s - p_r}{\\sqrt{\\hat p (1 - \\hat p)(1/n_s + 1/n_r)}}

    has ``|z| > z_critical`` (1.96: alpha = 0.05, two-sided).
    """
    sample_bin, count_r = ndb_assign(samples, reference, bins, seed=seed)
    count_s = np.bincount(sample_bin, minlength=bins)
    return int(ndb_from_counts(count_s, count_r, z_critical)[()])


def ndb_assign(samples: np.ndarray, reference: np.ndarray, bins: int, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """(bin of each sample, reference count per bin) of the NDB k-means bins."""
    if len(reference) < bins or len(samples) == 0:
        raise ValueError(f"ndb: need at least {bins} reference points and one sample")
    centres, _ = kmeans2(reference, bins, seed=seed, minit="++")
    ref_bin = np.argmin(pairwise_distances(reference, centres), axis=1)
    sample_bin = np.argmin(pairwise_distances(samples, centres), axis=1)
    return sample_bin, np.bincount(ref_bin, minlength=bins)


def ndb_from_counts(count_s: np.ndarray, count_r: np.ndarray,
                    z_critical: float = 1.96) -> np.ndarray:
    """NDB from per-bin counts; ``count_s`` may carry leading (resample) axes ``(..., bins)``
    so every bootstrap resample is tested at once against the fixed reference counts."""
    count_s = np.asarray(count_s, dtype=float)
    count_r = np.asarray(count_r, dtype=float)
    n_s, n_r = count_s.sum(axis=-1, keepdims=True), count_r.sum()
    pooled = (count_s + count_r) / (n_s + n_r)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_s + 1 / n_r))
    diff = count_s / n_s - count_r / n_r
    z = np.divide(diff, se, out=np.zeros(np.broadcast_shapes(diff.shape, se.shape)),
                  where=se > 0)
    return (np.abs(z) > z_critical).sum(axis=-1)


def copied_bars(samples: NoteBatch, train: NoteBatch) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: (non-empty bars found verbatim among the training bars, non-empty bars)."""
    hashes, filled = bar_hashes(samples)
    train_hashes, train_filled = bar_hashes(train)
    copied = filled & np.isin(hashes, train_hashes[train_filled])
    bar_piece = np.repeat(np.arange(samples.n), samples.n_bars)
    return (np.bincount(bar_piece, weights=copied, minlength=samples.n),
            np.bincount(bar_piece, weights=filled, minlength=samples.n))


def copy_rate_bars(samples: NoteBatch, train: NoteBatch) -> float:
    """Share of non-empty sample bars that occur verbatim among the training bars.

    ``copy_rate = (non-empty bars found in train) / (non-empty bars)``

    NaN when the samples have no non-empty bar.
    """
    copied, filled = copied_bars(samples, train)
    return float(copied.sum() / filled.sum()) if filled.sum() else float("nan")


def nearest_neighbour_distance(samples: np.ndarray, train: np.ndarray,
                               block: int = 2_000_000) -> np.ndarray:
    """Descriptor distance from each sample to its nearest training piece, computed
    ``block // len(train)`` samples at a time (bounded memory, linear in the samples)."""
    if len(train) == 0:
        raise ValueError("nearest_neighbour_distance: empty training set")
    chunk = max(1, block // len(train))
    return np.concatenate([pairwise_distances(samples[i:i + chunk], train).min(axis=1)
                           for i in range(0, len(samples), chunk)] or [np.zeros(0)])
