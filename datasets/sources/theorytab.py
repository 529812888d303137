"""TheoryTab lead sheets (Hooktheory XML v1.3, or its event JSON): melody + chords.

TheoryTab is the lead-sheet collection MidiNet (Yang et al., ISMIR 2017) trained on;
Yeh et al. (JNMR 2021) published the event-JSON version. One file = one song section.

XML (``xml/<letter>/<artist>/<song>/<section>.xml``): ``<meta>`` gives ``key`` (the
tonic), ``mode`` (1 ionian ... 6 aeolian, 7 locrian) and ``beats_in_measure``;
``<segment>`` elements follow one another (each ``numMeasures`` bars, times restart at
0 in each). A melody note is ``scale_degree`` (1-7, ``f``/``s`` suffix = flat/sharp)
+ ``octave``; its MIDI pitch is ``60 + tonic + scale(mode)[degree] + accidental +
12 * octave`` (so degree 1, octave 0 of C is middle C, the same pitch the event JSON
writes as ``pitch`` 0 relative to C). A chord is ``sd`` in the section's mode, or in the
parallel mode ``borrowed`` (Hooktheory numbers modes by flats: 1 lydian, 0 ionian,
-1 mixolydian, -2 dorian, -3 aeolian, -4 phrygian, -5 locrian); ``sec`` = the degree
tonicised by a secondary chord (``sd`` = its function in that degree's major key);
the quality is the triad the scale builds on the root; ``sus`` chords (no third) are
``other``. Some files carry tag names XML forbids (``<_Intro%20and%20Verse>``); they
are renamed before parsing.

Event JSON (``event/.../<section>_symbol_key.json``): melody events ``{pitch, isRest,
event_on, event_off}`` in beats with pitch relative to C (MIDI = 60 + pitch), chord
events with ``root`` and ``quality``; ``null`` entries are left out.

Every numeric field of both formats is checked against its range
(:mod:`musebench.datasets.sources.theorytab_fields`); a section with a field out of range
is skipped with the field, the value and the range.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from musebench.datasets.piece import CHORD_DTYPE, QUALITIES, Piece, make_notes
from musebench.datasets.sources.base import Skipped, Source, SourceError
from musebench.datasets.sources.theorytab_fields import FieldError, midi_pitch, number, whole

STEPS_PER_BEAT = 4
MIDDLE_C = 60
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MODE_NAMES = ("ionian", "dorian", "phrygian", "lydian", "mixolydian", "aeolian", "locrian")
MINOR_MODES = {"dorian", "phrygian", "aeolian", "locrian"}
#: Hooktheory's ``borrowed`` / ``chord_mode`` numbers (flats vs major) -> mode 1..7.
BORROWED_MODES = {1: 4, 0: 1, -1: 5, -2: 2, -3: 6, -4: 3, -5: 7}
PITCH_CLASSES = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4,
                 "E#": 5, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9,
                 "A#": 10, "Bb": 10, "B": 11, "Cb": 11, "B#": 0}
TRIAD_QUALITIES = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim", (4, 8): "aug"}
#: Event-JSON chord ``quality`` strings -> musebench quality (triad part only).
EVENT_QUALITIES = {"": "maj", "maj": "maj", "m": "min", "o": "dim", "ø": "dim", "+": "aug"}
INVALID_TAG_CHARS = re.compile(r"[^\w.\-:]")
TAG = re.compile(r"<(/?)([^\s>/!?]+)")


class TheoryTabError(ValueError):
    """A TheoryTab file that cannot be used; the message names the file and the problem."""


def mode_scale(mode: int) -> tuple[int, ...]:
    """Semitones above the tonic of the seven degrees of Hooktheory mode 1..7."""
    if not 1 <= mode <= 7:
        raise ValueError(f"mode must be 1..7, got {mode}")
    return tuple((MAJOR_SCALE[(i + mode - 1) % 7] - MAJOR_SCALE[mode - 1]) % 12
                 for i in range(7))


def degree_offset(degree: str, mode: int) -> int:
    """Semitones above the tonic of a scale degree like ``"3"``, ``"4f"``, ``"5s"``."""
    accidental = {"f": -1, "s": 1}.get(degree[-1:], 0)
    return mode_scale(mode)[whole(degree.rstrip("fs"), "sd") - 1] + accidental


def triad_quality(scale: tuple[int, ...], degree: int) -> str:
    """The quality of the triad ``scale`` builds on ``degree`` (0-based)."""
    third = (scale[(degree + 2) % 7] - scale[degree]) % 12
    fifth = (scale[(degree + 4) % 7] - scale[degree]) % 12
    return TRIAD_QUALITIES.get((third, fifth), "other")


def xml_chord(chord: ET.Element, tonic: int, mode: int) -> tuple[int, str]:
    """Root pitch class and quality of one ``<chord>`` of a section in ``tonic`` ``mode``."""
    borrowed = (chord.findtext("borrowed") or "").strip()
    if borrowed:
        mode = BORROWED_MODES[whole(borrowed, "borrowed")]
    degree = whole(chord.findtext("sd"), "sd") - 1
    secondary = (chord.findtext("sec") or "").strip()
    if secondary:
        target = mode_scale(mode)[whole(secondary, "sec") - 1]
        root, quality = target + MAJOR_SCALE[degree], triad_quality(MAJOR_SCALE, degree)
    else:
        scale = mode_scale(mode)
        root, quality = scale[degree], triad_quality(scale, degree)
    if (chord.findtext("sus") or "").strip():
        quality = "other"
    return (tonic + root) % 12, quality


def parse_xml_text(text: str) -> ET.Element:
    """Parse TheoryTab XML, renaming tag names that contain characters XML forbids."""
    fixed = TAG.sub(lambda m: "<" + m[1] + INVALID_TAG_CHARS.sub("_", m[2]), text)
    return ET.fromstring(fixed)


def read_xml(path: Path, piece_id: str | None = None) -> Piece:
    """One TheoryTab XML section as a Piece (melody track 0, chords, key, bars).

    Raises:
        TheoryTabError: not XML, a missing/unknown key or mode, or a note or chord field
            that is not a number.
    """
    try:
        root = parse_xml_text(Path(path).read_text(encoding="utf-8"))
        meta = root.find("meta")
        tonic = PITCH_CLASSES[meta.findtext("key").strip()]
        mode = whole(meta.findtext("mode"), "mode")
        beats_per_bar = whole(meta.findtext("beats_in_measure"), "beats_in_measure")
        notes, chords, offset = [], [], 0.0
        for segment in root.iter("segment"):
            for note in segment.iter("note"):
                if note.findtext("isRest").strip() == "1":
                    continue
                pitch = (MIDDLE_C + tonic + degree_offset(note.findtext("scale_degree").strip(), mode)
                         + 12 * whole(note.findtext("octave"), "octave"))
                start = offset + number(note.findtext("start_beat_abs"), "start_beat_abs")
                notes.append((start, start + number(note.findtext("note_length"), "note_length"),
                              midi_pitch(pitch, "scale_degree and octave")))
            for chord in segment.iter("chord"):
                if chord.findtext("isRest").strip() == "1":
                    continue
                start = offset + number(chord.findtext("start_beat_abs"), "start_beat_abs")
                chords.append((start, start + number(chord.findtext("chord_duration"),
                                                     "chord_duration"),
                               *xml_chord(chord, tonic, mode)))
            offset += number(segment.findtext("numMeasures"), "numMeasures") * beats_per_bar
    except (ET.ParseError, OSError, UnicodeDecodeError) as error:
        raise TheoryTabError(f"{path}: not readable TheoryTab XML ({error})") from error
    except FieldError as error:
        raise TheoryTabError(f"{path}: invalid field: {error}") from error
    except (AttributeError, KeyError, ValueError, TypeError, IndexError) as error:
        raise TheoryTabError(f"{path}: missing or invalid field ({type(error).__name__}: "
                             f"{error})") from error
    info = dict(id=piece_id or str(path), tempo=_float(meta.findtext("BPM"), 120.0),
                version=(root.findtext("version") or "").strip(), mode_name=MODE_NAMES[mode - 1],
                title=(meta.findtext("title") or "").strip())
    return _piece(notes, chords, tonic, MODE_NAMES[mode - 1], beats_per_bar, offset, info)


def read_event_json(path: Path, piece_id: str | None = None) -> Piece:
    """One ``*_symbol_key.json`` event file as a Piece (the same notes as its XML).

    Raises:
        TheoryTabError: not JSON, or events/metadata missing or not numbers.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        meta = data["metadata"]
        tonic = PITCH_CLASSES[str(meta["key"]).strip()]
        mode = whole(meta["mode"], "mode")
        beats_per_bar = whole(meta["beats_in_measure"], "beats_in_measure")
        tracks = data["tracks"]
        notes = [(number(e["event_on"], "event_on"), number(e["event_off"], "event_off"),
                  MIDDLE_C + whole(e["pitch"], "pitch"))
                 for e in tracks["melody"] if e and not e["isRest"]]
        chords = [(number(e["event_on"], "event_on"), number(e["event_off"], "event_off"),
                   whole(e["root"], "root") % 12,
                   "other" if e.get("sus") else EVENT_QUALITIES.get(e["quality"], "other"))
                  for e in tracks["chord"] if e and not e["isRest"]]
        length = number(data["num_measures"], "num_measures") * beats_per_bar
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TheoryTabError(f"{path}: not readable JSON ({error})") from error
    except FieldError as error:
        raise TheoryTabError(f"{path}: invalid field: {error}") from error
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise TheoryTabError(f"{path}: missing or invalid field ({type(error).__name__}: "
                             f"{error})") from error
    info = dict(id=piece_id or str(path), tempo=_float(meta.get("BPM"), 120.0),
                version=str(data.get("version", "")), mode_name=MODE_NAMES[mode - 1],
                title=str(meta.get("title", "")))
    return _piece(notes, chords, tonic, MODE_NAMES[mode - 1], beats_per_bar, length, info)


