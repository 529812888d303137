"""Random baseline: melody events drawn independently from the training distributions.

Each event's symbol (a pitch or a rest) and its duration are drawn independently from
their add-:math:`p` smoothed marginal frequencies in the training melodies (``S`` = 129
symbols, ``D`` = ``max_duration`` durations):

.. math::

    P(s, d) = \\frac{c(s) + p}{N + pS} \\cdot \\frac{c(d) + p}{N + pD}

It keeps the training split's pitch and rhythm vocabulary but no sequential structure,
so every metric that rewards structure should rank a trained model above it — the
"random" floor of Boulanger-Lewandowski et al. (ICML 2012, Table 1), here on notes.
"""

from __future__ import annotations

import numpy as np

from musebench.datasets.codecs.melody_tokens import N_SYMBOLS
from musebench.datasets.piece import Piece
from musebench.models.count_baseline import CountBaseline


class RandomGenerator(CountBaseline):
    """Independent draws of pitch/rest and duration from the training marginals.

    Args (hyper-parameters):
        prior: the add-:math:`p` pseudo-count of every symbol and duration.
        max_duration: longest event in steps (the codec's clip).
        sample_steps: length of a generated melody in steps.
    """

    def __init__(self, *, prior: float = 0.01, max_duration: int = 16,
                 sample_steps: int = 128) -> None:
        super().__init__()

    def fit_statistics(self, train: list[Piece], valid: list[Piece] | None = None) -> None:
        """Count symbols and durations of the training melodies (``valid`` is not needed)."""
        sequences = self.encode_all(train)
        if not sequences:
            raise ValueError("random baseline: no melody notes in the training pieces")
        symbol, duration = self.codec.split_tokens(np.concatenate(sequences))
        prior = self.hparams.prior
        symbol_counts = np.bincount(symbol, minlength=N_SYMBOLS) + prior
        duration_counts = np.bincount(duration - 1, minlength=self.codec.max_duration) + prior
        self.symbol_probs = symbol_counts / symbol_counts.sum()
        self.duration_probs = duration_counts / duration_counts.sum()
        # token = symbol * max_duration + duration - 1, so the joint is an outer product
        self.token_probs = np.outer(self.symbol_probs, self.duration_probs).ravel()
        self.fitted = True

    def next_probs(self, history: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.token_probs, (len(history), len(self.token_probs)))

    def token_log_prob(self, tokens: np.ndarray) -> np.ndarray:
        return np.log(self.token_probs[tokens])
