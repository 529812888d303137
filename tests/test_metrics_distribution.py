"""Yang & Lerch overlap / KL and the bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.metrics import distribution


def test_intra_and_inter_distances_by_hand():
    a = np.array([[0.0], [1.0], [3.0]])
    np.testing.assert_allclose(np.sort(distribution.intra_distances(a)), [1, 2, 3])
    inter = distribution.inter_distances(a, np.array([[0.0]]))
    np.testing.assert_allclose(inter, [0, 1, 3])


def test_nan_rows_are_left_out_of_the_distances():
    a = np.array([[0.0], [np.nan], [2.0]])
    np.testing.assert_allclose(distribution.intra_distances(a), [2])


def test_identical_sets_overlap_fully_and_have_zero_kl():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    oa, kl = distribution.overlap_and_kl(x, x)
    assert oa == pytest.approx(1.0) and kl == pytest.approx(0.0, abs=1e-9)


def test_disjoint_sets_do_not_overlap():
    rng = np.random.default_rng(0)
    oa, kl = distribution.overlap_and_kl(rng.normal(0, 0.1, 500), rng.normal(100, 0.1, 500))
    assert oa < 1e-3 and kl > 10


def test_overlap_of_two_shifted_gaussians_matches_the_closed_form():
    # OA of N(0,1) and N(1,1) is 2 * Phi(-1/2) = 0.6171
    rng = np.random.default_rng(1)
    oa, _ = distribution.overlap_and_kl(rng.normal(0, 1, 20000), rng.normal(1, 1, 20000))
    assert oa == pytest.approx(0.6171, abs=0.02)


def test_kde_integrates_to_one_even_for_a_constant_set():
    grid = np.linspace(-1, 1, 1024)
    density = distribution.kde_on_grid(np.zeros(10), grid)
    assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1.0)
    assert np.isnan(distribution.overlap_and_kl(np.zeros(0), np.ones(3))[0])


def test_bootstrap_mean_interval_and_undefined_count():
    values = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan], [np.nan, np.nan]])
    mean, low, high, undefined = distribution.bootstrap_means(values, n_boot=500)
    assert mean[0] == pytest.approx(2.0)
    assert 1.0 <= low[0] < 2.0 < high[0] <= 3.0
    assert undefined.tolist() == [1, 4]
    assert np.isnan(mean[1]) and np.isnan(low[1])


def test_bootstrap_of_a_constant_has_a_zero_width_interval():
    mean, low, high, _ = distribution.bootstrap_means(np.full((50, 1), 0.3), n_boot=100)
    np.testing.assert_allclose([mean[0], low[0], high[0]], 0.3)


def test_bootstrap_ratio_pools_sums_over_pieces():
    ratio, low, high = distribution.bootstrap_ratio(np.array([1, 0, 3]), np.array([2, 2, 4]),
                                                    n_boot=300)
    assert ratio == pytest.approx(4 / 8)
    assert 0 <= low <= ratio <= high <= 1
    assert np.isnan(distribution.bootstrap_ratio(np.zeros(2), np.zeros(2))[0])