def _piece(notes: list[tuple[float, float, int]], chords: list[tuple[float, float, int, str]],
           tonic: int, mode_name: str, beats_per_bar: int, length_beats: float,
           info: dict[str, Any]) -> Piece:
    """Quantise beat-time events to the step grid and build the Piece."""
    on, off, pitch = np.asarray(notes, dtype=np.float64).reshape(-1, 3).T
    start = np.rint(on * STEPS_PER_BEAT).astype(np.int64)
    duration = np.maximum(np.rint(off * STEPS_PER_BEAT).astype(np.int64) - start, 1)
    chord_array = np.empty(len(chords), dtype=CHORD_DTYPE)
    if chords:
        c_on, c_off = np.asarray([c[:2] for c in chords], dtype=np.float64).T
        chord_array["start"] = np.rint(c_on * STEPS_PER_BEAT)
        chord_array["duration"] = np.maximum(np.rint(c_off * STEPS_PER_BEAT) - chord_array["start"], 1)
        chord_array["root"] = [c[2] for c in chords]
        chord_array["quality"] = [QUALITIES.index(c[3]) for c in chords]
    length = int(round(length_beats * STEPS_PER_BEAT))
    ends = [length] + ([int((start + duration).max())] if len(start) else [])
    meta = dict(info, source="theorytab", melody_track=0, track_names=["melody"],
                has_melody=bool(len(start)))
    mode = "minor" if mode_name in MINOR_MODES else "major"
    return Piece(make_notes(start, duration, pitch.astype(np.int64), track=0),
                 chords=chord_array[np.argsort(chord_array["start"], kind="stable")],
                 key=(tonic, mode), steps_per_beat=STEPS_PER_BEAT, beats_per_bar=beats_per_bar,
                 length=max(ends), meta=meta)


