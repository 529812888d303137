"""The bounded part of scoring: which pieces the pairwise statistics are computed on.

Pairwise statistics (the mean pairwise distance, Yang & Lerch's intra- and inter-set
distances and their resampled overlaps) cost memory and time quadratic in the number of
pieces: 6,000 samples took 6 GB, 13,000 more than 23 GB. Above :data:`PAIRWISE_MAX`
pieces they are computed on a seeded uniform random subsample of :data:`PAIRWISE_MAX`
pieces drawn without replacement (:func:`pairwise_subset`), and :func:`musebench.metrics.score`
records the sizes used (``n_pairwise``, ``n_pairwise_reference``). Everything else in the
scorer stays linear in the number of samples. At or below the limit every piece is used,
so the figures are exactly those of the full computation.
"""

from __future__ import annotations

import numpy as np

#: Largest set on which pairwise statistics are computed in full (about 2 million pairs).
PAIRWISE_MAX = 2000

#: Mixed into the scorer's seed so the subsample is independent of the bootstrap draws.
_STREAM = 0x9A1F


def pairwise_subset(n: int, seed: int, limit: int = PAIRWISE_MAX) -> np.ndarray:
    """Sorted indices of the pieces (of ``n``) the pairwise statistics use.

    All ``n`` when ``n <= limit``; otherwise ``limit`` indices drawn uniformly without
    replacement by ``numpy.random.default_rng([seed, 0x9A1F])``.
    """
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng([seed, _STREAM])
    return np.sort(rng.choice(n, size=limit, replace=False))
