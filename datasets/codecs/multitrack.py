"""Multi-track bar rolls: ``[bars, tracks, steps per bar, pitches]`` binary piano rolls.

The representation of MuseGAN (Dong, Hsiao, Yang & Yang, AAAI 2018): one binary piano
roll per track, cut into bars; a training example is a phrase of consecutive bars (the
data module's ``window``, in bars). Track ``k`` of the roll is the Piece's notes with
``track == k``; the time axis counts bars, so ``steps_per_index`` is the bar's steps.

Lossy where a roll is: a pitch repeated without a rest merges into one held note on
decoding (the roll marks no onsets), notes of a track at or beyond ``n_tracks`` are
dropped, and pitches outside ``lowest .. lowest + n_pitches - 1`` are moved by whole
octaves into the range (pitch classes, and so UPC and TD, are kept). Pieces on another
grid than ``steps_per_bar`` steps in ``beats_per_bar`` beats encode to no bars. The JSB chorales of ``jsb16``
(SATB, one note per run of a pitch, C2..A5) round-trip exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes


def fold_pitches(pitch: np.ndarray, lowest: int, highest: int) -> np.ndarray:
    """Each pitch moved by whole octaves into ``[lowest, highest]`` (a span of >= 12)."""
    pitch = pitch.astype(np.int64)
    up = np.maximum(-(-(lowest - pitch) // 12), 0)
    down = np.maximum(-(-(pitch - highest) // 12), 0)
    return pitch + 12 * (up - down)


class MultiTrackRollCodec(Codec):
    """Piece <-> ``{"bars": (n_bars, n_tracks, steps_per_bar, n_pitches)}`` 0/1 float32.

    Args:
        n_tracks: tracks of the roll (4: SATB).
        steps_per_bar: grid steps in a bar (16: sixteenths in 4/4).
        lowest: MIDI pitch of the roll's first row (36 = C2).
        n_pitches: rows of the roll (48: C2..B5, four octaves).
        beats_per_bar: beats in a bar (4); a bar's beat has ``steps_per_bar /
            beats_per_bar`` steps.
    """

    name = "multitrack_roll"
    time_keys = ("bars",)
    capabilities = frozenset({"frames", "multitrack"})

    def __init__(self, n_tracks: int = 4, steps_per_bar: int = 16, lowest: int = 36,
                 n_pitches: int = 48, beats_per_bar: int = 4) -> None:
        if n_pitches < 12:
            raise ValueError(f"n_pitches = {n_pitches}: the roll needs a full octave")
        self.n_tracks = n_tracks
        self.steps_per_bar = steps_per_bar
        self.lowest = lowest
        self.n_pitches = n_pitches
        self.beats_per_bar = beats_per_bar

    @property
    def steps_per_index(self) -> int:  # type: ignore[override]
        """One index of the time axis is one bar of ``steps_per_bar`` steps."""
        return self.steps_per_bar

    def encode(self, piece: Piece) -> Arrays:
        if (piece.steps_per_bar, piece.beats_per_bar) != (self.steps_per_bar,
                                                          self.beats_per_bar):
            return {"bars": np.zeros((0, self.n_tracks, self.steps_per_bar, self.n_pitches),
                                     dtype=np.float32)}
        n_bars = -(-piece.n_steps // self.steps_per_bar)
        steps = n_bars * self.steps_per_bar
        notes = piece.notes[(piece.notes["track"] < self.n_tracks)
                            & (piece.notes["start"] < steps)]
        pitch = fold_pitches(notes["pitch"], self.lowest, self.lowest + self.n_pitches - 1)
        duration = np.minimum(notes["duration"], steps - notes["start"]).astype(np.int64)
        note = np.repeat(np.arange(len(notes)), duration)
        step = (notes["start"][note].astype(np.int64) + np.arange(len(note))
                - np.repeat(np.cumsum(duration) - duration, duration))
        roll = np.zeros((self.n_tracks, steps, self.n_pitches), dtype=np.float32)
        roll[notes["track"][note], step, pitch[note] - self.lowest] = 1.0
        bars = roll.reshape(self.n_tracks, n_bars, self.steps_per_bar, self.n_pitches)
        return {"bars": np.ascontiguousarray(bars.transpose(1, 0, 2, 3))}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        """A Piece with one track per roll track; ``meta`` goes to ``Piece.meta``, which
        gets ``track_names`` (``"track <k>"`` unless given), so the scorer counts every
        track, a silent one too."""
        bars = np.asarray(arrays["bars"]) > 0.5
        n_bars = len(bars)
        roll = bars.transpose(1, 0, 2, 3).reshape(self.n_tracks, -1, self.n_pitches)
        steps = roll.shape[1]
        # one column per (track, pitch), a silent step before and after: runs of 1 are notes
        padded = np.zeros((steps + 2, self.n_tracks * self.n_pitches), dtype=np.int8)
        padded[1:-1] = roll.transpose(1, 0, 2).reshape(steps, -1)
        change = np.diff(padded, axis=0).T  # (columns, steps + 1), row-major by column
        column_on, step_on = np.nonzero(change == 1)
        _, step_off = np.nonzero(change == -1)
        notes = make_notes(step_on, step_off - step_on, column_on % self.n_pitches + self.lowest,
                           track=column_on // self.n_pitches)
        meta.setdefault("track_names", [f"track {k}" for k in range(self.n_tracks)])
        return Piece(notes, steps_per_beat=self.steps_per_bar // self.beats_per_bar,
                     beats_per_bar=self.beats_per_bar, length=n_bars * self.steps_per_bar,
                     meta=meta)
