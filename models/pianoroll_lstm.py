"""Piano-roll sigmoid LSTM (Huang & Wu, "Deep Learning for Music", 2016).

The piece is a frame roll, ``T x 88`` multi-hot frames over MIDI 21-108 at the source's
own resolution (:class:`~musebench.datasets.codecs.FrameRollCodec`). Each note has its
own embedding vector and a frame's input is the sum of its notes' embeddings (a
bias-free linear map of the multi-hot frame); a 2-layer LSTM (hidden 128 in the paper)
reads the frames and its output is projected back to 88 sigmoid units giving, for every
note independently, the probability that it sounds in the next frame:

.. math::

    p(x_t \\mid x_{<t}) = \\prod_{k=1}^{88} \\sigma(z_{t,k})^{x_{t,k}}
                          (1 - \\sigma(z_{t,k}))^{1 - x_{t,k}},
    \\qquad z_t = W\\,\\mathrm{LSTM}(E x_{0..t-1}) + b.

Training minimises the binary cross-entropy of the next frame, i.e. ``-log p(x_t|x_<t)``
summed over the 88 notes and averaged over frames. Every frame is scored, the first
included: it is predicted from an all-zero "previous frame" (the LSTM's zero initial
state reading silence), as in Boulanger-Lewandowski et al. (ICML 2012, Table 1), whose
figures are log-likelihoods per time step averaged over all test steps.
:meth:`PianoRollLSTM.log_likelihood` returns exactly these per-frame log-probabilities,
so the shared likelihood metrics and the training loss agree. Sigmoid and cross-entropy
are computed in float32 even under bf16 autocast.

Generation samples frame by frame: each note of frame ``t`` is drawn from its Bernoulli
probability and the sampled frame is fed back as the next input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from musebench.datasets.codecs import FrameRollCodec
from musebench.datasets.piece import Piece
from musebench.models.base import StepLikelihood, step_mask
from musebench.models.cpu_bf16_lstm import LSTM
from musebench.models.likelihood_generator import LikelihoodGenerator


class PianoRollLSTM(LikelihoodGenerator):
    """Next-frame sigmoid LSTM on an 88-key frame roll.

    Args:
        embedding: size of each note's embedding vector (a frame's input is their sum).
        hidden: LSTM hidden size (128 in Huang & Wu).
        layers: stacked LSTM layers (2 in Huang & Wu).
        dropout: dropout between LSTM layers and before the output layer.
        lr: Adam learning rate.
        steps: frames per generated sample.
        lowest: lowest MIDI pitch of the roll.
        highest: highest MIDI pitch of the roll.
    """

    def __init__(
        self,
        *,
        embedding: int = 128,
        hidden: int = 128,
        layers: int = 2,
        dropout: float = 0.0,
        lr: float = 1e-3,
        steps: int = 64,
        lowest: int = 21,
        highest: int = 108,
    ) -> None:
        super().__init__()

    # ------------------------------------------------------------------ hooks
    def configure_codec(self) -> FrameRollCodec:
        return FrameRollCodec(self.hparams.lowest, self.hparams.highest)

    def configure_models(self) -> None:
        h = self.hparams
        n_pitches = self.codec.n_pitches
        self.note_embedding = nn.Linear(n_pitches, h.embedding, bias=False)
        self.lstm = LSTM(h.embedding, h.hidden, num_layers=h.layers, batch_first=True,
                         dropout=h.dropout if h.layers > 1 else 0.0)
        self.drop = nn.Dropout(h.dropout)
        self.output = nn.Linear(h.hidden, n_pitches)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    # ---------------------------------------------------------------- network
    def forward(
        self, previous: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits of each next frame given the frames before it.

        Args:
            previous: ``(B, T, 88)`` input frames (frame ``t`` is the one before target ``t``).
            state: LSTM state to continue from (zeros if None).

        Returns:
            ``(B, T, 88)`` float32 logits and the LSTM state after the last frame.
        """
        hidden, state = self.lstm(self.note_embedding(previous), state)
        return self.output(self.drop(hidden)).float(), state

    def step_log_probs(self, roll: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame log-probability of ``roll`` and the per-note probabilities.

        The input of target frame ``t`` is frame ``t - 1``; frame 0 is predicted from an
        all-zero frame.

        Returns:
            ``(B, T)`` log-probabilities (summed over the 88 notes) and ``(B, T, 88)``
            note probabilities, both float32.
        """
        roll = roll.float()
        previous = F.pad(roll[:, :-1], (0, 0, 1, 0))
        logits, _ = self(previous)
        bce = F.binary_cross_entropy_with_logits(logits, roll, reduction="none")
        return -bce.sum(-1), torch.sigmoid(logits)

    # --------------------------------------------------------------- training
    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        roll = batch["roll"]
        log_prob, probs = self.step_log_probs(roll)
        return StepLikelihood(log_prob=log_prob, mask=step_mask(batch, roll.shape[1]),
                              note_probs=probs, note_targets=roll.float())

    # ------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(
        self, n: int, *, conditions: list[Piece] | None = None, seed: int | None = None
    ) -> list[Piece]:
        """``n`` rolls of ``hparams.steps`` frames, sampled frame by frame (Bernoulli).

        Unconditional: ``conditions`` only lend their grid (``steps_per_beat`` and
        ``beats_per_bar``) to the samples, so they share the source's resolution.
        """
        was_training = self.training
        self.eval()
        rng = self.torch_rng(seed, self.device)
        frame = torch.zeros(n, 1, self.codec.n_pitches, device=self.device)
        state = None
        frames = []
        for _ in range(self.hparams.steps):
            logits, state = self(frame, state)
            frame = torch.bernoulli(torch.sigmoid(logits), generator=rng)
            frames.append(frame)
        self.train(was_training)
        rolls = torch.cat(frames, dim=1).cpu().numpy()
        return self.decode_on_grid([{"roll": roll} for roll in rolls], conditions, seed,
                                   "pianoroll_lstm")
