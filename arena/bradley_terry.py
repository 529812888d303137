"""Bradley–Terry strengths of systems from pairwise votes, with bootstrap intervals.

The model: ``P(i beats j) = p_i / (p_i + p_j)``. A vote is a pair of systems and a score
for the first, 1 (it won), 0 (it lost) or 0.5 (a tie: half a win each way). The fit is
the maximum-likelihood one (Newton's method on the log-likelihood
``sum_ij w_ij log(p_i / (p_i + p_j))``, ``w_ij`` the score of ``i`` against ``j``),
vectorised over bootstrap replicates. A weak prior of ``prior``
virtual tied games per system, spread evenly over its opponents, keeps every strength
finite when a system wins or loses all its votes; with many votes it vanishes.

Ratings are on the scale Chatbot Arena uses: ``rating = 1000 + 400 · log10(p)``, with the
mean of ``log p`` fixed at 0 (so the ratings average 1000); a 400-point gap means 10:1
odds. The 95% interval of each rating is the 2.5-97.5 percentile range of the ratings
fitted to votes resampled with replacement (the bootstrap over votes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE = 400.0 / np.log(10.0)
BASE = 1000.0


@dataclass
class Fit:
    """Ratings of ``k`` systems and their bootstrap interval bounds (arrays of length k)."""

    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def win_matrices(first: np.ndarray, second: np.ndarray, score: np.ndarray,
                 k: int) -> np.ndarray:
    """``W[..., a, b]``: the total score of system ``a`` against ``b``.

    Args:
        first, second: system indices of each vote, shape ``(..., n)`` (leading axes are
            separate vote tables, e.g. bootstrap replicates).
        score: the first system's score per vote (1, 0 or 0.5), same shape.
        k: number of systems.

    Returns:
        ``(..., k, k)``.
    """
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    score = np.asarray(score, dtype=float)
    lead = first.shape[:-1]
    tables = int(np.prod(lead))
    offset = (np.arange(tables) * k * k)[:, None]
    forward = (first * k + second).reshape(tables, -1) + offset
    backward = (second * k + first).reshape(tables, -1) + offset
    score = score.reshape(tables, -1)
    total = (np.bincount(forward.ravel(), score.ravel(), minlength=tables * k * k)
             + np.bincount(backward.ravel(), 1 - score.ravel(), minlength=tables * k * k))
    return total.reshape(*lead, k, k)


def fit_strengths(wins: np.ndarray, prior: float = 1.0, tol: float = 1e-9,
                  max_iter: int = 100) -> np.ndarray:
    """Log-strengths (mean 0 per fit) maximising the likelihood of ``wins``.

    Newton's method on the concave log-likelihood, batched over leading axes; a step is
    capped at 2 in log-strength so that a start far from the optimum cannot overshoot.

    Args:
        wins: ``(..., k, k)`` score of row system against column system.
        prior: virtual tied games per system (spread over its opponents); 0 for the plain MLE,
            which needs every system to have won and lost something.
        tol: stop when no log-strength moves more than this.
        max_iter: at most this many Newton steps.
    """
    k = wins.shape[-1]
    wins = wins + prior / max(k - 1, 1) / 2 * (1 - np.eye(k))
    games = wins + np.swapaxes(wins, -1, -2)
    won = wins.sum(axis=-1)
    log_p = np.zeros(wins.shape[:-1])
    # the likelihood is flat along (1, ..., 1): adding 1·1ᵀ/k makes the system solvable
    gauge = np.ones((k, k)) / k + 1e-9 * np.eye(k)
    for _ in range(max_iter):
        beats = 1 / (1 + np.exp(log_p[..., None, :] - log_p[..., :, None]))  # P(i beats j)
        gradient = won - (games * beats).sum(axis=-1)
        curvature = games * beats * (1 - beats)
        information = np.eye(k) * curvature.sum(axis=-1)[..., None] - curvature
        step = np.linalg.solve(information + gauge, gradient[..., None])[..., 0]
        step = np.clip(step, -2.0, 2.0)
        log_p = log_p + step
        log_p -= log_p.mean(axis=-1, keepdims=True)
        if not step.size or np.abs(step).max() < tol:
            break
    return log_p


def ratings(log_p: np.ndarray) -> np.ndarray:
    """Log-strengths on the rating scale (``1000 + 400 · log10 p``)."""
    return BASE + SCALE * log_p


def fit(first: np.ndarray, second: np.ndarray, score: np.ndarray, k: int,
        n_boot: int = 1000, prior: float = 1.0, seed: int = 0,
        level: float = 0.95) -> Fit:
    """Ratings of ``k`` systems from the votes, with percentile bootstrap intervals.

    Args:
        first, second, score: the votes (see :func:`win_matrices`).
        k: number of systems.
        n_boot: bootstrap replicates (resampling votes with replacement).
        prior: see :func:`fit_strengths`.
        seed: the bootstrap's RNG seed.
        level: coverage of the intervals.
    """
    first, second = np.asarray(first, dtype=int), np.asarray(second, dtype=int)
    score = np.asarray(score, dtype=float)
    point = ratings(fit_strengths(win_matrices(first, second, score, k), prior))
    if len(score) == 0 or n_boot == 0:
        return Fit(point, point.copy(), point.copy())
    draws = np.random.default_rng(seed).integers(0, len(score), (n_boot, len(score)))
    boot = ratings(fit_strengths(win_matrices(first[draws], second[draws], score[draws], k),
                                 prior))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    return Fit(point, low, high)
