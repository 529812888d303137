"""Variable-order Markov baseline: an interpolated n-gram over melody tokens.

The probability of token :math:`x` after context :math:`h_k` (the previous :math:`k`
tokens, padded with a start symbol) is smoothed recursively towards the shorter context
(interpolation with a Dirichlet prior, MacKay & Peto 1995; Chen & Goodman 1999, sec. 2):

.. math::

    P_0(x) = \\frac{c(x) + p}{N + pV}, \\qquad
    P_k(x \\mid h_k) = \\frac{c(h_k, x) + \\beta\\, P_{k-1}(x \\mid h_{k-1})}{c(h_k) + \\beta}

(:math:`P_0` is the add-:math:`p` unigram.) Counts are taken on the training split; the order :math:`k \\le` ``max_order`` with the
lowest validation negative log-likelihood per token is kept (Pachet's Continuator and
Conklin & Witten 1995 use variable-order models as the classic symbolic-music baseline).
All lookups are vectorised: each (context, token) pair is one int64 key found with
``np.searchsorted`` in sorted count tables.
"""

from __future__ import annotations

import numpy as np

from musebench.datasets.piece import Piece
from musebench.models.count_baseline import CountBaseline


class MarkovGenerator(CountBaseline):
    """Interpolated n-gram over :class:`~musebench.datasets.codecs.melody_tokens.MelodyTokenCodec`.

    Args (hyper-parameters):
        max_order: longest context tried (in tokens); order chosen on the validation split.
        smoothing: the Dirichlet weight :math:`\\beta` of the shorter context.
        prior: the add-:math:`p` pseudo-count of every token in the unigram.
        max_duration: longest event in steps (the codec's clip).
        sample_steps: length of a generated melody in steps.
    """

    def __init__(self, *, max_order: int = 4, smoothing: float = 1.0, prior: float = 0.01,
                 max_duration: int = 16, sample_steps: int = 128) -> None:
        if not 0 <= max_order <= 4:
            raise ValueError(f"max_order must be in 0..4 (int64 context keys), got {max_order}")
        super().__init__()
        self.order = max_order

    # ------------------------------------------------------------------ tables
    @property
    def _base(self) -> int:
        return self.codec.vocab_size + 1  # tokens plus the start symbol

    def _contexts(self, padded: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
        """Context ids of every order 1..max_order for ``positions`` in ``padded`` rows.

        ``padded`` is ``(rows, K + T)`` with the start symbol in the first K columns;
        ``positions`` index the column of the predicted token.
        """
        contexts, ids = [], np.zeros(padded.shape[:1] + positions.shape[1:], dtype=np.int64)
        for k in range(1, self.hparams.max_order + 1):
            ids = ids + padded[np.arange(len(padded))[:, None], positions - k] * self._base ** (k - 1)
            contexts.append(ids)
        return contexts

    def fit_statistics(self, train: list[Piece], valid: list[Piece] | None = None) -> None:
        """Count n-grams on ``train``; choose the order on ``valid`` (if given)."""
        sequences = self.encode_all(train)
        if not sequences:
            raise ValueError("Markov baseline: no melody notes in the training pieces")
        tokens, contexts = self._flatten(sequences)
        vocab = self.codec.vocab_size
        self.unigram = np.bincount(tokens, minlength=vocab).astype(np.float64)
        self.tables = []
        for ids in contexts:
            pair_keys, pair_counts = np.unique(ids * vocab + tokens, return_counts=True)
            ctx_keys, ctx_counts = np.unique(ids, return_counts=True)
            self.tables.append((pair_keys, pair_counts, ctx_keys, ctx_counts))
        self.fitted = True
        valid_sequences = self.encode_all(valid or [])
        if valid_sequences:
            self.validation_nll = {k: self._nll(valid_sequences, k)
                                   for k in range(self.hparams.max_order + 1)}
            self.order = min(self.validation_nll, key=self.validation_nll.get)

    def _flatten(self, sequences: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """All tokens of ``sequences`` and their contexts, one row per sequence joined."""
        K = self.hparams.max_order
        tokens, contexts = [], [[] for _ in range(K)]
        for seq in sequences:
            padded = np.r_[np.full(K, self._base - 1), seq][None, :]
            for k, ids in enumerate(self._contexts(padded, np.arange(K, padded.shape[1])[None])):
                contexts[k].append(ids[0])
            tokens.append(seq)
        return np.concatenate(tokens), [np.concatenate(c) for c in contexts]

    def _nll(self, sequences: list[np.ndarray], order: int) -> float:
        tokens, contexts = self._flatten(sequences)
        return float(-np.log(self._prob(contexts, tokens, order)).mean())

    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
        index = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.where(keys[index] == query, counts[index], 0).astype(np.float64)

    def _prob(self, contexts: list[np.ndarray], tokens: np.ndarray, order: int) -> np.ndarray:
        """:math:`P_{order}(x \\mid h)` for ``tokens`` (any shape) after ``contexts``
        (broadcastable ids per order)."""
        vocab, beta = self.codec.vocab_size, self.hparams.smoothing
        prior = self.hparams.prior
        prob = (self.unigram[tokens] + prior) / (self.unigram.sum() + prior * vocab)
        for k in range(order):
            pair_keys, pair_counts, ctx_keys, ctx_counts = self.tables[k]
            pair = self._lookup(pair_keys, pair_counts, contexts[k] * vocab + tokens)
            total = self._lookup(ctx_keys, ctx_counts, contexts[k])
            prob = (pair + beta * prob) / (total + beta)
        return prob

    # --------------------------------------------------------------- interface
    def next_probs(self, history: np.ndarray) -> np.ndarray:
        K = self.hparams.max_order
        padded = np.concatenate([np.full((len(history), K), self._base - 1), history], axis=1)
        position = np.full((len(history), 1), padded.shape[1])
        padded = np.concatenate([padded, np.zeros((len(history), 1), dtype=np.int64)], axis=1)
        contexts = self._contexts(padded, position)  # each (n, 1)
        return self._prob(contexts, np.arange(self.codec.vocab_size)[None, :], self.order)

    def token_log_prob(self, tokens: np.ndarray) -> np.ndarray:
        K = self.hparams.max_order
        padded = np.concatenate([np.full((len(tokens), K), self._base - 1), tokens], axis=1)
        positions = np.broadcast_to(np.arange(K, padded.shape[1]), tokens.shape)
        return np.log(self._prob(self._contexts(padded, positions), tokens, self.order))
