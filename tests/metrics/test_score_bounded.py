"""Scoring many samples stays bounded in memory: pairwise statistics use at most
``PAIRWISE_MAX`` samples (a seeded random subsample, its size in the output), and the
rest of the scorer allocates in blocks."""

from __future__ import annotations

import tracemalloc
from functools import partial

import numpy as np

import musebench.metrics as metrics
from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import diversity, score
from musebench.metrics.batch import NoteBatch
from musebench.metrics.distribution import resample_counts
from musebench.metrics.pairwise_subset import PAIRWISE_MAX, pairwise_subset


def short_pieces(n: int, seed: int) -> list[Piece]:
    rng = np.random.default_rng(seed)
    return [Piece(make_notes(np.arange(4) * 4, np.full(4, 4), rng.integers(60, 72, 4)),
                  length=16, meta={"id": f"s{seed}/{i}"}) for i in range(n)]


def test_the_subset_is_everything_up_to_the_limit_then_a_seeded_sample():
    assert pairwise_subset(PAIRWISE_MAX, seed=0).tolist() == list(range(PAIRWISE_MAX))
    chosen = pairwise_subset(10_000, seed=3)
    assert len(chosen) == len(np.unique(chosen)) == PAIRWISE_MAX
    assert np.all(np.diff(chosen) > 0) and chosen[-1] < 10_000
    assert np.array_equal(chosen, pairwise_subset(10_000, seed=3))
    assert not np.array_equal(chosen, pairwise_subset(10_000, seed=4))


def test_above_the_limit_pairwise_figures_come_from_the_stated_subsample(monkeypatch):
    monkeypatch.setattr(metrics, "pairwise_subset", partial(pairwise_subset, limit=20))
    samples, reference = short_pieces(60, seed=0), short_pieces(30, seed=1)
    out = score(samples, reference, n_boot=50, seed=7)
    assert out["n_samples"] == 60 and out["n_pairwise"] == 20
    assert out["n_pairwise_reference"] == 20
    chosen = pairwise_subset(60, seed=7, limit=20)
    points = diversity.descriptors(NoteBatch.from_pieces(samples))[chosen]
    by_hand = np.mean([np.linalg.norm(points[i] - points[j])
                       for i in range(20) for j in range(i + 1, 20)])
    assert np.isclose(out["diversity_pairwise"], by_hand)
    assert out["unique_share"] > 0  # linear statistics still see all 60


def test_scoring_1500_samples_has_a_bounded_peak(monkeypatch):
    monkeypatch.setattr(metrics, "pairwise_subset", partial(pairwise_subset, limit=150))
    samples, reference = short_pieces(1500, seed=0), short_pieces(1500, seed=1)
    tracemalloc.start()
    try:
        score(samples, reference, train=reference, n_boot=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # measured: 61 MB; the same call took 444 MB with the full 1500 x 1500 pairwise part
    assert peak < 150e6, f"peak {peak / 1e6:.0f} MB"


def test_blocked_resample_counts_equal_one_draw():
    rng = np.random.default_rng(11)
    draws = rng.integers(0, 7, size=(50, 7))
    expected = np.stack([np.bincount(row, minlength=7) for row in draws])
    assert np.array_equal(resample_counts(7, 50, seed=11, block=20), expected)
    assert np.array_equal(resample_counts(7, 50, seed=11), expected)
