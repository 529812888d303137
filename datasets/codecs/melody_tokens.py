"""The melody-token codec: a melody as one token per event (the count baselines' input).

The melody line (:meth:`Piece.melody`) becomes a sequence of events; a silence between
notes is a rest event. Each event is one token ``symbol * max_duration + (duration - 1)``
where ``symbol`` is the MIDI pitch (0-127) or :data:`REST` (128) and durations longer
than ``max_duration`` steps are clipped. Decoding is exact for melodies whose notes and
rests are at most ``max_duration`` steps long.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes

REST = 128
N_SYMBOLS = 129


class MelodyTokenCodec(Codec):
    """Piece <-> ``tokens`` (int64, one per melody event)."""

    name = "melody_tokens"
    time_keys = ("tokens",)
    capabilities = frozenset({"notes"})

    def __init__(self, max_duration: int = 16) -> None:
        self.max_duration = max_duration

    @property
    def vocab_size(self) -> int:
        return N_SYMBOLS * self.max_duration

    def split_tokens(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(symbol, duration)`` arrays of ``tokens``."""
        tokens = np.asarray(tokens, dtype=np.int64)
        return tokens // self.max_duration, tokens % self.max_duration + 1

    def join_tokens(self, symbol: np.ndarray, duration: np.ndarray) -> np.ndarray:
        """Tokens of ``symbol`` (pitch or REST) and ``duration`` (clipped to the maximum)."""
        duration = np.clip(np.asarray(duration, dtype=np.int64), 1, self.max_duration)
        return np.asarray(symbol, dtype=np.int64) * self.max_duration + duration - 1

    def encode(self, piece: Piece) -> Arrays:
        melody = piece.melody().notes
        if len(melody) == 0:
            return {"tokens": np.zeros(0, dtype=np.int64)}
        ends = melody["start"] + melody["duration"]
        gaps = np.r_[melody["start"][0], melody["start"][1:] - ends[:-1]]
        # interleave: [rest_0?, note_0, rest_1?, note_1, ...], dropping zero-length rests
        symbol = np.stack([np.full(len(melody), REST), melody["pitch"]], axis=1).ravel()
        duration = np.stack([gaps, melody["duration"]], axis=1).ravel()
        keep = duration > 0
        return {"tokens": self.join_tokens(symbol[keep], duration[keep])}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        symbol, duration = self.split_tokens(arrays["tokens"])
        start = np.r_[0, np.cumsum(duration)[:-1]]
        is_note = symbol != REST
        notes = make_notes(start[is_note], duration[is_note], symbol[is_note])
        return Piece(notes, length=int(duration.sum()), meta=meta)

    def truncate(self, tokens: np.ndarray, steps: int) -> np.ndarray:
        """The prefix of ``tokens`` lasting ``steps`` steps (the last event cut to fit)."""
        symbol, duration = self.split_tokens(tokens)
        start = np.r_[0, np.cumsum(duration)[:-1]]
        keep = start < steps
        cut = np.minimum(duration[keep], steps - start[keep])
        return self.join_tokens(symbol[keep], cut)
