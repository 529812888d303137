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
as one resample-count matrix times the value matrix. The set-level OA / KL get percentile
intervals too (:func:`compare_features` with ``weights``): the samples are resampled with
replacement (the reference is held fixed) and each resample is a re-weighting of the
distances computed once, see :func:`resampled_overlap_and_kl`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import signal, sparse

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


def common_grid(intra: np.ndarray, inter: np.ndarray) -> np.ndarray:
    """The evaluation grid of both KDEs: their joint range padded by a quarter each side."""
    low = min(intra.min(), inter.min())
    high = max(intra.max(), inter.max())
    pad = max(high - low, 1e-3) * 0.25
    return np.linspace(low - pad, high + pad, GRID)


def _bandwidth(values: np.ndarray, step: float) -> float:
    return max(float(np.std(values)) * len(values) ** (-1 / 5), 1.5 * step)


def _binning(values: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left grid index, weight share of the right neighbour) of linear binning."""
    position = (values - grid[0]) / (grid[1] - grid[0])
    left = np.clip(np.floor(position).astype(np.int64), 0, len(grid) - 2)
    return left, np.clip(position - left, 0.0, 1.0)


def _smooth_rows(counts: np.ndarray, h: float, grid: np.ndarray) -> np.ndarray:
    """:func:`kde_on_grid`'s kernel convolution of every row of ``counts`` ``(B, G)``, by
    FFT (unnormalised)."""
    step = grid[1] - grid[0]
    half = min(len(grid) - 1, int(np.ceil(5 * h / step)))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / h) ** 2)
    full = signal.fftconvolve(counts, kernel[None, :], mode="full", axes=1)
    return np.maximum(full[:, half:half + len(grid)], 0.0)


def _overlap_kl_rows(p: np.ndarray, q: np.ndarray, step: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise OA and KL of densities ``p``, ``q`` ``(B, G)`` (as :func:`overlap_and_kl`)."""
    overlap = np.minimum(np.minimum(p, q).sum(axis=1) * step, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > _FLOOR, p * np.log(p / np.maximum(q, _FLOOR)), 0.0)
        kl = np.maximum(terms.sum(axis=1) * step, 0.0)
    bad = ~(np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1))
    overlap[bad], kl[bad] = np.nan, np.nan
    return overlap, kl


def overlap_and_kl(intra: np.ndarray, inter: np.ndarray) -> tuple[float, float]:
    """(overlapping area, KL(intra || inter)) of the two KDEs on one common grid.

    NaN, NaN if either set is empty.
    """
    if len(intra) == 0 or len(inter) == 0:
        return float("nan"), float("nan")
    grid = common_grid(intra, inter)
    step = grid[1] - grid[0]
    p, q = kde_on_grid(intra, grid), kde_on_grid(inter, grid)
    overlap = float(np.minimum(p, q).sum() * step)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > _FLOOR, p * np.log(p / np.maximum(q, _FLOOR)), 0.0)
    return min(overlap, 1.0), float(max(terms.sum() * step, 0.0))


def resampled_overlap_and_kl(samples: np.ndarray, reference: np.ndarray,
                             weights: np.ndarray, chunk: int = 4096
                             ) -> tuple[np.ndarray, np.ndarray]:
    """OA and KL of each bootstrap resample of ``samples`` (reference fixed), ``(B,)`` each.

    ``weights`` ``(B, n)``: times each sample is drawn per resample. The distances are
    computed once; a resample weights intra pair ``(i, j)``, ``i < j``, by ``w_i w_j``
    (pairs of two copies of one drawn piece are left out, as the zero diagonal is in the
    point estimate) and inter distance ``(i, r)`` by ``w_i``. The binned KDE of each
    resample is the weighted linear binning on the full-set grid, convolved with the
    full-set kernel (grid and Scott bandwidths held at the point estimate's: a resample's
    distances are a re-weighting of the full set's, inside its range), then normalised.
    NaN rows where either set is empty (or a resample drew one distinct piece).

    Near OA = 1 / KL = 0 (samples that match the reference) resampling only adds noise,
    so the resampled OA sits below (KL above) the point value and a percentile interval
    there may not contain it: read it as the spread, not a bias-corrected interval.
    """
    return resampled_overlaps({"": samples}, {"": reference}, weights, chunk)[""]


