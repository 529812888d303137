"""LSTM with attention over pitch/duration tokens (Foster, *Generative Deep Learning*,
O'Reilly 2019, ch. 7 "Compose").

Each event of a piece is a pitch token and a duration token
(:class:`~musebench.datasets.codecs.pitch_duration.TokenCodec`). The network:

- pitch and duration embeddings (100 each), concatenated;
- two LSTMs (256) returning sequences, states :math:`h_1..h_T`;
- additive attention: a tanh scoring layer :math:`e_s = \\tanh(w^\\top h_s + b)`, a
  softmax over time and the weighted sum of states
  :math:`c_t = \\sum_{s \\le t} \\alpha_{t,s} h_s`,
  :math:`\\alpha_{t,s} = \\exp(e_s) / \\sum_{s' \\le t} \\exp(e_{s'})`;
- two softmax heads on :math:`c_t`, the next pitch and the next duration.

The book's model predicts only the token after a 32-token window, attending over the
whole window. Here the attention is causal, so position :math:`t` of a window attends
over :math:`h_1..h_t` and every position is a training target; the last position of a
32-token window is exactly the book's model. The loss is the sum of the two
cross-entropies averaged over target tokens, optimised with RMSprop, and the
per-event log-likelihood is :math:`\\log p(\\text{pitch}_t) + \\log p(\\text{duration}_t)`
(:meth:`LSTMAttention.log_likelihood`), so loss and likelihood agree.

Generation seeds each sample with the first tokens of a test piece (or just the start
tokens) and samples pitch and duration with a temperature per head, attending over the
last ``seq_len`` tokens as the book does. :meth:`LSTMAttention.attention_weights` gives
the attention map of any piece, generated ones included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from musebench.datasets.codecs.pitch_duration import SPECIALS, TokenCodec
from musebench.datasets.piece import Piece
from musebench.models.base import StepLikelihood
from musebench.models.cpu_bf16_lstm import LSTM
from musebench.models.likelihood_generator import LikelihoodGenerator

#: RMSprop's decay (torch's ``alpha``): Keras's default ``rho``, used by the book.
RMSPROP_RHO = 0.9
#: Samples whose attention map the bench writes into the run folder.
ATTENTION_FIGURES = 4


class LSTMAttention(LikelihoodGenerator):
    """Two-stream (pitch, duration) LSTM with causal additive attention.

    Args:
        embedding: size of each of the pitch and duration embeddings (100 in the book).
        hidden: units of each of the two LSTMs (256 in the book).
        lr: RMSprop learning rate; RMSprop's decay ``rho`` is 0.9, Keras's default, which
            the book's ``RMSprop(lr=0.001)`` uses (torch's own default is 0.99).
        start_tokens: start tokens before each piece (1; the book pads every piece with
            ``seq_len`` = 32 of them, the paper preset's value).
        seq_len: tokens attended over when generating (the training window, 32).
        seed_tokens: tokens (start token included) taken from a condition as the seed.
        steps: events generated per sample.
        pitch_temperature: softmax temperature of the pitch head when sampling.
        duration_temperature: softmax temperature of the duration head when sampling.
        pitch_vocab: learned pitch tokens (set by :meth:`fit_statistics`, saved with the
            checkpoint).
        duration_vocab: learned duration classes (likewise).
    """

    conditional = True

    def __init__(
        self,
        *,
        embedding: int = 100,
        hidden: int = 256,
        lr: float = 1e-3,
        seq_len: int = 32,
        seed_tokens: int = 8,
        start_tokens: int = 1,
        steps: int = 64,
        pitch_temperature: float = 0.5,
        duration_temperature: float = 0.5,
        pitch_vocab: list[str] | None = None,
        duration_vocab: list[str] | None = None,
    ) -> None:
        super().__init__()

    # ------------------------------------------------------------------ hooks
    def configure_codec(self) -> TokenCodec:
        return TokenCodec(self.hparams.pitch_vocab, self.hparams.duration_vocab,
                          start_tokens=self.hparams.start_tokens)

    def configure_models(self) -> None:
        h = self.hparams
        n_pitch, n_duration = len(self.codec.pitch_tokens), len(self.codec.duration_tokens)
        self.pitch_embedding = nn.Embedding(n_pitch, h.embedding)
        self.duration_embedding = nn.Embedding(n_duration, h.embedding)
        self.lstm1 = LSTM(2 * h.embedding, h.hidden, batch_first=True)
        self.lstm2 = LSTM(h.hidden, h.hidden, batch_first=True)
        self.score = nn.Linear(h.hidden, 1)
        self.pitch_head = nn.Linear(h.hidden, n_pitch)
        self.duration_head = nn.Linear(h.hidden, n_duration)

    def fit_statistics(self, train: list[Piece], valid: list[Piece] | None = None) -> None:
        """Learn the token vocabularies from the training pieces (only) and size the network.

        The vocabularies go into ``hparams`` so a checkpoint reloads with the same
        network; the layers are rebuilt (untrained) to the vocabulary sizes.
        """
        self.codec.fit(train)
        self.hparams.pitch_vocab = self.codec.pitch_vocab
        self.hparams.duration_vocab = self.codec.duration_vocab
        self.configure_models()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(self.parameters(), lr=self.hparams.lr, alpha=RMSPROP_RHO)

    # ---------------------------------------------------------------- network
    def forward(
        self, pitch: torch.Tensor, duration: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Next-token logits at every position.

        Args:
            pitch: ``(B, T)`` pitch token ids.
            duration: ``(B, T)`` duration token ids.

        Returns:
            float32 pitch logits ``(B, T, n_pitch)``, duration logits
            ``(B, T, n_duration)`` and attention weights ``(B, T, T)`` (row ``t`` over
            positions ``<= t``).
        """
        x = torch.cat([self.pitch_embedding(pitch), self.duration_embedding(duration)], -1)
        states, _ = self.lstm1(x)
        states, _ = self.lstm2(states)
        scores = torch.tanh(self.score(states)).squeeze(-1).float()  # (B, T)
        steps = pitch.shape[1]
        causal = torch.ones(steps, steps, dtype=torch.bool, device=pitch.device).tril()
        weights = scores[:, None, :].expand(-1, steps, -1).masked_fill(~causal, float("-inf"))
        weights = weights.softmax(-1)
        context = torch.bmm(weights.to(states.dtype), states)
        return (self.pitch_head(context).float(), self.duration_head(context).float(), weights)

    # --------------------------------------------------------------- training
    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Log-probability of each next event (pitch and duration), one step per token
        after the first; the mask marks real (unpadded) targets."""
        pitch, duration = batch["pitch"], batch["duration"]
        pitch_logits, duration_logits, _ = self(pitch[:, :-1], duration[:, :-1])
        log_prob = (
            pitch_logits.log_softmax(-1).gather(-1, pitch[:, 1:, None]).squeeze(-1)
            + duration_logits.log_softmax(-1).gather(-1, duration[:, 1:, None]).squeeze(-1)
        )
        steps = pitch.shape[1] - 1
        if "lengths" in batch:
            mask = torch.arange(steps, device=pitch.device)[None] < batch["lengths"][:, None] - 1
        else:
            mask = torch.ones_like(log_prob, dtype=torch.bool)
        return StepLikelihood(log_prob=log_prob, mask=mask)

    # ------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(
        self, n: int, *, conditions: list[Piece] | None = None, seed: int | None = None
    ) -> list[Piece]:
        """``n`` continuations of ``hparams.steps`` events after a seed.

        The seed of sample ``i`` is the first ``seed_tokens`` tokens of condition ``i``
        (cycling), or the start tokens alone without conditions. Returned pieces hold only
        the generated events; ``meta['seed_id']`` names the seed piece.
        """
        h = self.hparams
        if not self.codec.fitted:
            raise RuntimeError("LSTMAttention: call fit_statistics(train pieces) first")
        was_training = self.training
        self.eval()
        rng = self.torch_rng(seed, self.device)
        seeds = self.cycle(conditions, n)
        pitch, duration = self._seed_tokens(seeds, n)
        n_seed = pitch.shape[1]
        special = len(SPECIALS)
        for _ in range(h.steps):
            pitch_logits, duration_logits, _ = self(pitch[:, -h.seq_len:],
                                                    duration[:, -h.seq_len:])
            next_pitch = sample(pitch_logits[:, -1], h.pitch_temperature, special, rng)
            next_duration = sample(duration_logits[:, -1], h.duration_temperature, special, rng)
            pitch = torch.cat([pitch, next_pitch[:, None]], 1)
            duration = torch.cat([duration, next_duration[:, None]], 1)
        self.train(was_training)
        pitch, duration = pitch[:, n_seed:].cpu().numpy(), duration[:, n_seed:].cpu().numpy()
        return [
            self.codec.decode({"pitch": p, "duration": d}, id=f"lstm_attention-{i}",
                              source="lstm_attention", seed=seed,
                              seed_id=seeds[i].id if seeds else None)
            for i, (p, d) in enumerate(zip(pitch, duration, strict=True))
        ]

    def _seed_tokens(self, seeds: list[Piece] | None, n: int) -> tuple[torch.Tensor, ...]:
        """``(n, L)`` pitch and duration seed ids, all seeds cut to the shortest one."""
        start = SPECIALS.index("<start>")
        if not seeds:
            ids = torch.full((n, 1), start, dtype=torch.long, device=self.device)
            return ids, ids.clone()
        encoded = [self.codec.encode(p) for p in seeds]
        length = min(self.hparams.seed_tokens, *(len(e["pitch"]) for e in encoded))
        return tuple(
            torch.from_numpy(np.stack([e[k][:length] for e in encoded])).to(self.device)
            for k in ("pitch", "duration")
        )

    @torch.no_grad()
    def attention_weights(self, piece: Piece) -> np.ndarray:
        """``(T, T)`` attention map over the piece's tokens (start token included): row
        ``t`` is how the prediction after token ``t`` weighs tokens ``0..t``."""
        encoded = self.codec.encode(piece)
        pitch, duration = (torch.from_numpy(encoded[k])[None].to(self.device)
                           for k in ("pitch", "duration"))
        return self(pitch, duration)[2][0].cpu().numpy()

    @torch.no_grad()
    def write_figures(self, samples: list[Piece], folder: Path) -> list[Path]:
        """The attention map of the first ``ATTENTION_FIGURES`` samples, as the book
        plots it: ``attention-<i>.png``, row = predicting position, column = attended
        token (start tokens included)."""
        from musebench.models.attention_figure import save_attention_map

        was_training = self.training
        self.eval()
        maps = [self.attention_weights(piece) for piece in samples[:ATTENTION_FIGURES]]
        self.train(was_training)
        return [save_attention_map(weights, folder / f"attention-{i}.png",
                                   title=f"{piece.id}: attention")
                for i, (weights, piece) in enumerate(zip(maps, samples, strict=False))]


def sample(logits: torch.Tensor, temperature: float, n_special: int,
           rng: torch.Generator) -> torch.Tensor:
    """One token id per row from ``softmax(logits / temperature)``, never a special token."""
    logits = logits.clone()
    logits[:, :n_special] = float("-inf")
    probs = (logits / max(temperature, 1e-6)).softmax(-1)
    return torch.multinomial(probs, 1, generator=rng).squeeze(-1)
