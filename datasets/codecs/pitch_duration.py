"""Pitch/duration token codec of the LSTM with attention (Foster, *Generative Deep
Learning*, ch. 7).

A piece becomes a sequence of events, each written as two tokens: a *pitch* token (a
note name such as ``C#4``, a chord as the dot-joined names of its distinct pitches, low
to high, such as ``C4.E4.G4``, or ``rest``) and a *duration class* (the event's length in grid steps).
Notes that start together form one event; the event lasts as long as its longest note,
cut at the next onset, and a gap before the next onset becomes a ``rest`` event. Both
streams begin with a start token.

Vocabularies are learned by :meth:`TokenCodec.fit` on the training split only; tokens
never seen there encode as ``<unk>``. Decoding lays events end to end; special tokens
(``<pad>``, ``<start>``, ``<unk>``) produce nothing. The round trip is lossless for
monophonic lines whose tokens are in the vocabulary; in chords every note takes the
event's duration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import PITCH_NAMES, Piece, make_notes

PAD, START, UNK = "<pad>", "<start>", "<unk>"
#: Special tokens, at the same ids (0, 1, 2) in both vocabularies.
SPECIALS: tuple[str, ...] = (PAD, START, UNK)
REST = "rest"
NOTE_NAMES: tuple[str, ...] = tuple(f"{PITCH_NAMES[p % 12]}{p // 12 - 1}" for p in range(128))
_PITCH_OF_NAME: dict[str, int] = {name: p for p, name in enumerate(NOTE_NAMES)}


class TokenCodec(Codec):
    """Two aligned token streams, ``pitch`` and ``duration`` (int64 ids, start token first).

    Args:
        pitch_vocab: pitch tokens after the specials, as learned by :meth:`fit`.
        duration_vocab: duration classes (steps, as strings) after the specials.
        start_tokens: start tokens before each piece's first event (1; Foster's LSTM with
            attention prepends a whole window of them, 32).
    """

    name = "pitch_duration_tokens"
    time_keys = ("pitch", "duration")
    capabilities = frozenset({"notes"})

    def __init__(
        self, pitch_vocab: list[str] | None = None, duration_vocab: list[str] | None = None,
        start_tokens: int = 1,
    ) -> None:
        if start_tokens < 1:
            raise ValueError(f"TokenCodec start_tokens must be >= 1, got {start_tokens}")
        self.pitch_vocab = list(pitch_vocab or [])
        self.duration_vocab = list(duration_vocab or [])
        self.start_tokens = start_tokens
        self._index()

    def _index(self) -> None:
        self._pitch_ids = {t: i for i, t in enumerate(self.pitch_tokens)}
        self._duration_ids = {t: i for i, t in enumerate(self.duration_tokens)}

    @property
    def pitch_tokens(self) -> list[str]:
        """The full pitch vocabulary, specials first (index = token id)."""
        return [*SPECIALS, *self.pitch_vocab]

    @property
    def duration_tokens(self) -> list[str]:
        """The full duration vocabulary, specials first (index = token id)."""
        return [*SPECIALS, *self.duration_vocab]

    @property
    def fitted(self) -> bool:
        return bool(self.pitch_vocab) and bool(self.duration_vocab)

    def fit(self, pieces: list[Piece]) -> TokenCodec:
        """Learn both vocabularies from ``pieces`` (the training split), sorted for stability.

        Raises:
            ValueError: the pieces hold no note at all.
        """
        pitch: set[str] = set()
        duration: set[str] = set()
        for piece in pieces:
            p, d = events(piece)
            pitch.update(p)
            duration.update(d)
        if not pitch:
            raise ValueError("TokenCodec.fit: the training pieces hold no notes")
        self.pitch_vocab = sorted(pitch, key=_pitch_sort_key)
        self.duration_vocab = sorted(duration, key=int)
        self._index()
        return self

    def encode(self, piece: Piece) -> Arrays:
        if not self.fitted:
            raise RuntimeError("TokenCodec.fit(training pieces) must be called before encode")
        pitch, duration = events(piece)
        unk = SPECIALS.index(UNK)
        starts = [SPECIALS.index(START)] * self.start_tokens
        return {
            "pitch": np.array(starts + [self._pitch_ids.get(t, unk) for t in pitch],
                              dtype=np.int64),
            "duration": np.array(starts + [self._duration_ids.get(t, unk) for t in duration],
                                 dtype=np.int64),
        }

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        pitch_tokens = [self.pitch_tokens[i] for i in np.asarray(arrays["pitch"]).tolist()]
        duration_tokens = [self.duration_tokens[i] for i in np.asarray(arrays["duration"]).tolist()]
        real = [(p, int(d)) for p, d in zip(pitch_tokens, duration_tokens, strict=True)
                if p not in SPECIALS and d not in SPECIALS]
        lengths = np.array([d for _, d in real], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if real else lengths
        names = [(p.split("."), s, d) for (p, d), s in zip(real, starts, strict=True) if p != REST]
        pitches = [_PITCH_OF_NAME[name] for group, _, _ in names for name in group]
        onset = [s for group, s, _ in names for _ in group]
        length = [d for group, _, d in names for _ in group]
        return Piece(make_notes(np.array(onset, dtype=np.int64), length, pitches),
                     length=int(lengths.sum()), meta=meta)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "pitch_vocab": self.pitch_vocab,
                "duration_vocab": self.duration_vocab}


def events(piece: Piece) -> tuple[list[str], list[str]]:
    """The piece's pitch and duration tokens (no start token), one pair per event."""
    notes = piece.notes
    if len(notes) == 0:
        return [], []
    onsets, first = np.unique(notes["start"], return_index=True)
    group_end = np.maximum.reduceat(notes["start"] + notes["duration"], first)
    next_onset = np.r_[onsets[1:], max(group_end[-1], onsets[-1] + 1)]
    ends = np.minimum(group_end, next_onset)
    names = np.array(NOTE_NAMES, dtype=object)[notes["pitch"]]
    chords = [".".join(dict.fromkeys(group)) for group in np.split(names, first[1:])]
    # Interleave each event with the rest before it (leading rest = silence before onset 0).
    rest_before = onsets - np.r_[0, ends[:-1]]
    pitch: list[str] = []
    duration: list[str] = []
    for chord, rest, onset, end in zip(chords, rest_before.tolist(), onsets.tolist(),
                                       ends.tolist(), strict=True):
        if rest > 0:
            pitch.append(REST)
            duration.append(str(rest))
        pitch.append(chord)
        duration.append(str(end - onset))
    return pitch, duration


def _pitch_sort_key(token: str) -> tuple[int, ...]:
    """Rest first, then by the MIDI pitches of the token."""
    return (-1,) if token == REST else tuple(_PITCH_OF_NAME[n] for n in token.split("."))