def resampled_overlaps(samples: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                       weights: np.ndarray, chunk: int = 4096
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`resampled_overlap_and_kl` of every feature; the intra pair weights
    ``w_i w_j`` are formed once per chunk of pairs and shared by the features whose
    defined (finite) samples are the same."""
    weights = np.asarray(weights, dtype=float)
    nan = np.full(len(weights), np.nan)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    groups: dict[bytes, list[dict]] = {}
    for name, values in samples.items():
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1)
        features, ref = _finite_rows(values), _finite_rows(reference[name])
        if len(features) < 2 or len(ref) == 0:
            out[name] = nan, nan.copy()
            continue
        first, second = np.triu_indices(len(features), k=1)
        intra = pairwise_distances(features, features)[first, second]
        inter = pairwise_distances(features, ref)
        grid = common_grid(intra, inter.ravel())
        step = grid[1] - grid[0]
        # inter: one histogram per sample, then one matrix product for all resamples
        left, frac = _binning(inter, grid)
        rows = np.arange(len(features))[:, None] * GRID
        size = len(features) * GRID
        per_sample = (np.bincount((rows + left).ravel(), (1 - frac).ravel(), size)
                      + np.bincount((rows + left + 1).ravel(), frac.ravel(), size))
        # intra: a sparse (pair, grid) linear-binning matrix, weighted per resample below
        left, frac = _binning(intra, grid)
        pair = np.arange(len(intra))
        binning = sparse.csr_matrix((np.r_[1 - frac, frac],
                                     (np.r_[pair, pair], np.r_[left, left + 1])),
                                    shape=(len(intra), GRID))
        groups.setdefault(finite.tobytes(), []).append({
            "name": name, "finite": finite, "grid": grid, "binning": binning,
            "inter_counts": weights[:, finite] @ per_sample.reshape(len(features), GRID),
            "h_intra": _bandwidth(intra, step), "h_inter": _bandwidth(inter.ravel(), step),
            "intra_counts": np.zeros((GRID, len(weights)))})
    for group in groups.values():
        finite = group[0]["finite"]
        by_sample = np.ascontiguousarray(weights[:, finite].T, dtype=np.float32)
        first, second = np.triu_indices(len(by_sample), k=1)
        for start in range(0, len(first), chunk):
            stop = start + chunk
            pair_weights = by_sample[first[start:stop]] * by_sample[second[start:stop]]
            for item in group:
                item["intra_counts"] += item["binning"][start:stop].T @ pair_weights
        for item in group:
            grid = item["grid"]
            step = grid[1] - grid[0]
            p = _smooth_rows(item["intra_counts"].T, item["h_intra"], grid)
            q = _smooth_rows(item["inter_counts"], item["h_inter"], grid)
            with np.errstate(divide="ignore", invalid="ignore"):
                p /= p.sum(axis=1, keepdims=True) * step
                q /= q.sum(axis=1, keepdims=True) * step
            out[item["name"]] = _overlap_kl_rows(p, q, step)
    return out


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the finite ``values``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def compare_features(samples: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                     weights: np.ndarray | None = None, level: float = 0.95
                     ) -> dict[str, float]:
    """``oa_<feature>`` and ``kl_<feature>`` for every feature, plus their means.

    With ``weights`` (``(B, n)`` resample counts of the samples, :func:`resample_counts`),
    every figure also gets ``<name>_ci_low`` / ``<name>_ci_high``: the percentile interval
    over the resamples of :func:`resampled_overlap_and_kl` (:func:`resampled_overlaps`
    for all features at once); a mean's resample is the mean
    over the features whose point value is finite.
    """
    out: dict[str, float] = {}
    resampled: dict[str, np.ndarray] = {}
    for name, values in samples.items():
        oa, kl = overlap_and_kl(intra_distances(values), inter_distances(values, reference[name]))
        out[f"oa_{name}"], out[f"kl_{name}"] = oa, kl
    if weights is not None:
        for name, (oa, kl) in resampled_overlaps(samples, reference, weights).items():
            resampled[f"oa_{name}"], resampled[f"kl_{name}"] = oa, kl
    for kind in ("oa", "kl"):
        names = [k for k in list(out) if k.startswith(f"{kind}_") and np.isfinite(out[k])]
        out[f"{kind}_mean"] = float(np.mean([out[k] for k in names])) if names else float("nan")
        if weights is not None:
            with warnings.catch_warnings():  # an all-NaN resample stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                resampled[f"{kind}_mean"] = (np.nanmean([resampled[k] for k in names], axis=0)
                                             if names else np.full(len(weights), np.nan))
    for name, values in resampled.items():
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = percentile_interval(values, level)
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


def resample_counts(n: int, n_boot: int, seed: int, block: int = 2_000_000) -> np.ndarray:
    """``(n_boot, n)`` times each of ``n`` items is drawn in each bootstrap resample.

    The draws are made ``block // n`` resamples at a time (the same stream as one
    ``(n_boot, n)`` draw), so the memory beyond the result stays bounded."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, n), dtype=np.int64)
    rows = max(1, block // max(n, 1))
    for start in range(0, n_boot, rows):
        stop = min(start + rows, n_boot)
        draws = rng.integers(0, n, size=(stop - start, n))
        draws += (np.arange(stop - start) * n)[:, None]
        counts[start:stop] = np.bincount(draws.ravel(), minlength=(stop - start) * n
                                         ).reshape(stop - start, n)
    return counts


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
