"""Codecs: the model-side representations of a Piece.

A codec turns a :class:`Piece` into the arrays a model trains on, and arrays a model
generates back into a Piece. Each model names its codec; everything upstream
(sources, cache, splits) and downstream (metrics, MIDI, audio) is shared.

Every codec lives in this package, one ``<Representation>Codec`` class per representation:
this module holds the contract (:class:`Codec`) and the piano-roll codecs
(:class:`FrameRollCodec`, :class:`BarRollCodec`); ``biaxial`` (:class:`BiaxialCodec`),
``event_tokens`` (:class:`EventTokenCodec`), ``melody_events`` (:class:`MelodyEventCodec`),
``melody_tokens`` (:class:`MelodyTokenCodec`), ``note_events`` (:class:`NoteEventCodec`),
``pitch_duration`` (:class:`TokenCodec`) and ``multitrack`` (:class:`MultiTrackRollCodec`)
hold one each.

Contract:
    ``encode(piece) -> dict[str, np.ndarray]``: the whole piece; every array whose name
    is in ``time_keys`` has time on axis 0 (so windows can be cut from it).
    ``decode(arrays) -> Piece``: the inverse, lossless where the representation allows.
    ``windows(encoded, length, hop)``: fixed-length training examples.
    ``collate(examples) -> dict[str, Tensor]``: a batch.

Two codecs used by several models live here; model-specific codecs live in the model's
own file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch

from musebench.datasets.piece import QUALITIES, Piece, make_chords, make_notes

Arrays = dict[str, np.ndarray]


class Codec(ABC):
    """Base class: Piece <-> arrays. Subclasses set ``name`` and ``time_keys``."""

    name: ClassVar[str]
    #: Arrays in ``encode``'s output that have time on axis 0 (windowed and padded).
    time_keys: ClassVar[tuple[str, ...]] = ()
    #: Time steps one index of the time axis stands for: 1 where it counts frames, events or
    #: tokens (one recurrent step each); a bar roll's time axis counts bars, so there it is
    #: the bar's steps. ``make perf`` counts training time steps per second with it.
    steps_per_index: ClassVar[int] = 1
    #: What the representation can hold, the words of the tracks protocol
    #: (``experiments/tracks.yaml``): ``notes`` (note by note: pitch and duration per
    #: note), ``frames`` (a roll of time steps), ``polyphony`` (simultaneous notes),
    #: ``chords`` (a chord input), ``multitrack`` (separate tracks, e.g. SATB voices, kept
    #: apart). A model joins a track by these, never by its name;
    #: a codec that declares nothing joins no track.
    capabilities: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def encode(self, piece: Piece) -> Arrays:
        """The whole piece as arrays (time on axis 0 for ``time_keys``)."""

    @abstractmethod
    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        """A Piece from one example's arrays (``meta`` goes into ``Piece.meta``)."""

    def windows(self, encoded: Arrays, length: int | None, hop: int | None = None) -> list[Arrays]:
        """Cut ``encoded`` into windows of ``length`` time steps every ``hop`` steps.

        ``length=None`` keeps the whole piece as one example. A piece shorter than
        ``length`` gives no window. Arrays not in ``time_keys`` are shared by every window.
        """
        if length is None:
            return [encoded]
        total = len(encoded[self.time_keys[0]])
        hop = hop or length
        return [
            {k: (v[start:start + length] if k in self.time_keys else v) for k, v in encoded.items()}
            for start in range(0, total - length + 1, hop)
        ]

    def collate(self, examples: list[Arrays]) -> dict[str, torch.Tensor]:
        """Stack examples into a batch; time arrays of unequal length are zero-padded at the
        end and a ``lengths`` tensor is added."""
        batch: dict[str, torch.Tensor] = {}
        lengths = None
        for key in examples[0]:
            arrays = [np.asarray(e[key]) for e in examples]
            if key in self.time_keys and len({len(a) for a in arrays}) > 1:
                lengths = torch.tensor([len(a) for a in arrays])
                longest = int(lengths.max())
                arrays = [np.pad(a, [(0, longest - len(a))] + [(0, 0)] * (a.ndim - 1))
                          for a in arrays]
            batch[key] = torch.from_numpy(np.stack(arrays))
        if lengths is not None:
            batch["lengths"] = lengths
        return batch

    def config(self) -> dict[str, Any]:
        """The options that define this codec (part of the cache and run keys)."""
        return {"name": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}


class FrameRollCodec(Codec):
    """``T x P`` multi-hot frames over pitches ``lowest..highest`` (default the 88 piano keys).

    The representation of the Boulanger-Lewandowski benchmarks and of the piano-roll
    sigmoid LSTM (Huang & Wu 2016). A frame roll does not mark re-articulations, so
    decoding merges a repeated pitch into one held note: lossless on frames, not notes.
    """

    name = "frame_roll"
    time_keys = ("roll",)
    capabilities = frozenset({"frames", "polyphony"})

    def __init__(self, lowest: int = 21, highest: int = 108) -> None:
        self.lowest = lowest
        self.highest = highest

    @property
    def n_pitches(self) -> int:
        return self.highest - self.lowest + 1

    def encode(self, piece: Piece) -> Arrays:
        return {"roll": piece.pianoroll(self.lowest, self.highest).astype(np.float32)}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        return Piece(roll_to_notes(np.asarray(arrays["roll"]) > 0.5, self.lowest),
                     length=len(arrays["roll"]), meta=meta)


