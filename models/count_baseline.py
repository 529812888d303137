"""The base of the count baselines (Markov, random): models over melody tokens that learn
by counting in :meth:`~CountBaseline.fit_statistics` instead of by gradient descent.

The tokens are :class:`~musebench.datasets.codecs.melody_tokens.MelodyTokenCodec`'s.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from musebench.datasets.codecs.melody_tokens import MelodyTokenCodec
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator, StepLikelihood


def with_condition(piece: Piece, condition: Piece | None) -> Piece:
    """``piece`` carrying the chords, key and grid of ``condition`` (cut to its length), so
    harmony metrics compare the sample with the chords it was asked to follow."""
    if condition is None:
        return piece
    chords = condition.slice(0, piece.n_steps).chords
    meta = dict(piece.meta, condition=condition.id)
    return Piece(piece.notes, chords=chords, key=condition.key,
                 steps_per_beat=condition.steps_per_beat, beats_per_bar=condition.beats_per_bar,
                 length=piece.length, meta=meta)


class CountBaseline(MusicGenerator):
    """A count-based model over :class:`MelodyTokenCodec` tokens: it learns in
    :meth:`fit_statistics` (no gradient training; its configs set ``max_epochs: 0``) and
    samples autoregressively from :meth:`next_probs`.

    Subclasses implement :meth:`fit_statistics`, :meth:`next_probs` (the next-token
    distribution given the tokens so far) and :meth:`token_log_prob`. Samples carry the
    condition's chords and key so harmony metrics measure how well a model that ignores
    them follows them by chance: the floor of every table.
    """

    view = "melody"  # the codec encodes Piece.melody(): one line

    def configure_codec(self) -> MelodyTokenCodec:
        return MelodyTokenCodec(self.hparams.max_duration)

    def configure_models(self) -> None:
        self.fitted = False

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        raise RuntimeError(f"{type(self).__name__} learns by counting in fit_statistics; "
                           "set trainer.max_epochs: 0")

    def encode_all(self, pieces: list[Piece]) -> list[np.ndarray]:
        """The token sequence of every piece (empty pieces left out)."""
        sequences = [self.codec.encode(p)["tokens"] for p in pieces]
        return [s for s in sequences if len(s)]

    @abstractmethod
    def next_probs(self, history: np.ndarray) -> np.ndarray:
        """``(n, V)`` next-token probabilities given ``(n, t)`` tokens generated so far."""

    @abstractmethod
    def token_log_prob(self, tokens: np.ndarray) -> np.ndarray:
        """``(B, T)`` natural-log probability of each token given the ones before it."""

    def generate(
        self, n: int, *, conditions: list[Piece] | None = None, seed: int | None = None
    ) -> list[Piece]:
        """``n`` melodies of ``sample_steps`` steps (or the condition's length if shorter)."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__}.generate before fit_statistics")
        rng = self.numpy_rng(seed)
        conds = self.cycle(conditions, n) or [None] * n
        limit = int(self.hparams.sample_steps)
        steps = np.array([min(limit, c.n_steps) if c is not None and c.n_steps else limit
                          for c in conds])
        history = np.zeros((n, 0), dtype=np.int64)
        _, per_token = self.codec.split_tokens(np.arange(self.codec.vocab_size))
        elapsed = np.zeros(n, dtype=np.int64)
        while (elapsed < steps).any():
            cdf = np.cumsum(self.next_probs(history), axis=1)
            draw = (cdf < rng.random((n, 1)) * cdf[:, -1:]).sum(axis=1)
            draw = np.minimum(draw, self.codec.vocab_size - 1)
            history = np.concatenate([history, draw[:, None]], axis=1)
            elapsed += per_token[draw]
        pieces = []
        for i, condition in enumerate(conds):
            tokens = self.codec.truncate(history[i], int(steps[i]))
            piece = self.codec.decode({"tokens": tokens}, id=f"{type(self).__name__}-{i}",
                                      source="generated")
            pieces.append(with_condition(piece, condition))
        return pieces

    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Per-token log-probabilities of a collated codec batch (padding masked)."""
        tokens = batch["tokens"].cpu().numpy().astype(np.int64)
        if "lengths" in batch:
            lengths = batch["lengths"].cpu().numpy()
        else:
            lengths = np.full(len(tokens), tokens.shape[1])
        mask = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
        log_prob = np.where(mask, self.token_log_prob(tokens), 0.0)
        return StepLikelihood(torch.from_numpy(log_prob), torch.from_numpy(mask))
