"""musebench.metrics: the common scorer.

:data:`METRICS` names every per-piece metric once, with the input it reads; :func:`score`
turns a set of generated Pieces into one flat dict:

    - ``<metric>``, ``<metric>_ci_low``, ``<metric>_ci_high`` (95 % bootstrap interval of
      the mean) and ``<metric>_undefined`` (pieces for which the metric is undefined,
      e.g. an entropy of an empty piece, left out of the mean) for every per-piece metric;
      chord metrics only when the samples carry chords, ``in_scale_rate`` only when they
      carry keys;
    - ``diversity_pairwise_ratio``, ``unique_share``, ``ndb``, ``ndb_ratio`` for sets;
    - ``oa_<feature>`` / ``kl_<feature>`` (Yang & Lerch) against the reference set;
    - ``copy_rate_bars`` and ``nn_distance_train`` (memorisation, with bootstrap
      intervals) when ``train`` is given;
    - per track and per pair of tracks, for sets of two tracks or more only, MuseGAN's
      ``eb_track<k>``, ``upc_track<k>``, ``qn_track<k>``, ``td_track<a>_<b>`` and their
      means ``eb_tracks`` … ``td_tracks`` (:mod:`musebench.metrics.multitrack`), with
      the same intervals and ``_undefined`` counts as the per-piece metrics;
    - ``n_pairwise`` / ``n_pairwise_reference``: how many samples / reference pieces the
      pairwise statistics (``diversity_pairwise*``, ``oa_*``, ``kl_*``) used: all of them
      up to :data:`~musebench.metrics.pairwise_subset.PAIRWISE_MAX`, else a seeded random
      subsample of that size (:mod:`musebench.metrics.pairwise_subset`), so memory stays
      bounded and the rest of the scorer linear in the number of samples.

Set-level figures (``oa_*``, ``kl_*`` and their means, ``ndb``, ``ndb_ratio``,
``diversity_pairwise``, ``diversity_pairwise_ratio``, ``unique_share``) get
``_ci_low`` / ``_ci_high`` too: 95 % percentile bootstrap intervals over
``min(n_boot, SET_BOOT)`` resamples of the generated samples (drawn with replacement,
seeded by ``seed``; the reference and train sets held fixed). Features, descriptors, NDB
bin assignments and distance matrices are computed once; each resample only re-weights
them by how often it drew each sample (pairs of two copies of one drawn sample are left
out, as the diagonal is in the point value):

    - pairwise ratio: :math:`w^\\top D w / ((\\sum w)^2 - \\sum w^2)` over the reference's
      (fixed) mean pairwise distance;
    - unique share: the mean over the drawn samples of ``1 / c_i`` (``c_i`` the number of
      the n samples sharing sample i's content; its plain mean is the unique share);
    - NDB: the z-tests on the resampled per-bin counts against the fixed reference counts;
    - OA / KL: :func:`musebench.metrics.distribution.resampled_overlap_and_kl`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np

from musebench.datasets.piece import Piece
from musebench.metrics import diversity, harmony, multitrack, pitch, rhythm
from musebench.metrics.batch import NoteBatch
from musebench.metrics.distribution import (
    bootstrap_means,
    bootstrap_ratio,
    compare_features,
    percentile_interval,
    resample_counts,
)
from musebench.metrics.pairwise_subset import pairwise_subset
from musebench.util import progress

#: At most this many bootstrap resamples for the set-level intervals (each resample
#: re-weights n^2 / 2 intra-set distances per feature, where a per-piece mean costs n).
SET_BOOT = 200


@dataclass(frozen=True)
class Metric:
    """A per-piece metric and the input it reads.

    ``reads``: ``notes`` (all notes), ``melody`` (each piece's melody line), ``chords``
    (melody notes and the piece's chords), ``keys`` (all notes and the piece's key).
    """

    function: Callable[..., np.ndarray]
    reads: Literal["notes", "melody", "chords", "keys"] = "notes"


METRICS: dict[str, Metric] = {
    "pitch_entropy": Metric(pitch.pitch_entropy),
    "pitch_class_entropy": Metric(pitch.pitch_class_entropy),
    "pitch_entropy_weighted": Metric(pitch.pitch_entropy_weighted),
    "pitch_class_entropy_weighted": Metric(pitch.pitch_class_entropy_weighted),
    "pitch_range": Metric(pitch.pitch_range),
    "pitches_used": Metric(pitch.pitches_used),
    "pitch_classes_used": Metric(pitch.pitch_classes_used),
    "pitch_classes_used_per_bar": Metric(pitch.pitch_classes_used_per_bar),
    "average_pitch_interval": Metric(pitch.average_pitch_interval, "melody"),
    "scale_consistency": Metric(harmony.scale_consistency),
    "scale_consistency_36": Metric(harmony.scale_consistency_36),
    "in_scale_rate": Metric(harmony.in_scale_rate, "keys"),
    "tonal_distance": Metric(harmony.tonal_distance),
    "chord_conformance_notes": Metric(harmony.chord_conformance_notes, "chords"),
    "chord_conformance_duration": Metric(harmony.chord_conformance_duration, "chords"),
    "chord_tone_ratio": Metric(harmony.chord_tone_ratio, "chords"),
    "empty_bar_rate": Metric(rhythm.empty_bar_rate),
    "empty_beat_rate": Metric(rhythm.empty_beat_rate),
    "groove_consistency": Metric(rhythm.groove_consistency),
    "qualified_note_rate": Metric(rhythm.qualified_note_rate),
    "note_density": Metric(rhythm.note_density),
    "ioi_mean": Metric(rhythm.ioi_mean),
    "ioi_std": Metric(rhythm.ioi_std),
    "polyphony": Metric(rhythm.polyphony),
    "polyphony_rate": Metric(rhythm.polyphony_rate),
    **{f"repetitions_{n}": Metric(partial(rhythm.repetitions, n=n), "melody")
       for n in range(2, 10)},
}

#: Yang & Lerch features compared by intra/inter-set distance distributions.
FEATURES: dict[str, Callable[[NoteBatch], np.ndarray]] = {
    "pitches_used": pitch.pitches_used,
    "pitch_range": pitch.pitch_range,
    "pitch_class_histogram": pitch.pitch_class_histogram,
    "pitch_class_transition_matrix": pitch.pitch_class_transition_matrix,
    "average_pitch_interval": pitch.average_pitch_interval,
    "note_count": lambda batch: batch.note_counts.astype(float),
    "ioi_mean": rhythm.ioi_mean,
    "note_length_histogram": rhythm.note_length_histogram,
}


@dataclass(eq=False)
class ScoredSet:
    """The batched views of one set of Pieces, built once and shared by every metric."""

    pieces: list[Piece]

    def __post_init__(self) -> None:
        self.notes = NoteBatch.from_pieces(self.pieces)
        self.melody = NoteBatch.from_pieces(self.pieces, melody=True)
        self.chords = harmony.ChordBatch.from_pieces(self.pieces)
        self.keys = [p.key for p in self.pieces]
        self.n_tracks = multitrack.n_tracks(self.pieces)

    def applies(self, metric: Metric) -> bool:
        if metric.reads == "chords":
            return self.chords.has_chords()
        if metric.reads == "keys":
            return any(k is not None for k in self.keys)
        return True

    def compute(self, metric: Metric) -> np.ndarray:
        if metric.reads == "notes":
            return metric.function(self.notes)
        if metric.reads == "melody":
            return metric.function(self.melody)
        if metric.reads == "chords":
            return metric.function(self.melody, self.chords)
        return metric.function(self.notes, self.keys)

    def per_track(self) -> dict[str, np.ndarray]:
        """The multi-track figures of each piece (``{}`` for a single-track set)."""
        return multitrack.multitrack_metrics(self.notes, self.n_tracks)

    def descriptors(self) -> np.ndarray:
        return diversity.descriptors(self.notes)

    def features(self) -> dict[str, np.ndarray]:
        return {name: feature(self.notes) for name, feature in FEATURES.items()}


def per_piece(pieces: list[Piece]) -> dict[str, np.ndarray]:
    """Every applicable per-piece metric of ``pieces`` (NaN where undefined)."""
    scored = ScoredSet(pieces)
    return {**{name: scored.compute(m) for name, m in METRICS.items() if scored.applies(m)},
            **scored.per_track()}


def score(samples: list[Piece], reference: list[Piece], train: list[Piece] | None = None,
          *, n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Score ``samples`` against ``reference`` (the test split) and ``train``.

    Args:
        samples: generated (or real, for the reference row) Pieces.
        reference: the test split; distribution and NDB are measured against it.
        train: the training split, for memorisation (copy rate, nearest neighbour).
        n_boot: bootstrap resamples for the per-piece intervals; the set-level intervals
            use ``min(n_boot, SET_BOOT)``.
        seed: seeds the bootstrap and the NDB k-means.

    Returns:
        One flat dict ``name -> float`` (see the module docstring).

    Raises:
        ValueError: if ``samples`` is empty.
    """
    if not samples:
        raise ValueError("score: no samples to score")
    scored, ref = ScoredSet(samples), ScoredSet(reference)
    out: dict[str, float] = {"n_samples": float(len(samples)),
                             "n_reference": float(len(reference))}
    names = [name for name, m in METRICS.items() if scored.applies(m)]
    columns = [scored.compute(METRICS[name]) for name in progress(names, "score", len(names))]
    per_track = scored.per_track()
    names += list(per_track)
    values = np.column_stack(columns + list(per_track.values()))
    mean, low, high, undefined = bootstrap_means(values, n_boot=n_boot, seed=seed)
    for i, name in enumerate(names):
        out[name], out[f"{name}_ci_low"], out[f"{name}_ci_high"] = mean[i], low[i], high[i]
        out[f"{name}_undefined"] = float(undefined[i])
    sample_points = scored.descriptors()
    weights = resample_counts(len(samples), min(n_boot, SET_BOOT), seed)
    pair, ref_pair = pairwise_subset(len(samples), seed), pairwise_subset(len(reference), seed)
    out["n_pairwise"], out["n_pairwise_reference"] = float(len(pair)), float(len(ref_pair))
    pair_weights = (weights if len(pair) == len(samples)
                    else resample_counts(len(pair), min(n_boot, SET_BOOT), seed))
    if len(samples) >= 2:
        out.update(_diversity(scored, sample_points, ref, seed, weights,
                              (pair, ref_pair, pair_weights)))
    if reference:
        features, ref_features = scored.features(), ref.features()
        out.update(compare_features({k: v[pair] for k, v in features.items()},
                                    {k: v[ref_pair] for k, v in ref_features.items()},
                                    pair_weights))
    if train:
        train_set = ScoredSet(train)
        copied, filled = diversity.copied_bars(scored.notes, train_set.notes)
        rate = bootstrap_ratio(copied, filled, n_boot=n_boot, seed=seed)
        out["copy_rate_bars"], out["copy_rate_bars_ci_low"], out["copy_rate_bars_ci_high"] = rate
        nearest = diversity.nearest_neighbour_distance(sample_points, train_set.descriptors())
        mean, low, high, _ = bootstrap_means(nearest[:, None], n_boot=n_boot, seed=seed)
        out["nn_distance_train"], out["nn_distance_train_ci_low"] = mean[0], low[0]
        out["nn_distance_train_ci_high"] = high[0]
    return {k: float(v) for k, v in out.items()}


def _diversity(scored: ScoredSet, points: np.ndarray, ref: ScoredSet, seed: int,
               weights: np.ndarray, pairwise: tuple[np.ndarray, np.ndarray, np.ndarray]
               ) -> dict[str, float]:
    """Set-level diversity of the samples, relative to the reference where it can be,
    each with the percentile interval of its resamples (``weights``: ``(B, n)`` counts).

    ``pairwise``: the sample and reference indices of :func:`pairwise_subset` and the
    resample counts over the former, for the pairwise distances."""
    pair, ref_pair, pair_weights = pairwise
    uniqueness = diversity.uniqueness(scored.notes)
    out = {"unique_share": float(uniqueness.mean()),
           "diversity_pairwise": diversity.mean_pairwise_distance(points[pair])}
    resampled = {"unique_share": (weights @ uniqueness) / weights.sum(axis=1),
                 "diversity_pairwise": diversity.mean_pairwise_distance_resampled(
                     points[pair], pair_weights)}
    if len(ref.pieces) >= 2:
        ref_points = ref.descriptors()
        ref_spread = diversity.mean_pairwise_distance(ref_points[ref_pair])
        out["diversity_pairwise_reference"] = ref_spread
        out["diversity_pairwise_ratio"] = (out["diversity_pairwise"] / ref_spread
                                           if ref_spread > 0 else float("nan"))
        resampled["diversity_pairwise_ratio"] = (resampled["diversity_pairwise"] / ref_spread
                                                 if ref_spread > 0
                                                 else np.full(len(weights), np.nan))
        bins = ndb_bins(len(ref.pieces))
        if bins >= 2:
            sample_bin, count_r = diversity.ndb_assign(points, ref_points, bins, seed=seed)
            count_s = np.bincount(sample_bin, minlength=bins)
            out["ndb"] = float(diversity.ndb_from_counts(count_s, count_r))
            out["ndb_ratio"] = out["ndb"] / bins
            one_hot = np.eye(bins)[sample_bin]
            resampled["ndb"] = diversity.ndb_from_counts(weights @ one_hot, count_r)
            resampled["ndb_ratio"] = resampled["ndb"] / bins
    for name, values in resampled.items():
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = percentile_interval(values)
    return out


def ndb_bins(n_reference: int) -> int:
    """NDB bin count: one bin per 20 reference pieces, at most 50 (NDB skipped below 2)."""
    return min(50, n_reference // 20)
