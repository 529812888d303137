"""Daniel Johnson's biaxial LSTM: recurrence over time for every note, then over notes.

Johnson, "Composing music with recurrent neural networks" (2015, blog post and code
``hexahedria/biaxial-rnn-music-composition``); Johnson, "Generating polyphonic music
using tied parallel networks", EvoMUSART 2017.

Architecture (all weights shared across notes, so the model is transposition-aware):
    1. Time axis: LSTMs (paper [300, 300]) run over the steps of every note separately
       (one ``nn.LSTM`` call with batch ``B * N``), input = :meth:`BiaxialCodec.note_features`
       of the previous step.
    2. Note axis: LSTMs (paper [100, 50]) run from the lowest to the highest note at each
       step (one call with batch ``B * T``); note ``k``'s input is the time-axis output at
       ``k`` plus the play and articulate of note ``k - 1`` at the same step (teacher
       forced in training, sampled in :meth:`BiaxialLSTM.generate`).
    3. A linear layer gives two logits per note: play and articulate.

Loss (per step, summed over notes, averaged over real steps):
    ``-sum_n [log p(play_tn) + play_tn * log p(artic_tn)]`` with Bernoulli ``p``; the
articulation term is masked where the note does not play.

Dropout (0.5 in the paper) as in Johnson's code (model.py lines 163-170 and 193-200): one
mask per sequence and layer, passed into ``theano.scan`` as a non-sequence, so the same
units are dropped at every step of a note's time sequence and at every note of a step's
note sequence. It acts between the time-axis layers (not on the last one's output, which
enters the note axis undropped: theano_lstm's ``StackedCells.forward`` drops each layer's
*input*, and the first mask is None) and on every note-axis layer's output.

Optimiser: Adam (``optimizer: adam``) or Johnson's AdaDelta (``adadelta``, model.py line
225, with theano_lstm's rho 0.95 and eps 1e-6 and no learning rate, i.e. ``lr = 1``).

Generation (``sampling``): ``"bernoulli"`` samples every note's play and articulate bits
from the network's probabilities, starting from silence. ``"johnson"`` is Johnson's
``gen_adaptive`` (main.py lines 9-30): the first frame is a real one (the condition
piece's first frame; he drew a random training segment) and a note plays when
``u < p_play ** c``, with the conservativity ``c`` starting at 1 and adapted after every
step: below 2 sounding notes, ``c = min(c, 1) - 0.02`` (more notes), else
``c += (1 - c) * 0.3``.

Likelihood (:meth:`log_likelihood`): ``log_prob[b, t] = sum_n log p(play_tn)``, the
Bernoulli log-likelihood of the frame's play bits only, which is the quantity of
Boulanger-Lewandowski et al. 2012, Table 1 (log-likelihood per time step of the frame
roll), so the figure compares with the piano-roll LSTM. Pitches outside the 78-note
range are not scored (none of JSB's, MIDI 43-96, are). The articulation NLL is logged
separately as ``val_articulate_nll``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
from torch import nn
from torch.nn import functional as F

from musebench.datasets.codecs.biaxial import BiaxialCodec
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator, StepLikelihood, step_mask
from musebench.models.cpu_bf16_lstm import LSTM

OPTIMIZERS = ("adam", "adadelta")
SAMPLINGS = ("bernoulli", "johnson")


@contextmanager
def single_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run on one intra-op thread on CPU, restoring the setting afterwards.

    Sampling is ``steps * 78`` sequential calls on tiny tensors that gain nothing from
    intra-op threads; on a busy 2-core machine two OpenMP threads made a 16-step sample
    20-60x slower (25-74 s against 1.2 s measured here).
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class StackedLSTM(nn.Module):
    """LSTM layers of possibly different widths (batch first) with dropout on each layer's
    output (``drop_last=False``: not on the last one's). In training each sequence draws
    one mask per layer, the same at every position of the sequence (Johnson's masks)."""

    def __init__(self, input_size: int, sizes: list[int], dropout: float,
                 drop_last: bool = True) -> None:
        super().__init__()
        widths = [input_size, *sizes]
        self.layers = nn.ModuleList(
            LSTM(widths[i], widths[i + 1], batch_first=True) for i in range(len(sizes))
        )
        self.dropout = dropout
        self.drop_last = drop_last

    def drop(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(batch, length, H)`` times a ``(batch, 1, H)`` mask of kept units scaled
        by ``1 / (1 - dropout)`` (training only)."""
        if not self.training or self.dropout == 0:
            return x
        keep = 1.0 - self.dropout
        return x * torch.bernoulli(x.new_full((x.shape[0], 1, x.shape[2]), keep)) / keep

    def forward(self, x: torch.Tensor, state: list[Any] | None = None
                ) -> tuple[torch.Tensor, list[Any]]:
        """Run ``x`` ``(batch, length, input)``; ``state`` is one ``(h, c)`` per layer."""
        new_state = []
        for i, layer in enumerate(self.layers):
            x, layer_state = layer(x, None if state is None else state[i])
            if self.drop_last or i < len(self.layers) - 1:
                x = self.drop(x)
            new_state.append(layer_state)
        return x, new_state


def adapt_conservativity(conservativity: torch.Tensor, sounding: torch.Tensor
                         ) -> torch.Tensor:
    """Johnson's update after a step with ``sounding`` notes (per sample): fewer than 2
    gives ``min(c, 1) - 0.02``, otherwise ``c + (1 - c) * 0.3``."""
    return torch.where(sounding < 2, conservativity.clamp(max=1.0) - 0.02,
                       conservativity + (1 - conservativity) * 0.3)


class BiaxialLSTM(MusicGenerator):
    """Johnson's biaxial LSTM over 78 notes (MIDI 24-101).

    Args:
        time_sizes: widths of the time-axis LSTMs (paper [300, 300]).
        note_sizes: widths of the note-axis LSTMs (paper [100, 50]).
        dropout: dropout between layers, masks fixed per sequence (paper 0.5).
        lr: Adam learning rate (AdaDelta has none: ``lr`` is ignored with it).
        optimizer: ``"adam"`` or ``"adadelta"`` (Johnson's).
        sampling: ``"bernoulli"`` or ``"johnson"`` (seeded first frame, conservativity).
        lowest: lowest modelled MIDI pitch.
        highest: highest modelled MIDI pitch.
        steps_per_beat: grid of the data and of generated pieces.
        beats_per_bar: bar length of generated pieces.
        generate_steps: length of a generated piece in steps.
    """

    def __init__(self, *, time_sizes: list[int] | tuple[int, ...] = (300, 300),
                 note_sizes: list[int] | tuple[int, ...] = (100, 50), dropout: float = 0.5,
                 lr: float = 1e-3, lowest: int = 24, highest: int = 101,
                 steps_per_beat: int = 4, beats_per_bar: int = 4,
                 generate_steps: int = 64, optimizer: Literal["adam", "adadelta"] = "adam",
                 sampling: Literal["bernoulli", "johnson"] = "bernoulli") -> None:
        super().__init__()

    def configure_codec(self) -> BiaxialCodec:
        h = self.hparams
        return BiaxialCodec(h.lowest, h.highest, steps_per_beat=h.steps_per_beat,
                            beats_per_bar=h.beats_per_bar)

    def configure_models(self) -> None:
        h = self.hparams
        self.time_lstm = StackedLSTM(self.codec.n_features, h.time_sizes, h.dropout,
                                     drop_last=False)
        self.note_lstm = StackedLSTM(h.time_sizes[-1] + 2, h.note_sizes, h.dropout)
        self.output = nn.Linear(h.note_sizes[-1], 2)

    # ------------------------------------------------------------- training
    def note_axis_input(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, T, N, time_size + 2)``: time-axis output at each note plus the play and
        articulate of the note below at the same step (zeros below the lowest note)."""
        play, articulate = batch["play"].float(), batch["articulate"].float()
        features = self.codec.note_features(play, articulate, batch["beat"])
        b, t, n, f = features.shape
        hidden, _ = self.time_lstm(features.permute(0, 2, 1, 3).reshape(b * n, t, f))
        hidden = hidden.reshape(b, n, t, -1).permute(0, 2, 1, 3)
        below = torch.stack([play, articulate], dim=-1)
        below = torch.cat([torch.zeros_like(below[:, :, :1]), below[:, :, :-1]], dim=2)
        return torch.cat([hidden, below.to(hidden.dtype)], dim=-1)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, T, N, 2)`` float32 logits of play and articulate, teacher forced."""
        inputs = self.note_axis_input(batch)
        b, t, n, f = inputs.shape
        hidden, _ = self.note_lstm(inputs.reshape(b * t, n, f))
        return self.output(hidden).reshape(b, t, n, 2).float()

    def step_nll(self, batch: dict[str, torch.Tensor]
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-step NLL of play and of (masked) articulate, ``(B, T)`` each, and the logits."""
        logits = self(batch)
        play, articulate = batch["play"].float(), batch["articulate"].float()
        play_nll = F.binary_cross_entropy_with_logits(logits[..., 0], play, reduction="none")
        artic_nll = F.binary_cross_entropy_with_logits(logits[..., 1], articulate,
                                                       reduction="none") * play
        return play_nll.sum(-1), artic_nll.sum(-1), logits

    def loss(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Mean per-step NLL (play + articulate), and its two parts."""
        play_nll, artic_nll, _ = self.step_nll(batch)
        mask = step_mask(batch, batch["play"].shape[1]).float()
        steps = mask.sum().clamp(min=1.0)
        play_part = (play_nll * mask).sum() / steps
        artic_part = (artic_nll * mask).sum() / steps
        return {"loss": play_part + artic_part, "play_nll": play_part, "articulate_nll": artic_part}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        parts = self.loss(batch)
        self.log("train_loss", parts["loss"], prog_bar=True, batch_size=len(batch["play"]))
        return parts["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        parts = self.loss(batch)
        size = len(batch["play"])
        self.log("val_loss", parts["loss"], prog_bar=True, batch_size=size, sync_dist=True)
        self.log("val_play_nll", parts["play_nll"], batch_size=size, sync_dist=True)
        self.log("val_articulate_nll", parts["articulate_nll"], batch_size=size,
                 sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        if self.hparams.optimizer == "adadelta":
            return torch.optim.Adadelta(self.parameters(), lr=1.0, rho=0.95, eps=1e-6)
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Play-bit log-likelihood per step (see the module docstring) and note probabilities."""
        play_nll, _, logits = self.step_nll(batch)
        return StepLikelihood(log_prob=-play_nll, mask=step_mask(batch, batch["play"].shape[1]),
                              note_probs=torch.sigmoid(logits[..., 0]),
                              note_targets=batch["play"].float())

    # ----------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, n: int, *, conditions: list[Piece] | None = None,
                 seed: int | None = None) -> list[Piece]:
        """Sample ``n`` pieces of ``generate_steps`` steps, step by step and note by note
        (play, then articulate if played). ``sampling: johnson`` starts each piece from the
        first frame of a condition piece (cycled; silence without conditions) and samples
        with conservativity; plain Bernoulli sampling ignores ``conditions``."""
        was_training = self.training
        self.eval()
        rng = self.torch_rng(seed, self.device)
        johnson = self.hparams.sampling == "johnson"
        first = self.first_frames(self.cycle(conditions, n)) if johnson else None
        with single_cpu_thread(self.device):
            play, articulate = self.sample_states(n, self.hparams.generate_steps, rng,
                                                  first=first, conservative=johnson)
        self.train(was_training)
        play_np, artic_np = play.cpu().numpy(), articulate.cpu().numpy()
        return [self.codec.decode({"play": play_np[i], "articulate": artic_np[i]},
                                  id=f"biaxial-{seed}-{i}", source="biaxial")
                for i in range(n)]

    def first_frames(self, pieces: list[Piece] | None) -> torch.Tensor | None:
        """``(n, N, 2)`` play and articulate of each piece's first step (None without)."""
        if not pieces:
            return None
        frames = []
        for piece in pieces:
            encoded = self.codec.encode(piece)
            frame = torch.zeros(self.codec.n_notes, 2)
            if len(encoded["play"]):
                frame[:, 0] = torch.as_tensor(encoded["play"][0])
                frame[:, 1] = torch.as_tensor(encoded["articulate"][0])
            frames.append(frame)
        return torch.stack(frames).to(self.device)

    def sample_states(self, n: int, steps: int, rng: torch.Generator,
                      first: torch.Tensor | None = None, conservative: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(n, steps, N)`` sampled play and articulate states; ``first`` ``(n, N, 2)``
        is the given first step, ``conservative`` applies Johnson's conservativity."""
        notes, device = self.codec.n_notes, self.device
        steps_per_bar = self.hparams.steps_per_beat * self.hparams.beats_per_bar
        previous = torch.zeros(n, notes, 2, device=device)
        time_state = None
        out = torch.zeros(steps, n, notes, 2, device=device)
        start = 0
        if first is not None:
            out[0] = previous = first
            start = 1
        conservativity = torch.ones(n, device=device)
        for t in range(start, steps):
            beat = torch.full((n,), t % steps_per_bar, dtype=torch.long, device=device)
            features = self.codec.features_from_state(previous, beat)
            hidden, time_state = self.time_lstm(features.reshape(n * notes, 1, -1), time_state)
            hidden = hidden.reshape(n, notes, -1)
            below = torch.zeros(n, 2, device=device)
            note_state = None
            for k in range(notes):
                step_in = torch.cat([hidden[:, k], below], dim=-1).unsqueeze(1)
                top, note_state = self.note_lstm(step_in, note_state)
                prob = torch.sigmoid(self.output(top[:, 0]).float())
                play_prob = prob[:, 0].pow(conservativity) if conservative else prob[:, 0]
                played = torch.bernoulli(play_prob, generator=rng)
                struck = torch.bernoulli(prob[:, 1], generator=rng) * played
                below = torch.stack([played, struck], dim=-1)
                out[t, :, k] = below
            previous = out[t]
            if conservative:
                conservativity = adapt_conservativity(conservativity, previous[..., 0].sum(-1))
        out = out.permute(1, 0, 2, 3)
        return out[..., 0], out[..., 1]
