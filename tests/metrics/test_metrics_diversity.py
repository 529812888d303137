"""Diversity, mode-collapse and memorisation metrics on hand-made sets."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import diversity
from musebench.metrics.batch import NoteBatch


def batch(*pieces: Piece) -> NoteBatch:
    return NoteBatch.from_pieces(list(pieces))


def melody(pitches: list[int]) -> Piece:
    return Piece(make_notes(np.arange(len(pitches)) * 4, 4, pitches))


def test_unique_share_of_a_piece_repeated_verbatim():
    a, b = melody([60, 62, 64, 65]), melody([60, 62, 64, 67])
    assert diversity.unique_share(batch(a, a, a, b)) == pytest.approx(2 / 4)
    # same notes in other tracks are the same sample
    moved = Piece(make_notes(np.arange(4) * 4, 4, [60, 62, 64, 65], track=1))
    assert diversity.unique_share(batch(a, moved)) == pytest.approx(1 / 2)


def test_copy_rate_counts_verbatim_bars_of_the_training_split():
    train = melody([60, 62, 64, 65, 67, 69, 71, 72])  # two bars
    # bar 1 copied, bar 2 new, bar 3 empty (left out)
    sample = Piece(make_notes(np.r_[np.arange(4) * 4, 16], 4, [60, 62, 64, 65, 50]), length=48)
    assert diversity.copy_rate_bars(batch(sample), batch(train)) == pytest.approx(1 / 2)
    silent = Piece(make_notes([], [], []), length=16)
    assert np.isnan(diversity.copy_rate_bars(batch(silent), batch(train)))


def test_bar_hash_sees_position_pitch_and_length():
    bars = [Piece(make_notes([0], [4], [60])), Piece(make_notes([4], [4], [60])),
            Piece(make_notes([0], [4], [61])), Piece(make_notes([0], [2], [60]), length=4)]
    hashes, filled = diversity.bar_hashes(batch(*bars))
    assert filled.all() and len(set(hashes.tolist())) == 4


def test_mean_pairwise_distance_by_hand():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    # pairs: 5, 0, 5
    assert diversity.mean_pairwise_distance(points) == pytest.approx(10 / 3)
    assert np.isnan(diversity.mean_pairwise_distance(points[:1]))


def test_descriptors_are_normalised_histograms():
    d = diversity.descriptors(batch(melody([60, 62]), Piece(make_notes([], [], []), length=4)))
    assert d.shape == (2, 144)
    assert d[0, :128].sum() == pytest.approx(1) and d[0, 128:].sum() == pytest.approx(1)
    assert d[1].sum() == 0


def test_ndb_finds_a_collapsed_mode_and_not_a_fair_sample():
    rng = np.random.default_rng(0)
    reference = np.r_[rng.normal(0, 0.1, (200, 2)), rng.normal(5, 0.1, (200, 2))]
    fair = np.r_[rng.normal(0, 0.1, (200, 2)), rng.normal(5, 0.1, (200, 2))]
    collapsed = rng.normal(0, 0.1, (400, 2))
    assert diversity.ndb(fair, reference, bins=2) == 0
    assert diversity.ndb(collapsed, reference, bins=2) == 2
    with pytest.raises(ValueError, match="reference points"):
        diversity.ndb(fair, reference[:1], bins=2)


def test_nearest_neighbour_distance_is_zero_for_a_copy():
    train = np.array([[0.0, 0.0], [1.0, 1.0]])
    samples = np.array([[1.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(diversity.nearest_neighbour_distance(samples, train), [0, 1])


def test_copied_bars_are_counted_per_sample():
    train = melody([60, 62, 64, 65])
    copy, other = melody([60, 62, 64, 65, 60, 62, 64, 65]), melody([50, 52, 54, 55])
    copied, filled = diversity.copied_bars(batch(copy, other), batch(train))
    assert copied.tolist() == [2, 0] and filled.tolist() == [2, 1]


def test_resampled_mean_pairwise_distance_by_hand():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]])
    ones = diversity.mean_pairwise_distance_resampled(points, np.ones((1, 3)))
    assert ones[0] == pytest.approx(diversity.mean_pairwise_distance(points))
    # draws 0, 0, 1: pairs of distinct draws (0,1) twice -> 5; one distinct piece -> NaN
    drawn = diversity.mean_pairwise_distance_resampled(points, np.array([[2.0, 1, 0],
                                                                         [3.0, 0, 0]]))
    assert drawn[0] == pytest.approx(5.0) and np.isnan(drawn[1])


def test_uniqueness_averages_to_the_unique_share():
    a, b = melody([60, 62, 64, 65]), melody([60, 62, 64, 67])
    u = diversity.uniqueness(batch(a, a, a, b))
    np.testing.assert_allclose(u, [1 / 3, 1 / 3, 1 / 3, 1])
    assert u.mean() == pytest.approx(diversity.unique_share(batch(a, a, a, b)))


def test_ndb_from_counts_tests_every_resample_at_once():
    rng = np.random.default_rng(0)
    reference = np.r_[rng.normal(0, 0.1, (200, 2)), rng.normal(5, 0.1, (200, 2))]
    collapsed = rng.normal(0, 0.1, (400, 2))
    sample_bin, count_r = diversity.ndb_assign(collapsed, reference, 2)
    count_s = np.bincount(sample_bin, minlength=2)
    fair = np.array([200, 200])
    np.testing.assert_array_equal(diversity.ndb_from_counts(np.stack([count_s, fair]),
                                                            count_r), [2, 0])