class BarRollCodec(Codec):
    """One bar of the melody as a ``(1, steps_per_bar, 128)`` roll, its chord as 13 values
    (12-d one-hot root + 1 if minor), and the previous bar's roll (zeros for the first).

    The representation of MidiNet (Yang, Chou & Yang 2017). Only the melody (see
    :meth:`Piece.melody`) is kept; a bar's chord is the one sounding at its first step.
    The roll has no onset channel, so on decoding a pitch repeated without a rest merges
    into one held note, as in MidiNet.
    """

    name = "bar_roll"
    time_keys = ("bar", "previous", "chord")
    capabilities = frozenset({"notes", "chords"})

    def __init__(self, steps_per_bar: int = 16) -> None:
        self.steps_per_bar = steps_per_bar

    @property
    def steps_per_index(self) -> int:  # type: ignore[override]
        """One index of the time axis is one bar of ``steps_per_bar`` steps."""
        return self.steps_per_bar

    def encode(self, piece: Piece) -> Arrays:
        melody = piece.melody()
        n_bars = -(-melody.n_steps // self.steps_per_bar) if melody.n_steps else 0
        roll = np.zeros((n_bars * self.steps_per_bar, 128), dtype=np.float32)
        if n_bars:
            roll[: melody.n_steps] = melody.pianoroll()
        bars = roll.reshape(n_bars, 1, self.steps_per_bar, 128)
        previous = np.concatenate([np.zeros_like(bars[:1]), bars[:-1]])
        return {"bar": bars, "previous": previous, "chord": bar_chords(piece, n_bars,
                                                                         self.steps_per_bar)}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        bars = np.asarray(arrays["bar"]).reshape(-1, 128)
        # monophonic: one pitch per step at most (the most active one)
        active = bars.max(axis=1) > 0.5
        pitch = np.where(active, bars.argmax(axis=1), -1)
        roll = np.zeros_like(bars, dtype=bool)
        roll[np.flatnonzero(active), pitch[active]] = True
        notes = roll_to_notes(roll, 0)
        chords = chords_from_vectors(np.asarray(arrays["chord"]), self.steps_per_bar)
        return Piece(notes, chords=chords, length=len(bars), meta=meta)


def bar_chords(piece: Piece, n_bars: int, steps_per_bar: int) -> np.ndarray:
    """``(n_bars, 13)`` chord vectors: one-hot root of the chord sounding at each bar's
    first step, plus 1 in the last column if it is minor; all zeros where no chord sounds."""
    vectors = np.zeros((n_bars, 13), dtype=np.float32)
    sounding, chosen = bar_start_chords(piece, n_bars, steps_per_bar)
    vectors[sounding, chosen["root"]] = 1.0
    # only minor is marked: dim, aug and "other" read as major (see models/midinet.py)
    vectors[sounding, 12] = chosen["quality"] == QUALITIES.index("min")
    return vectors


def bar_start_chords(piece: Piece, n_bars: int, steps_per_bar: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The bars (indices) where a chord sounds at the first step, and those chords."""
    chords = piece.chords
    if len(chords) == 0 or n_bars == 0:
        return np.zeros(0, dtype=np.int64), chords[:0]
    bar_starts = np.arange(n_bars) * steps_per_bar
    index = np.searchsorted(chords["start"], bar_starts, side="right") - 1
    sounding = (index >= 0) & (bar_starts < chords["start"][index] + chords["duration"][index])
    return np.flatnonzero(sounding), chords[index[sounding]]


def chords_from_vectors(vectors: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """Inverse of :func:`bar_chords`: one chord per bar with a non-zero root."""
    chords = [
        (bar * steps_per_bar, steps_per_bar, int(v[:12].argmax()), "min" if v[12] > 0.5 else "maj")
        for bar, v in enumerate(vectors)
        if v[:12].max() > 0.5
    ]
    return make_chords(chords)


def roll_to_notes(roll: np.ndarray, lowest: int) -> np.ndarray:
    """Notes from a ``T x P`` bool roll: each run of True in a column is one note."""
    padded = np.zeros((roll.shape[0] + 2, roll.shape[1]), dtype=np.int8)
    padded[1:-1] = roll
    change = np.diff(padded, axis=0)
    on_step, on_pitch = np.nonzero(change == 1)
    off_step, off_pitch = np.nonzero(change == -1)
    # np.nonzero is row-major; reorder both by (pitch, step) so runs pair up.
    on = np.lexsort((on_step, on_pitch))
    off = np.lexsort((off_step, off_pitch))
    return make_notes(on_step[on], off_step[off] - on_step[on], on_pitch[on] + lowest)

