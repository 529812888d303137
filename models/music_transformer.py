"""A small Music Transformer (Huang et al., "Music Transformer", ICLR 2019).

A decoder-only transformer over MIDI-like event tokens (note-on, note-off, time-shift,
velocity; :class:`~musebench.datasets.codecs.event_tokens.EventTokenCodec`) with relative
position self-attention computed by the memory-efficient skewing
(:mod:`musebench.models.relative_attention`), torch's scaled-dot-product attention
carrying the relative logits as its float mask. No absolute positions: position enters
only through the relative logits, as in the paper's relative-only variant.

Training minimises the cross-entropy of every next token (nats per event).
:meth:`MusicTransformer.log_likelihood` reports **per time step**, like the frame models:
the event log-probabilities of a piece are summed onto the grid steps where they take
effect (:func:`~musebench.datasets.codecs.event_tokens.events_to_steps`), so the test
figure is (total log-probability of the piece) / (its number of steps). Caveat for the
polyphonic table: the events also encode re-articulation and velocity, which a frame roll
does not, so the event model is scored on a slightly richer object (on the Boulanger-
Lewandowski sets every velocity is equal and the first VELOCITY token costs ~0 nats once
learned).

Generation samples tokens with a key/value cache until ``steps`` grid steps are covered
(or ``max_tokens`` tokens), then decodes the events to notes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from musebench.datasets.codecs.event_tokens import START, EventTokenCodec, events_to_steps
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator, StepLikelihood
from musebench.models.relative_attention import Cache, DecoderBlock


class MusicTransformer(MusicGenerator):
    """Decoder-only transformer with relative attention on event tokens.

    Args:
        d_model: model width.
        heads: attention heads.
        layers: decoder blocks.
        ff: width of each block's MLP.
        dropout: dropout on attention, residuals and the MLP.
        max_relative: relative distances (in tokens) with their own embedding; longer
            ones share the last.
        max_shift: longest TIME_SHIFT token, in grid steps.
        velocity_bins: velocity resolution of the VELOCITY tokens.
        lr: Adam learning rate.
        warmup: linear learning-rate warm-up, in optimiser steps.
        steps: grid steps per generated sample.
        max_tokens: token cap per generated sample.
        temperature: sampling temperature.
    """

    def __init__(
        self,
        *,
        d_model: int = 128,
        heads: int = 4,
        layers: int = 3,
        ff: int = 512,
        dropout: float = 0.1,
        max_relative: int = 512,
        max_shift: int = 32,
        velocity_bins: int = 32,
        lr: float = 1e-3,
        warmup: int = 200,
        steps: int = 64,
        max_tokens: int = 2048,
        temperature: float = 1.0,
    ) -> None:
        super().__init__()

    # ------------------------------------------------------------------ hooks
    def configure_codec(self) -> EventTokenCodec:
        return EventTokenCodec(self.hparams.max_shift, self.hparams.velocity_bins)

    def configure_models(self) -> None:
        h = self.hparams
        self.embedding = nn.Embedding(self.codec.vocab_size, h.d_model)
        self.drop = nn.Dropout(h.dropout)
        self.blocks = nn.ModuleList(DecoderBlock(h.d_model, h.heads, h.ff, h.max_relative,
                                                 h.dropout) for _ in range(h.layers))
        self.norm = nn.LayerNorm(h.d_model)
        self.output = nn.Linear(h.d_model, self.codec.vocab_size)

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr, betas=(0.9, 0.98))
        warmup = max(self.hparams.warmup, 1)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / warmup))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    # ---------------------------------------------------------------- network
    def forward(self, tokens: torch.Tensor, caches: list[Cache] | None = None
                ) -> tuple[torch.Tensor, list[Cache]]:
        """``(B, L, vocab)`` float32 next-token logits of ``tokens`` ``(B, L)``, attending
        also to ``caches`` (one per block); returns the extended caches."""
        x = self.drop(self.embedding(tokens))
        new_caches = []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, caches[i] if caches is not None else None)
            new_caches.append(cache)
        return self.output(self.norm(x)).float(), new_caches

    def token_log_probs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, N-1)`` log-probability of every token after the first, and its mask."""
        tokens = batch["tokens"].long()
        logits, _ = self(tokens[:, :-1])
        log_prob = -F.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], reduction="none")
        if "lengths" in batch:
            lengths = batch["lengths"].to(tokens.device)
            mask = torch.arange(1, tokens.shape[1], device=tokens.device)[None] < lengths[:, None]
        else:
            mask = torch.ones_like(log_prob, dtype=torch.bool)
        return log_prob, mask

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean negative log-probability per scored token (nats per event)."""
        log_prob, mask = self.token_log_probs(batch)
        return -(log_prob * mask).sum() / mask.sum().clamp(min=1)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["tokens"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.loss(batch), prog_bar=True, batch_size=len(batch["tokens"]),
                 sync_dist=True)

    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Per-time-step log-probabilities (events summed onto their grid steps)."""
        log_prob, mask = self.token_log_probs(batch)
        per_step, step_mask = events_to_steps(log_prob, batch["step"][:, 1:],
                                              batch["until"][:, 1:], mask)
        return StepLikelihood(log_prob=per_step, mask=step_mask)

    # ------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(
        self, n: int, *, conditions: list[Piece] | None = None, seed: int | None = None
    ) -> list[Piece]:
        """``n`` pieces of ``hparams.steps`` grid steps, sampled token by token.

        Unconditional: ``conditions`` only lend their grid to the samples.
        """
        h = self.hparams
        was_training = self.training
        self.eval()
        rng = self.torch_rng(seed, self.device)
        token = torch.full((n, 1), START, dtype=torch.long, device=self.device)
        time = torch.zeros(n, dtype=torch.long, device=self.device)
        done = torch.zeros(n, dtype=torch.bool, device=self.device)
        caches, sampled = None, []
        for _ in range(h.max_tokens):
            logits, caches = self(token, caches)
            logits[:, -1, START] = float("-inf")  # the start token only opens a stream
            probs = torch.softmax(logits[:, -1] / h.temperature, dim=-1)
            token = torch.multinomial(probs, 1, generator=rng)
            sampled.append(torch.where(done[:, None], -1, token))
            time += self.codec.shift_of(token[:, 0]) * ~done
            done |= time >= h.steps
            if bool(done.all()):
                break
        self.train(was_training)
        streams = torch.cat(sampled, dim=1).cpu().numpy()
        return self.decode_on_grid([{"tokens": stream[stream >= 0]} for stream in streams],
                                   conditions, seed, "music_transformer")
