"""Magenta's melody event encoding (Melody RNN: ``basic_rnn`` and ``lookback_rnn``).

A melody is one event per grid step (a 16th note on a 4-steps-per-beat grid). Each event
is one of Magenta's ``MelodyOneHotEncoding`` classes::

    0                NO_EVENT: nothing changes (a note is held, or silence goes on)
    1                NOTE_OFF: the sounding note ends here
    2 .. 1+range     NOTE_ON(min_note + class - 2): a new note starts (ending the last one)

with ``range = max_note - min_note`` (36 pitches, MIDI 48-83, in Magenta's configs). As
Magenta's ``Melody.squash`` does before encoding, every melody is transposed to C major
(its key guessed from the note-on pitch classes: the major key whose scale holds most of
them, the lowest key on a tie), shifted by whole octaves to centre it in the range, and
notes still outside are folded in by octaves; the shift is kept (``transpose``) so
:meth:`MelodyEventCodec.decode` writes the melody back in its own key.

The lookback encoding (Magenta's ``LookbackEventSequenceEncoderDecoder``) adds, per step
``t`` and per lookback distance ``d`` (16 and 32 steps: one and two 4/4 bars):

- ``lookback[t, i]``: the event ``d`` steps before the *next* step (``events[t - d + 1]``,
  NO_EVENT before the start), an input and what repeat class ``i`` decodes to;
- ``repeats[t, i]``: whether ``events[t] == events[t - d]``, an input;
- ``position[t] = t``: the input counter is the binary code of ``t + 1`` (the position of
  the next event) as +-1 bits;
- ``labels[t]``: the class of ``events[t]`` as a target. Two classes are added after the
  event classes, "repeat the event 1 bar ago" and "repeat the event 2 bars ago"; the
  farthest matching repeat wins over a nearer one and over the plain event, and a
  NO_EVENT within the first 2 bars is labelled "repeat 2 bars ago" (before the start
  counts as NO_EVENT).

All four are computed on the whole piece in :meth:`MelodyEventCodec.encode`, so a window
cut from it keeps its true bar positions and history. The functions work on batched
torch tensors so generation builds the same features step by step.

Round trip: lossless on start, duration and pitch for a monophonic melody whose range
fits in the codec's range after the shift (otherwise the outer notes come back folded by
octaves); the melody is :meth:`Piece.melody` (the melody track, else the top line).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes

NO_EVENT = 0
NOTE_OFF = 1
FIRST_NOTE = 2
#: Pitch classes of a major scale above its tonic.
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)


class MelodyEventCodec(Codec):
    """Piece <-> one Magenta melody event per grid step, with the lookback features.

    Args:
        min_note: lowest MIDI pitch of the range (inclusive, 48 in Magenta).
        max_note: highest MIDI pitch of the range (exclusive, 84 in Magenta).
        transpose_to_key: major key (0 = C) every melody is transposed to; None keeps
            the key and only folds notes into the range by octaves.
        lookback_distances: steps looked back (``()`` for ``basic_rnn``; ``(16, 32)``
            for ``lookback_rnn``): one repeat class and one input block per distance.
        key_inputs: also give ``inputs``, the input vectors of Magenta's
            ``KeyMelodyEncoderDecoder`` (``attention_rnn``;
            :func:`~musebench.datasets.codecs.key_melody.key_melody_inputs`).
        counter_bits: bits of the key inputs' position counter (7 in Magenta).
    """

    name = "melody_events"
    time_keys = ("events", "labels", "lookback", "repeats", "position", "inputs")
    #: Note by note (monophonic, pitch and duration of each note); no chord input.
    capabilities = frozenset({"notes"})

    def __init__(self, min_note: int = 48, max_note: int = 84, transpose_to_key: int | None = 0,
                 lookback_distances: tuple[int, ...] = (), key_inputs: bool = False,
                 counter_bits: int = 7) -> None:
        if not 0 <= min_note < max_note <= 128 or max_note - min_note < 12:
            raise ValueError(f"melody events: need 0 <= min_note < max_note <= 128 and a range "
                             f"of at least 12 pitches, got {min_note}..{max_note}")
        self.min_note = min_note
        self.max_note = max_note
        self.transpose_to_key = transpose_to_key
        self.lookback_distances = tuple(int(d) for d in lookback_distances)
        self.key_inputs = key_inputs
        self.counter_bits = counter_bits

    @property
    def n_events(self) -> int:
        """Event classes: NO_EVENT, NOTE_OFF and one note-on per pitch of the range."""
        return self.max_note - self.min_note + FIRST_NOTE

    @property
    def n_classes(self) -> int:
        """Output classes: the events plus one repeat class per lookback distance."""
        return self.n_events + len(self.lookback_distances)

    # ---------------------------------------------------------------- encode
    def squash_amount(self, pitches: np.ndarray) -> int:
        """Semitones that move ``pitches`` to ``transpose_to_key`` and centre them in the
        range (Magenta's ``Melody.squash``; 0 when not transposing or without notes)."""
        if self.transpose_to_key is None or len(pitches) == 0:
            return 0
        classes = np.bincount(pitches % 12, minlength=12)
        key_counts = [classes[(key + np.array(MAJOR_SCALE)) % 12].sum() for key in range(12)]
        key_diff = self.transpose_to_key - int(np.argmax(key_counts))
        centre = (int(pitches.min()) + int(pitches.max())) / 2
        target = (self.min_note + self.max_note - 1) / 2
        return key_diff + 12 * int(np.round((target - (centre + key_diff)) / 12))

    def fold(self, pitches: np.ndarray) -> np.ndarray:
        """``pitches`` moved into ``[min_note, max_note)`` by whole octaves."""
        low, high = self.min_note, self.max_note
        return np.where(pitches < low, low + (pitches - low) % 12,
                        np.where(pitches >= high, high - 12 + (pitches - high) % 12, pitches))

    def melody_events(self, piece: Piece) -> tuple[np.ndarray, int]:
        """The melody's event classes, one per step of ``piece.n_steps``, and its shift."""
        melody = piece.melody().notes
        n_steps = piece.n_steps
        events = np.full(n_steps, NO_EVENT, dtype=np.int64)
        melody = melody[melody["start"] < n_steps]
        if len(melody) == 0:
            return events, 0
        start = melody["start"].astype(np.int64)
        pitch = melody["pitch"].astype(np.int64)
        amount = self.squash_amount(pitch)
        end = np.minimum(start + melody["duration"], n_steps)
        # a note ends with NOTE_OFF unless the next note starts there or the melody ends
        next_start = np.r_[start[1:], n_steps]
        ends_alone = end < next_start
        events[end[ends_alone]] = NOTE_OFF
        events[start] = self.fold(pitch + amount) - self.min_note + FIRST_NOTE
        return events, amount

    def encode(self, piece: Piece) -> Arrays:
        events, amount = self.melody_events(piece)
        features = lookback_features(torch.from_numpy(events)[None], self.lookback_distances,
                                     self.n_events)
        arrays = {key: value[0].numpy() for key, value in features.items()}
        if self.key_inputs:
            arrays["inputs"] = self.key_melody_inputs(events[None])[0]
        return {"events": events, **arrays, "position": np.arange(len(events)),
                "transpose": np.array(amount, dtype=np.int64)}

    def key_melody_inputs(self, events: np.ndarray) -> np.ndarray:
        """``(B, T, F)`` ``KeyMelodyEncoderDecoder`` inputs of ``(B, T)`` event classes."""
        from musebench.datasets.codecs.key_melody import key_melody_inputs

        return key_melody_inputs(events, self.min_note, self.max_note - self.min_note,
                                 self.lookback_distances, self.counter_bits)

    # ---------------------------------------------------------------- decode
    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        """Notes from events: a note runs from its NOTE_ON to the next NOTE_ON or NOTE_OFF
        (or the end), pitches shifted back by ``arrays['transpose']`` (0 if absent)."""
        events = np.asarray(arrays["events"], dtype=np.int64)
        amount = int(np.asarray(arrays.get("transpose", 0)))
        changes = np.flatnonzero(events != NO_EVENT)
        ends = np.r_[changes[1:], len(events)]
        is_on = events[changes] >= FIRST_NOTE
        start, end = changes[is_on], ends[is_on]
        pitch = events[start] - FIRST_NOTE + self.min_note - amount
        return Piece(make_notes(start, end - start, pitch), length=len(events), meta=meta)


def shifted(events: torch.Tensor, distance: int) -> torch.Tensor:
    """``(B, T)`` events ``distance`` steps earlier (``events[:, t - distance]``), NO_EVENT
    before the start."""
    out = torch.full_like(events, NO_EVENT)
    if distance < events.shape[1]:
        out[:, distance:] = events[:, : events.shape[1] - distance]
    return out


def lookback_features(events: torch.Tensor, distances: tuple[int, ...],
                      n_events: int) -> dict[str, torch.Tensor]:
    """Magenta's lookback inputs and labels of ``(B, T)`` events (see the module docstring).

    Returns:
        ``lookback`` ``(B, T, D)``: ``events[t - d + 1]``; ``repeats`` ``(B, T, D)`` bool:
        ``events[t] == events[t - d]`` (``t >= d``); ``labels`` ``(B, T)``: the class of
        ``events[t]`` as a target (repeat class ``n_events + i`` for distance ``i``).
    """
    steps = torch.arange(events.shape[1], device=events.device)
    lookback = [shifted(events, d - 1) for d in distances]
    repeats = [(events == shifted(events, d)) & (steps >= d) for d in distances]
    labels = events.clone()
    for i in range(len(distances)):  # nearest first, so the farthest repeat wins
        labels = torch.where(repeats[i], n_events + i, labels)
    if distances:
        early_rest = (steps < distances[-1]) & (events == NO_EVENT)
        labels = torch.where(early_rest, n_events + len(distances) - 1, labels)
    size = (*events.shape, len(distances))
    return {
        "labels": labels,
        "lookback": torch.stack(lookback, -1) if distances else events.new_zeros(size),
        "repeats": torch.stack(repeats, -1) if distances else torch.zeros(size, dtype=torch.bool),
    }


def class_events(lookback: torch.Tensor, n_events: int) -> torch.Tensor:
    """``(..., n_events + D)``: the event each output class stands for, given the
    ``(..., D)`` lookback events of the step before (a repeat class is the event ``d``
    steps back; an event class is itself)."""
    plain = torch.arange(n_events, device=lookback.device).expand(*lookback.shape[:-1], -1)
    return torch.cat([plain, lookback], -1)


def binary_counter(position: torch.Tensor, bits: int) -> torch.Tensor:
    """``(..., bits)``: bit ``i`` of ``position + 1`` as +1 or -1 (Magenta's metric
    counter of the next event: 16th, 8th, quarter, half, whole note with 5 bits)."""
    powers = 2 ** torch.arange(bits, device=position.device)
    return ((position[..., None] + 1) // powers % 2).float() * 2 - 1
