"""C-RNN-GAN's representation: a sequence of note events with continuous features.

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training",
NIPS 2016 Constructive Machine Learning workshop (arXiv:1611.09904), Sec. 3: each event
carries tone length, pitch (frequency), intensity (velocity) and the time since the
previous event; C-RNN-GAN-3 emits up to three tones per step (all sharing one onset).

Per event, ``4 + 3 * (tones - 1)`` features, normalised to about [0, 1]::

    [dt, dur_1, pitch_1, vel_1, dur_2, pitch_2, vel_2, ...]

``dt`` (steps since the previous event's onset) and durations are divided by
``steps_per_bar``; pitch and velocity by 127. **Every note is kept**, as in the author's
data loader (olofmogren/c-rnn-gan ``music_data_utils.py``, ``get_batch``, lines
1214-1235: "tones are allowed to overlap. This is indicated with relative time zero"):
the notes of one onset, highest first, fill events of ``tones`` tones each, and every
event after the first of its onset has ``dt = 0``. With ``tones: 1`` a four-note chord
is four events with gaps ``(dt, 0, 0, 0)``; with ``tones: 3`` it is two events, the
second holding one tone and two all-zero (silent) slots. Decoding accumulates the gaps
and rounds times to the grid; a tone whose duration rounds to zero steps is silent, so a
round trip keeps every note (two voices in unison at one onset decode as one note).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes
from musebench.util import write_atomically


class NoteEventCodec(Codec):
    """Piece <-> ``(n_events, 1 + 3 * tones)`` float32 features (``events``).

    Args:
        tones: tones per event (1 = C-RNN-GAN, 3 = C-RNN-GAN-3).
        steps_per_bar: time scale of the normalisation (16 = one 4/4 bar of 16ths).
    """

    name = "note_events"
    time_keys = ("events",)
    capabilities = frozenset({"notes", "polyphony"})

    def __init__(self, tones: int = 1, steps_per_bar: int = 16) -> None:
        self.tones = tones
        self.steps_per_bar = steps_per_bar

    @property
    def n_features(self) -> int:
        return 1 + 3 * self.tones

    def encode(self, piece: Piece) -> Arrays:
        notes = piece.notes[np.lexsort((-piece.notes["pitch"].astype(np.int64),
                                        piece.notes["start"]))]
        onsets, first, group, count = np.unique(notes["start"], return_index=True,
                                                return_inverse=True, return_counts=True)
        rank = np.arange(len(notes)) - first[group]  # 0 = highest note of its onset
        per_onset = -(-count // self.tones)  # events an onset needs: ceil(count / tones)
        offset = np.cumsum(per_onset) - per_onset
        n_events = int(per_onset.sum())
        events = np.zeros((n_events, self.tones, 3), dtype=np.float32)
        events[offset[group] + rank // self.tones, rank % self.tones] = np.stack(
            [notes["duration"] / self.steps_per_bar, notes["pitch"] / 127,
             notes["velocity"] / 127], axis=1)
        event_onset = np.repeat(onsets, per_onset)
        dt = np.diff(event_onset, prepend=0) / self.steps_per_bar  # 0 within an onset
        return {"events": np.concatenate([dt[:, None].astype(np.float32),
                                          events.reshape(n_events, -1)], axis=1)}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        events = np.asarray(arrays["events"], dtype=np.float64)
        start, tones = self.continuous(events)
        step = np.rint(start * self.steps_per_bar).astype(np.int64)
        duration = np.rint(tones[..., 0] * self.steps_per_bar).astype(np.int64)
        pitch = np.clip(np.rint(tones[..., 1] * 127), 0, 127).astype(np.int64)
        velocity = np.clip(np.rint(tones[..., 2] * 127), 1, 127).astype(np.int64)
        sounding = duration >= 1
        onset = np.broadcast_to(step[:, None], duration.shape)
        notes = make_notes(onset[sounding], duration[sounding], pitch[sounding],
                           velocity[sounding])
        # two tones of one event on the same pitch are one note
        _, unique = np.unique(np.stack([notes["start"], notes["pitch"]]), axis=1,
                              return_index=True)
        return Piece(notes[np.sort(unique)], meta=meta)

    def continuous(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unquantised onsets (in bars) and ``(n_events, tones, 3)`` tone features of
        ``events``; negative time gaps count as zero."""
        start = np.cumsum(np.maximum(events[:, 0], 0.0))
        return start, events[:, 1:].reshape(len(events), self.tones, 3)


def write_unquantised_midi(codec: NoteEventCodec, events: np.ndarray, path: str | Path,
                           tempo: float = 120.0) -> None:
    """Write ``events`` as MIDI with onsets and durations as generated (not on the grid).

    One bar (``codec.steps_per_bar`` steps) is four beats at ``tempo`` quarter notes per
    minute. Tones shorter than 1/1000 of a bar are left out. The file is written atomically.
    """
    import pretty_midi

    start, tones = codec.continuous(np.asarray(events, dtype=np.float64))
    seconds_per_bar = 4 * 60.0 / tempo
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=0)
    onset = np.broadcast_to(start[:, None], tones.shape[:2])
    audible = tones[..., 0] > 1e-3
    for t, (dur, pitch, vel) in zip(onset[audible], tones[audible], strict=True):
        instrument.notes.append(pretty_midi.Note(
            velocity=int(np.clip(round(vel * 127), 1, 127)),
            pitch=int(np.clip(round(pitch * 127), 0, 127)),
            start=float(t * seconds_per_bar), end=float((t + dur) * seconds_per_bar)))
    midi.instruments.append(instrument)
    buffer = io.BytesIO()
    midi.write(buffer)
    write_atomically(Path(path), buffer.getvalue())
