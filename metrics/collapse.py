"""Mode collapse and memorisation, measured apart from the variety of the conditions.

A conditional model's across-condition diversity (``diversity_pairwise_ratio`` of
:func:`musebench.metrics.score`: each sample follows another test piece) mixes the variety
of the conditions with the variety the model itself produces. Here:

- ``within_condition_diversity``: the mean pairwise descriptor distance of ``K`` samples
  generated under **one** fixed condition (only the noise varies), over the real data's
  mean pairwise distance (the same descriptors as ``diversity_pairwise``); for an
  unconditional model every sample is "under one condition", so it equals its diversity;
- ``within_condition_unique_share``: distinct note contents among those ``K`` samples / K;
- ``copy_rate_pieces``: share of samples whose whole note content is that of a training
  piece (``copy_rate_bars`` and ``nn_distance_train`` of the scorer count bars and
  descriptor distance);
- ``collapsed`` (1.0 or 0.0), by the rule :data:`COLLAPSE_RULE`.
"""

from __future__ import annotations

import numpy as np

from musebench.datasets.piece import Piece
from musebench.metrics import diversity
from musebench.metrics.batch import NoteBatch
from musebench.metrics.pairwise_subset import pairwise_subset

#: Collapsed below this share of the real data's pairwise diversity under one condition.
COLLAPSE_RATIO = 0.1
COLLAPSE_RULE = (f"collapsed: K samples under one fixed condition differ by less than "
                 f"{COLLAPSE_RATIO:g} of the real data's mean pairwise distance, or all K "
                 "samples have the same notes")


def within_condition(samples: list[Piece], reference: list[Piece], seed: int = 0
                     ) -> dict[str, float]:
    """Within-condition diversity of ``samples`` (all generated under one condition)
    relative to ``reference`` (the real data, in the same view), and the collapsed flag.

    Raises:
        ValueError: fewer than two samples (no pair to compare).
    """
    if len(samples) < 2:
        raise ValueError(f"within-condition diversity needs K >= 2 samples, got {len(samples)}")
    batch = NoteBatch.from_pieces(samples)
    spread = diversity.mean_pairwise_distance(diversity.descriptors(batch))
    ref_points = diversity.descriptors(NoteBatch.from_pieces(reference))
    ref_spread = diversity.mean_pairwise_distance(
        ref_points[pairwise_subset(len(reference), seed)])
    ratio = spread / ref_spread if ref_spread > 0 else float("nan")
    unique = diversity.unique_share(batch)
    collapsed = unique <= 1.0 / len(samples) or bool(ratio < COLLAPSE_RATIO)
    return {"within_condition_diversity": float(ratio),
            "within_condition_unique_share": float(unique),
            "within_condition_k": float(len(samples)),
            "collapsed": float(collapsed)}


def copy_rate_pieces(samples: list[Piece], train: list[Piece]) -> float:
    """Share of ``samples`` whose (start, duration, pitch) notes equal a training piece's.
    NaN for no samples."""
    if not samples:
        return float("nan")
    sample_hashes = diversity.piece_hashes(NoteBatch.from_pieces(samples))
    train_hashes = diversity.piece_hashes(NoteBatch.from_pieces(train))
    return float(np.isin(sample_hashes, train_hashes).mean())
