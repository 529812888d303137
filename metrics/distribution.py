"""Yang & Lerch's distribution protocol and bootstrap confidence intervals.

Yang & Lerch, "On the evaluation of generative models in music", Neural Computing and
Applications 32, 2020 (the mgeval toolbox). For each feature (a number or a vector per
piece):
    1. intra-set distances: Euclidean distances between all pairs i < j of the samples;
    2. inter-set distances: between every sample and every reference piece;
    3. a Gaussian KDE of each distance set (Scott's bandwidth, per set), both evaluated on
       ONE common grid spanning both (mgeval evaluated the two densities on different
       grids, which made its KL meaningless);
    4. overlapping area :math:`OA = \\int \\min(p, q)\\,dx` and
       :math:`KL(p\\,\\|\\,q) = \\int p \\log(p / q)\\,dx` with p the intra-set and q the
       inter-set density (q floored at 1e-12 to keep KL finite).
The KDE is a binned KDE (linear binning on the grid, then convolution with the Gaussian
kernel cut at 5 bandwidths): the same estimate as ``scipy.stats.gaussian_kde`` up to the binning, at a cost
independent of the millions of distances.

Bootstrap: percentile intervals of a mean (Efron & Tibshirani 1993), all metrics at once
as one resample-count matrix times the value matrix.
"""

from __future__ import annotations

import numpy as np

from musebench.metrics.diversity import pairwise_distances

GRID = 1024
_FLOOR = 1e-12


def intra_distances(features: np.ndarray) -> np.ndarray:
    """Distances between all pairs i < j of ``features`` (rows with NaN left out)."""
    features = _finite_rows(features)
    distance = pairwise_distances(features, features)
    return distance[np.triu_indices(len(features), k=1)]


def inter_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between every row of ``a`` and every row of ``b`` (NaN rows left out)."""
    return pairwise_distances(_finite_rows(a), _finite_rows(b)).ravel()


def _finite_rows(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=float)
    features = features.reshape(len(features), -1)
    return features[np.isfinite(features).all(axis=1)]


def kde_on_grid(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Binned Gaussian KDE of ``values`` on the evenly spaced ``grid`` (integrates to 1).

    Bandwidth: Scott's rule :math:`h = \\sigma n^{-1/5}`, floored at 1.5 grid steps so a
    constant set gives a narrow bump instead of a spike.
    """
    step = grid[1] - grid[0]
    h = max(float(np.std(values)) * len(values) ** (-1 / 5), 1.5 * step)
    position = (values - grid[0]) / step
    left = np.clip(np.floor(position).astype(np.int64), 0, len(grid) - 2)
    frac = np.clip(position - left, 0.0, 1.0)
    counts = (np.bincount(left, 1 - frac, len(grid)) + np.bincount(left + 1, frac, len(grid)))
    half = min(len(grid) - 1, int(np.ceil(5 * h / step)))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / h) ** 2)
    density = np.convolve(counts, kernel, mode="full")[half:half + len(grid)]
    return density / (density.sum() * step)


def overlap_and_kl(intra: np.ndarray, inter: np.ndarray) -> tuple[float, float]:
    """(overlapping area, KL(intra || inter)) of the two KDEs on one common grid.

    NaN, NaN if either set is empty.
    """
    if len(intra) == 0 or len(inter) == 0:
        return float("nan"), float("nan")
    low = min(intra.min(), inter.min())
    high = max(intra.max(), inter.max())
    pad = max(high - low, 1e-3) * 0.25
    grid = np.linspace(low - pad, high + pad, GRID)
    step = grid[1] - grid[0]
    p, q = kde_on_grid(intra, grid), kde_on_grid(inter, grid)
    overlap = float(np.minimum(p, q).sum() * step)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > _FLOOR, p * np.log(p / np.maximum(q, _FLOOR)), 0.0)
    return min(overlap, 1.0), float(max(terms.sum() * step, 0.0))


def compare_features(samples: dict[str, np.ndarray], reference: dict[str, np.ndarray]
                     ) -> dict[str, float]:
    """``oa_<feature>`` and ``kl_<feature>`` for every feature, plus their means."""
    out: dict[str, float] = {}
    for name, values in samples.items():
        oa, kl = overlap_and_kl(intra_distances(values), inter_distances(values, reference[name]))
        out[f"oa_{name}"], out[f"kl_{name}"] = oa, kl
    oas = [v for k, v in out.items() if k.startswith("oa_") and np.isfinite(v)]
    kls = [v for k, v in out.items() if k.startswith("kl_") and np.isfinite(v)]
    out["oa_mean"] = float(np.mean(oas)) if oas else float("nan")
    out["kl_mean"] = float(np.mean(kls)) if kls else float("nan")
    return out


def bootstrap_means(values: np.ndarray, n_boot: int = 1000, level: float = 0.95,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, CI low, CI high and undefined count of each column of ``values`` (n, M).

    NaN entries (undefined per-piece values) are left out of the mean and counted. Each
    of the ``n_boot`` resamples draws ``n`` pieces with replacement; the interval is the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the resampled means.
    A column with no defined value gets NaN mean and interval.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    defined = np.isfinite(values)
    clean = np.where(defined, values, 0.0)
    counts = defined.sum(axis=0)
    mean = np.divide(clean.sum(axis=0), counts, out=np.full(values.shape[1], np.nan),
                     where=counts > 0)
    if n == 0:
        nan = np.full(values.shape[1], np.nan)
        return nan, nan, nan, np.zeros(values.shape[1], dtype=int)
    weights = resample_counts(n, n_boot, seed)
    sums, used = weights @ clean, weights @ defined.astype(float)
    low = np.full(values.shape[1], np.nan)
    high = np.full(values.shape[1], np.nan)
    some = counts > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums[:, some] / used[:, some]
    alpha = (1 - level) / 2
    if some.any():
        low[some], high[some] = np.nanquantile(means, [alpha, 1 - alpha], axis=0)
    return mean, low, high, n - counts


def resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` times each of ``n`` items is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    rows = np.repeat(np.arange(n_boot) * n, n)
    return np.bincount(rows + draws.ravel(), minlength=n_boot * n).reshape(n_boot, n)


def bootstrap_ratio(numerator: np.ndarray, denominator: np.ndarray, n_boot: int = 1000,
                    level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Pooled ratio sum(numerator) / sum(denominator) over pieces, with its percentile
    bootstrap interval (pieces resampled). NaN when the denominator sums to 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    if len(numerator) == 0 or denominator.sum() == 0:
        return float("nan"), float("nan"), float("nan")
    weights = resample_counts(len(numerator), n_boot, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (weights @ numerator) / (weights @ denominator)
    alpha = (1 - level) / 2
    low, high = np.nanquantile(ratios, [alpha, 1 - alpha])
    return float(numerator.sum() / denominator.sum()), float(low), float(high)
