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


def test_resampled_overlap_with_all_ones_weights_is_the_point_value():
    rng = np.random.default_rng(2)
    samples, reference = rng.normal(size=(40, 3)), rng.normal(0.5, 1, size=(50, 3))
    oa, kl = distribution.overlap_and_kl(distribution.intra_distances(samples),
                                         distribution.inter_distances(samples, reference))
    # weight 1 on every sample: the full set itself, as one "resample"
    r_oa, r_kl = distribution.resampled_overlap_and_kl(samples, reference, np.ones((1, 40)))
    assert r_oa[0] == pytest.approx(oa, abs=1e-9) and r_kl[0] == pytest.approx(kl, abs=1e-9)


def test_resampled_overlap_weights_pairs_by_draw_counts():
    # drawing sample 0 twice and sample 2 once = pairs (0,2) twice; (0,0) left out
    samples, reference = np.array([[0.0], [1.0], [3.0]]), np.array([[0.0], [10.0]])
    weights = np.array([[2.0, 0.0, 1.0]])
    duplicated = np.array([[0.0], [3.0], [0.0]])
    intra = np.array([3.0, 3.0])  # the pairs of distinct draws of the duplicated set
    inter = distribution.inter_distances(duplicated, reference)
    grid = distribution.common_grid(distribution.intra_distances(samples),
                                    distribution.inter_distances(samples, reference))
    r_oa, _ = distribution.resampled_overlap_and_kl(samples, reference, weights)
    # same grid and the full set's bandwidths: compare with the densities built by hand
    step = grid[1] - grid[0]
    h_p = distribution._bandwidth(distribution.intra_distances(samples), step)
    h_q = distribution._bandwidth(distribution.inter_distances(samples, reference), step)
    def density(values, h):
        left, frac = distribution._binning(values, grid)
        counts = (np.bincount(left, 1 - frac, len(grid))
                  + np.bincount(left + 1, frac, len(grid)))
        d = distribution._smooth_rows(counts[None, :], h, grid)[0]
        return d / (d.sum() * step)
    oa = np.minimum(density(intra, h_p), density(inter, h_q)).sum() * step
    assert r_oa[0] == pytest.approx(oa)


def test_compare_features_interval_keys_bracket_and_are_seeded():
    rng = np.random.default_rng(3)
    samples = {"f": rng.normal(size=(60, 2)), "g": rng.normal(size=60)}
    # away from OA = 1 / KL = 0, where the resampled figures are biased (see docstring)
    reference = {"f": rng.normal(1.5, 1, size=(80, 2)), "g": rng.normal(1.5, 1, size=80)}
    weights = distribution.resample_counts(60, 150, seed=5)
    out = distribution.compare_features(samples, reference, weights)
    for name in ("oa_f", "kl_f", "oa_g", "kl_g", "oa_mean", "kl_mean"):
        assert out[f"{name}_ci_low"] <= out[name] <= out[f"{name}_ci_high"], name
    again = distribution.compare_features(samples, reference,
                                          distribution.resample_counts(60, 150, seed=5))
    assert again == out
    assert "oa_f_ci_low" not in distribution.compare_features(samples, reference)


def test_identical_samples_give_a_collapsed_distribution_interval():
    samples = {"f": np.ones((30, 2))}
    reference = {"f": np.r_[np.ones((10, 2)), np.zeros((10, 2))]}
    out = distribution.compare_features(samples, reference,
                                        distribution.resample_counts(30, 100, seed=0))
    for name in ("oa_f", "kl_f", "oa_mean", "kl_mean"):
        assert out[f"{name}_ci_low"] == pytest.approx(out[name], abs=1e-9)
        assert out[f"{name}_ci_high"] == pytest.approx(out[name], abs=1e-9)
