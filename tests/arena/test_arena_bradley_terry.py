"""Bradley–Terry: recovery of known strengths from a hand-made vote table, and the 95%
bootstrap intervals' coverage in 200 simulated studies."""

from __future__ import annotations

import numpy as np

from musebench.arena.bradley_terry import SCALE, fit, fit_strengths, win_matrices


def hand_made_votes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strengths 4 : 2 : 1. Per pair, 60 votes split exactly in the odds p_i / (p_i + p_j):
    0 v 1: 40-20, 0 v 2: 48-12, 1 v 2: 40-20; in each pair 12 of the votes are ties,
    which count half each way, so e.g. 0 v 1 is 34 wins, 12 ties, 14 losses."""
    first, second, score = [], [], []
    for i, j, wins, losses in ((0, 1, 34, 14), (0, 2, 42, 6), (1, 2, 34, 14)):
        first += [i] * 60
        second += [j] * 60
        score += [1.0] * wins + [0.5] * 12 + [0.0] * losses
    return np.array(first), np.array(second), np.array(score)


def test_win_matrix_counts_ties_as_half_a_win_each_way():
    wins = win_matrices(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([1, 0.5, 0.5]), 2)
    np.testing.assert_allclose(wins, [[0.0, 2.0], [1.0, 0.0]])  # 0 over 1: 1 + ½ + ½; 1 over 0: ½ + ½


def test_fit_recovers_known_strengths_of_a_hand_made_table():
    first, second, score = hand_made_votes()
    truth = np.log([4.0, 2.0, 1.0])
    truth -= truth.mean()
    # the plain MLE is exact: the table's win shares equal the model's probabilities
    np.testing.assert_allclose(fit_strengths(win_matrices(first, second, score, 3), prior=0),
                               truth, atol=1e-6)
    # with the default weak prior (one virtual tie per system): within 2 rating points
    result = fit(first, second, score, 3, n_boot=200)
    np.testing.assert_allclose(result.rating, 1000 + SCALE * truth, atol=2.0)
    # 400·log10(2) ≈ 120.4 points between neighbours
    np.testing.assert_allclose(np.diff(result.rating), [-120.4, -120.4], atol=2.0)
    assert np.all(result.ci_low < result.rating) and np.all(result.rating < result.ci_high)


def test_unbeaten_system_gets_a_finite_rating():
    result = fit(np.zeros(10, int), np.ones(10, int), np.ones(10), 2, n_boot=50)
    assert np.all(np.isfinite(result.rating)) and result.rating[0] > result.rating[1] + 200


def test_95_percent_intervals_cover_the_truth_in_at_least_90_percent_of_200_studies():
    rng = np.random.default_rng(7)
    k, n_votes, studies = 4, 400, 200
    truth = np.array([0.0, 0.4, 0.8, 1.5])  # log-strengths
    truth -= truth.mean()
    true_rating = 1000 + SCALE * truth
    covered = []
    for study in range(studies):
        first = rng.integers(0, k, n_votes)
        second = (first + rng.integers(1, k, n_votes)) % k  # uniform over other systems
        p_first = 1 / (1 + np.exp(truth[second] - truth[first]))
        score = (rng.random(n_votes) < p_first).astype(float)
        result = fit(first, second, score, k, n_boot=200, seed=study)
        covered.append((result.ci_low <= true_rating) & (true_rating <= result.ci_high))
    coverage = np.mean(covered)
    assert coverage >= 0.90, coverage
