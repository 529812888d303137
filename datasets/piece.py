"""The shared container every source produces and every metric reads.

A :class:`Piece` is a quantised score on a grid of ``steps_per_beat`` steps per beat
(default 4, i.e. 16th notes) and ``beats_per_bar`` beats per bar. Notes and chords are
NumPy structured arrays so that views (piano roll, onsets, bars, melody) are vectorised
and nothing is stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

NOTE_DTYPE = np.dtype(
    [("start", "i4"), ("duration", "i4"), ("pitch", "i2"), ("velocity", "i2"), ("track", "i2")]
)
CHORD_DTYPE = np.dtype([("start", "i4"), ("duration", "i4"), ("root", "i2"), ("quality", "i2")])

#: Chord qualities, indexed by ``CHORD_DTYPE['quality']``.
QUALITIES: tuple[str, ...] = ("maj", "min", "dim", "aug", "other")
#: Chord-tone pitch classes of each quality relative to the root ("other" keeps only the root).
QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "other": (0,),
}
PITCH_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES: tuple[str, ...] = ("major", "minor")
DEFAULT_VELOCITY = 80


class Chord(NamedTuple):
    """One chord event: ``start`` and ``duration`` in steps, ``root`` pitch class, ``quality``."""

    start: int
    duration: int
    root: int
    quality: str

    @property
    def label(self) -> str:
        """The chord as ``ROOT:quality`` (e.g. ``C:maj``), the form written into MIDI markers."""
        return f"{PITCH_NAMES[self.root % 12]}:{self.quality}"

    def pitch_classes(self) -> tuple[int, ...]:
        """Pitch classes of the chord tones."""
        return tuple((self.root + i) % 12 for i in QUALITY_INTERVALS[self.quality])


def make_notes(
    start: Any, duration: Any, pitch: Any, velocity: Any = DEFAULT_VELOCITY, track: Any = 0
) -> np.ndarray:
    """Build a sorted ``NOTE_DTYPE`` array from columns (scalars broadcast)."""
    start = np.atleast_1d(np.asarray(start))
    columns = np.broadcast_arrays(start, duration, pitch, velocity, track)
    notes = np.empty(len(columns[0]), dtype=NOTE_DTYPE)
    for name, column in zip(NOTE_DTYPE.names, columns, strict=True):
        notes[name] = column
    return sort_notes(notes)


def make_chords(chords: list[Chord] | list[tuple[int, int, int, str]]) -> np.ndarray:
    """Build a sorted ``CHORD_DTYPE`` array from :class:`Chord` tuples."""
    array = np.empty(len(chords), dtype=CHORD_DTYPE)
    for i, (start, duration, root, quality) in enumerate(chords):
        array[i] = (start, duration, root % 12, QUALITIES.index(quality))
    return array[np.argsort(array["start"], kind="stable")]


def sort_notes(notes: np.ndarray) -> np.ndarray:
    """Notes sorted by (start, pitch, track), the canonical order of a Piece."""
    return notes[np.lexsort((notes["track"], notes["pitch"], notes["start"]))]


@dataclass(eq=False)
class Piece:
    """A quantised piece of music.

    Attributes:
        notes: ``NOTE_DTYPE`` array (start step, duration in steps, MIDI pitch, velocity,
            track index) sorted by (start, pitch).
        chords: ``CHORD_DTYPE`` array of chord events (may be empty).
        key: ``(tonic pitch class, "major" | "minor")`` or ``None``.
        steps_per_beat: grid resolution (4 = 16th notes in 4/4).
        beats_per_bar: beats in one bar.
        length: length in steps; defaults to the end of the last note. Sources with
            frame data (Boulanger rolls) keep trailing silence through it.
        meta: ``id``, ``source``, ``split``, ``tempo`` (quarter notes per minute),
            ``melody_track``, ``track_names`` and anything else worth keeping.
    """

    notes: np.ndarray
    chords: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=CHORD_DTYPE))
    key: tuple[int, str] | None = None
    steps_per_beat: int = 4
    beats_per_bar: int = 4
    length: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.notes.dtype != NOTE_DTYPE:
            raise TypeError(f"Piece.notes must have NOTE_DTYPE, got {self.notes.dtype}")
        if self.chords.dtype != CHORD_DTYPE:
            raise TypeError(f"Piece.chords must have CHORD_DTYPE, got {self.chords.dtype}")
        if len(self.notes) and (self.notes["duration"].min() < 1 or self.notes["start"].min() < 0):
            raise ValueError(f"{self.id}: notes need start >= 0 and duration >= 1 step")

    # ----------------------------------------------------------------- basics
    @property
    def id(self) -> str:
        return str(self.meta.get("id", "<unnamed>"))

    @property
    def split(self) -> str | None:
        return self.meta.get("split")

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar

    @property
    def n_steps(self) -> int:
        """Length in steps: ``length`` if set, else the end of the last note."""
        if self.length is not None:
            return int(self.length)
        if len(self.notes) == 0:
            return 0
        return int((self.notes["start"] + self.notes["duration"]).max())

    @property
    def n_bars(self) -> int:
        return -(-self.n_steps // self.steps_per_bar)

    def chord_list(self) -> list[Chord]:
        """Chords as :class:`Chord` tuples."""
        return [
            Chord(int(c["start"]), int(c["duration"]), int(c["root"]), QUALITIES[c["quality"]])
            for c in self.chords
        ]

    def with_notes(self, notes: np.ndarray, **changes: Any) -> Piece:
        """A copy with other notes (re-sorted) and any other field changed."""
        return replace(self, notes=sort_notes(notes), meta=dict(self.meta), **changes)

    # ------------------------------------------------------------------ views
    def pianoroll(self, lowest: int = 0, highest: int = 127) -> np.ndarray:
        """``(n_steps, highest - lowest + 1)`` bool roll: True where a pitch sounds.

        Notes outside ``[lowest, highest]`` are left out; notes beyond ``n_steps`` are cut.
        """
        return self._roll(lowest, highest, onsets_only=False)

    def onsets(self, lowest: int = 0, highest: int = 127) -> np.ndarray:
        """``(n_steps, pitches)`` bool roll that is True only at note onsets."""
        return self._roll(lowest, highest, onsets_only=True)

    def _roll(self, lowest: int, highest: int, onsets_only: bool) -> np.ndarray:
        steps = self.n_steps
        roll = np.zeros((steps, highest - lowest + 1), dtype=bool)
        notes = self.notes[(self.notes["pitch"] >= lowest) & (self.notes["pitch"] <= highest)]
        notes = notes[notes["start"] < steps]
        if len(notes) == 0:
            return roll
        column = notes["pitch"].astype(np.int64) - lowest
        if onsets_only:
            roll[notes["start"], column] = True
            return roll
        # Difference array over time: +1 at onset, -1 at offset, cumulative sum > 0 = sounding.
        delta = np.zeros((steps + 1, roll.shape[1]), dtype=np.int32)
        ends = np.minimum(notes["start"] + notes["duration"], steps)
        np.add.at(delta, (notes["start"], column), 1)
        np.add.at(delta, (ends, column), -1)
        return np.cumsum(delta[:-1], axis=0) > 0

    def melody(self) -> Piece:
        """The melody line as a monophonic Piece (chords, key and meta kept).

        The track named by ``meta['melody_track']`` when the source marks one, else the
        top line ("skyline"): at each onset the highest note, cut where the next onset
        begins.
        """
        melody_track = self.meta.get("melody_track")
        if melody_track is not None:
            notes = self.notes[self.notes["track"] == melody_track]
        else:
            notes = self.notes
        return self.with_notes(skyline(notes))

    def bars(self) -> list[Piece]:
        """The piece cut into bars, each re-based to step 0 (notes and chords clipped)."""
        return [self.slice(b * self.steps_per_bar, (b + 1) * self.steps_per_bar)
                for b in range(self.n_bars)]

    def slice(self, start: int, end: int) -> Piece:
        """Steps ``[start, end)`` re-based to 0; notes and chords that overlap are clipped."""
        notes = sort_notes(_clip_events(self.notes, start, end))
        chords = _clip_events(self.chords, start, end)
        meta = dict(self.meta, id=f"{self.id}@{start}")
        return replace(self, notes=notes, chords=chords, length=end - start, meta=meta)

    def transpose(self, semitones: int) -> Piece:
        """Shift pitches, chord roots and key; notes pushed outside 0..127 are dropped."""
        notes = self.notes.copy()
        notes["pitch"] += semitones
        notes = notes[(notes["pitch"] >= 0) & (notes["pitch"] <= 127)]
        chords = self.chords.copy()
        chords["root"] = (chords["root"] + semitones) % 12
        key = None if self.key is None else ((self.key[0] + semitones) % 12, self.key[1])
        return replace(self, notes=notes, chords=chords, key=key, meta=dict(self.meta))

    # -------------------------------------------------------------------- I/O
    def to_midi(self, path: str | Path) -> Path:
        """Write a Standard MIDI File; chords become ``chord:ROOT:quality`` markers."""
        from musebench.datasets.midi import write_midi

        return write_midi(self, path)

    @classmethod
    def from_midi(cls, path: str | Path, steps_per_beat: int = 4, **meta: Any) -> Piece:
        """Read a Standard MIDI File (leniently), quantised to ``steps_per_beat``."""
        from musebench.datasets.midi import read_midi

        return read_midi(path, steps_per_beat=steps_per_beat, **meta)

    def __repr__(self) -> str:
        return (f"Piece(id={self.id!r}, notes={len(self.notes)}, chords={len(self.chords)}, "
                f"steps={self.n_steps}, key={self.key}, split={self.split!r})")


def skyline(notes: np.ndarray) -> np.ndarray:
    """The top line of ``notes``: the highest note at each onset, cut at the next onset."""
    if len(notes) == 0:
        return notes.copy()
    ordered = notes[np.lexsort((-notes["pitch"].astype(np.int64), notes["start"]))]
    first_at_onset = np.r_[True, ordered["start"][1:] != ordered["start"][:-1]]
    top = ordered[first_at_onset].copy()
    next_onset = np.r_[top["start"][1:], np.iinfo(np.int32).max]
    top["duration"] = np.minimum(top["duration"], next_onset - top["start"])
    return sort_notes(top)


def _clip_events(events: np.ndarray, start: int, end: int) -> np.ndarray:
    """Events overlapping ``[start, end)``, clipped to it and shifted to begin at 0."""
    stop = events["start"] + events["duration"]
    inside = events[(events["start"] < end) & (stop > start)].copy()
    clipped_start = np.maximum(inside["start"], start)
    inside["duration"] = np.minimum(inside["start"] + inside["duration"], end) - clipped_start
    inside["start"] = clipped_start - start
    return inside