def _float(text: Any, default: float) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


class TheoryTab(Source):
    """TheoryTab sections under ``<data root>/theorytab`` (XML, or the event JSON).

    Args:
        format: ``"xml"`` (TheoryTab's own files, the default) or ``"event"``
            (the ``*_symbol_key.json`` event files).
    """

    name = "theorytab"
    description = "TheoryTab lead-sheet sections: melody + chords (Hooktheory XML v1.3)"
    needs_data_root: ClassVar[bool] = True
    has_official_splits: ClassVar[bool] = False

    def __init__(self, format: str = "xml") -> None:
        if format not in ("xml", "event"):
            raise ValueError(f"theorytab format must be 'xml' or 'event', got {format!r}")
        self.format = format

    def options(self) -> dict[str, Any]:
        return {} if self.format == "xml" else {"format": self.format}

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "theorytab" / self.format

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        folder = self.location(root)
        if folder is None or not folder.is_dir():
            raise SourceError(f"theorytab: no folder {folder} (set MUSEBENCH_DATA to the data root)")
        pattern, suffix = ("*.xml", ".xml") if self.format == "xml" else \
            ("*_symbol_key.json", "_symbol_key.json")
        reader = read_xml if self.format == "xml" else read_event_json
        for path in sorted(folder.rglob(pattern)):
            section = str(path.relative_to(folder)).removesuffix(suffix)
            try:
                piece = reader(path, f"theorytab/{section}")
            except TheoryTabError as error:
                yield Skipped(str(path), str(error).removeprefix(f"{path}: "))
                continue
            if len(piece.notes) == 0 and len(piece.chords) == 0:
                yield Skipped(str(path), "empty section: no melody notes and no chords")
                continue
            yield piece
