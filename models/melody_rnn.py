"""Melody RNN (Magenta; Waite 2016, "Generating Long-Term Structure in Songs and Stories").

A monophonic melody is one event per 16th-note step: NO_EVENT, NOTE_OFF or a note-on per
pitch of MIDI 48-83 (:class:`~musebench.datasets.codecs.melody_events.MelodyEventCodec`,
which also transposes each melody to C major as Magenta's ``squash`` does). A stack of
LSTMs reads the one-hot event of each step and predicts the next step's class with a
softmax; nothing is embedded.

Configurations (Magenta's ``default_configs``):

- ``basic_rnn`` (``lookback_distances: []``): input = the one-hot event; 38 classes.
- ``lookback_rnn`` (``lookback_distances: [16, 32]``): the input adds, per distance, the
  one-hot event one and two bars before the next step, a 5-bit +-1 binary counter of the
  next step's position (16th .. whole note) and, per distance, whether the current event
  repeats the one a bar (two bars) ago; the output adds the classes "repeat the event 1
  bar ago" and "repeat the event 2 bars ago" (40 classes).
- ``attention_rnn`` (``key_inputs: true``, ``attention_length: 40``): the input is
  Magenta's ``KeyMelodyEncoderDecoder`` vector (74 values: sounding pitch, attack,
  direction, repeat flags, a 7-bit counter, start of bar, key estimates of the whole
  history and of the last three pitches; :mod:`~musebench.datasets.codecs.key_melody`),
  the outputs are the lookback classes, and the first LSTM layer attends over its last 40
  outputs (:class:`~musebench.models.melody_rnn_attention.AttentionLSTM`); clip 3.

All: two LSTM layers of 128, dropout 0.5 on every layer's output (TensorFlow's
``DropoutWrapper(output_keep_prob=0.5)``), Adam at 0.001, gradient norm clipped at 5 (3
for attention; the config's ``trainer.gradient_clip_val``), cross-entropy on the class
labels as Magenta trains.

Likelihood: the first step of a melody is given; every later 16th step ``t`` is scored by
``log p(event_t | events_<t)``. For the lookback and attention configurations an event can be reached by
several classes (a repeat class and its plain class), so the event's probability is the
sum over the classes that decode to it, a proper distribution over events; the training
loss is Magenta's cross-entropy on the one canonical label, an upper bound of that NLL.

Generation follows Magenta's ``generate_melody``: a primer (the condition's first
``primer_steps`` steps, transposed to C as in training) is continued by sampling each
class from ``softmax(logits / temperature)`` for ``steps`` more steps, and the continuation
is moved back to the condition's key. Unlike Magenta, the returned melody leaves the
primer out, as MidiNet leaves out its priming bar and the LSTM with attention its seed:
the primer is a bar of the real test piece, and scored as the model's own it would lift
its chord figures toward the real data's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from musebench.datasets.codecs.key_melody import key_input_size
from musebench.datasets.codecs.melody_events import (
    FIRST_NOTE,
    NO_EVENT,
    MelodyEventCodec,
    binary_counter,
    class_events,
    lookback_features,
)
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator, StepLikelihood
from musebench.models.cpu_bf16_lstm import LSTM
from musebench.models.melody_rnn_attention import AttentionLSTM


class MelodyRNN(MusicGenerator):
    """Magenta's Melody RNN: ``basic_rnn``, ``lookback_rnn`` or ``attention_rnn``.

    Args:
        min_note: lowest MIDI pitch of the event range (48 in Magenta).
        max_note: highest MIDI pitch, exclusive (84 in Magenta).
        transpose_to_key: major key every melody is transposed to (0 = C, Magenta's
            default); None keeps each melody's key.
        lookback_distances: steps looked back: ``[]`` is ``basic_rnn``, ``[16, 32]`` is
            ``lookback_rnn`` (one and two 4/4 bars).
        counter_bits: bits of the binary position counter (Magenta: 5 for lookback, 7
            for the key inputs).
        key_inputs: use the ``KeyMelodyEncoderDecoder`` inputs (``attention_rnn``).
        attention_length: outputs the first LSTM layer attends over (0: no attention;
            40 in ``attention_rnn``).
        hidden: units of each LSTM layer (128).
        layers: LSTM layers (2).
        dropout: dropout on every LSTM layer's output (Magenta's keep probability 0.5).
        lr: Adam learning rate (0.001).
        steps: 16th steps generated after the primer, per melody (128 = 8 bars).
        primer_steps: steps of the condition's melody that prime a sample (16 = a bar);
            without conditions the primer is one silent step.
        temperature: softmax temperature when sampling (1.0 in Magenta).
    """

    conditional = True
    view = "melody"

    def __init__(
        self,
        *,
        min_note: int = 48,
        max_note: int = 84,
        transpose_to_key: int | None = 0,
        lookback_distances: tuple[int, ...] = (),
        counter_bits: int = 5,
        key_inputs: bool = False,
        attention_length: int = 0,
        hidden: int = 128,
        layers: int = 2,
        dropout: float = 0.5,
        lr: float = 1e-3,
        steps: int = 128,
        primer_steps: int = 16,
        temperature: float = 1.0,
    ) -> None:
        super().__init__()

    # ------------------------------------------------------------------ hooks
    def configure_codec(self) -> MelodyEventCodec:
        h = self.hparams
        return MelodyEventCodec(h.min_note, h.max_note, h.transpose_to_key,
                                tuple(h.lookback_distances), h.key_inputs, h.counter_bits)

    def configure_models(self) -> None:
        h = self.hparams
        plain_layers, size = h.layers, self.input_size
        if h.attention_length:
            self.attention = AttentionLSTM(size, h.hidden, h.attention_length)
            self.attention_dropout = nn.Dropout(h.dropout)
            plain_layers, size = h.layers - 1, h.hidden
        self.lstm = LSTM(size, h.hidden, num_layers=plain_layers, batch_first=True,
                         dropout=h.dropout if plain_layers > 1 else 0.0)
        self.output_dropout = nn.Dropout(h.dropout)
        self.head = nn.Linear(h.hidden, self.codec.n_classes)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    @property
    def distances(self) -> tuple[int, ...]:
        return self.codec.lookback_distances

    @property
    def input_size(self) -> int:
        """The key inputs' size, or the one-hot event plus (lookback) the event per
        distance, the counter and the repeat bits."""
        n, d, bits = self.codec.n_events, len(self.distances), self.hparams.counter_bits
        if self.hparams.key_inputs:
            return key_input_size(n - FIRST_NOTE, d, bits)
        return n + (d * n + bits + d if d else 0)

    # ---------------------------------------------------------------- network
    def inputs(self, events: torch.Tensor, lookback: torch.Tensor, repeats: torch.Tensor,
               position: torch.Tensor) -> torch.Tensor:
        """``(B, T, input_size)`` input vectors of Magenta's encoder for each step."""
        n = self.codec.n_events
        parts = [F.one_hot(events, n)]
        if self.distances:
            parts += [F.one_hot(lookback, n).flatten(-2),
                      binary_counter(position, self.hparams.counter_bits), repeats]
        return torch.cat([p.float() for p in parts], -1)

    def forward(self, x: torch.Tensor, state: tuple | None = None) -> tuple[torch.Tensor, tuple]:
        """Class logits ``(B, T, n_classes)`` (float32) and the recurrent state after ``x``
        (the attention layer's and the LSTM's)."""
        attention_state, lstm_state = state if state is not None else (None, None)
        if self.hparams.attention_length:
            x, attention_state = self.attention(x, attention_state)
            x = self.attention_dropout(x)
        out, lstm_state = self.lstm(x, lstm_state)
        return self.head(self.output_dropout(out)).float(), (attention_state, lstm_state)

    def step_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits predicting step ``t + 1`` from steps ``<= t``, ``(B, T - 1, n_classes)``."""
        if self.hparams.key_inputs:
            return self(batch["inputs"][:, :-1].float())[0]
        rows = [batch[k][:, :-1] for k in ("events", "lookback", "repeats", "position")]
        return self(self.inputs(*rows))[0]

    def target_mask(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, T - 1)`` bool: the predicted step is a real (unpadded) step."""
        events = batch["events"]
        steps = torch.arange(1, events.shape[1], device=events.device)
        if "lengths" not in batch:
            return torch.ones(events.shape[0], len(steps), dtype=torch.bool, device=events.device)
        return steps[None] < batch["lengths"][:, None]

    # --------------------------------------------------------------- training
    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Natural-log probability of each 16th step's event after the first, given the
        steps before it: the sum of the probabilities of every class decoding to it."""
        log_probs = self.step_logits(batch).log_softmax(-1)
        decoded = class_events(batch["lookback"][:, :-1], self.codec.n_events)
        hits = decoded == batch["events"][:, 1:, None]
        log_prob = log_probs.masked_fill(~hits, float("-inf")).logsumexp(-1)
        return StepLikelihood(log_prob=log_prob, mask=self.target_mask(batch))

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Magenta's loss: cross-entropy on the canonical class labels, mean over real steps."""
        logits = self.step_logits(batch)
        mask = self.target_mask(batch)
        nll = F.cross_entropy(logits.transpose(1, 2), batch["labels"][:, 1:], reduction="none")
        return (nll * mask).sum() / mask.sum().clamp(min=1)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["events"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.loss(batch), prog_bar=True, batch_size=len(batch["events"]),
                 sync_dist=True)

    # ------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, n: int, *, conditions: list[Piece] | None = None,
                 seed: int | None = None) -> list[Piece]:
        """``n`` melodies of ``steps`` 16th steps: the continuation, sampled, of the primer
        of condition ``i`` (cycling), in the condition's key (``meta['condition']`` names
        it); the primer itself is not returned."""
        h = self.hparams
        was_training = self.training
        self.eval()
        rng = self.torch_rng(seed, self.device)
        seeds = self.cycle(conditions, n)
        events, transpose = self.primers(seeds, n)
        primed = events.shape[1]
        logits, state = self(self.features(events))
        while events.shape[1] < primed + h.steps:
            probs = (logits[:, -1] / max(h.temperature, 1e-6)).softmax(-1)
            chosen = torch.multinomial(probs, 1, generator=rng)
            lookback = lookback_features(events, self.distances, self.codec.n_events)["lookback"]
            options = class_events(lookback[:, -1], self.codec.n_events)
            events = torch.cat([events, options.gather(1, chosen)], 1)
            logits, state = self(self.features(events)[:, -1:], state)
        self.train(was_training)
        return [
            self.codec.decode({"events": e, "transpose": t}, id=f"melody_rnn-{i}",
                              source="melody_rnn", seed=seed,
                              condition=seeds[i].id if seeds else None)
            for i, (e, t) in enumerate(zip(events[:, primed:].cpu().numpy(), transpose,
                                           strict=True))
        ]

    def features(self, events: torch.Tensor) -> torch.Tensor:
        """Input vectors of every step of ``(B, T)`` events counted from the melody's start."""
        if self.hparams.key_inputs:
            inputs = self.codec.key_melody_inputs(events.cpu().numpy())
            return torch.from_numpy(inputs).to(events.device)
        found = lookback_features(events, self.distances, self.codec.n_events)
        position = torch.arange(events.shape[1], device=events.device).expand_as(events)
        return self.inputs(events, found["lookback"], found["repeats"], position)

    def primers(self, seeds: list[Piece] | None, n: int) -> tuple[torch.Tensor, list[int]]:
        """``(n, primer_steps)`` primer events (silence-padded) and each one's shift to C;
        one silent step and no shift without conditions."""
        if not seeds:
            return torch.full((n, 1), NO_EVENT, device=self.device), [0] * n
        length = max(1, self.hparams.primer_steps)
        events = torch.full((n, length), NO_EVENT, dtype=torch.long)
        shifts = []
        for i, piece in enumerate(seeds):
            encoded = self.codec.encode(piece)
            primer = torch.from_numpy(encoded["events"][:length])
            events[i, : len(primer)] = primer
            shifts.append(int(encoded["transpose"]))
        return events.to(self.device), shifts
