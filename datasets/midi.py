"""MIDI in and out of a :class:`~musebench.datasets.piece.Piece`, through symusic.

symusic (a C++ MIDI parser) reads files hundreds of times faster than pretty_midi and
writes marker events, which pretty_midi cannot; chords travel through them as
``chord:ROOT:quality`` markers so any tool's MIDI output can be scored with its chords,
and are also written as notes on a quiet track of their own (``musebench:chords``) that a
listener and common MIDI readers hear and show; reading leaves that track out.
A generated sample's conditioning piece (``meta['condition']``) travels as a
``musebench:condition=ID`` marker, so listening tests can pair samples of one condition.
Real-world files are read leniently: a RIFF ``RMID`` wrapper is unwrapped, and data
bytes above 127 (which strict parsers reject) are masked to 7 bits with a warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import symusic

from musebench.datasets.piece import (
    MODES,
    NOTE_DTYPE,
    PITCH_NAMES,
    QUALITIES,
    QUALITY_INTERVALS,
    Chord,
    Piece,
    make_chords,
    sort_notes,
)

TICKS_PER_BEAT = 480
CHORD_MARKER = re.compile(r"^chord:([A-G][#b]?):(\w+)$")
NO_CHORD_MARKER = "chord:N"
MELODY_MARKER = re.compile(r"^musebench:melody_track=(\d+)$")
LENGTH_MARKER = re.compile(r"^musebench:length=(\d+)$")
CONDITION_MARKER = re.compile(r"^musebench:condition=(.+)$")
#: The written chords' own track: a quiet string pad a listener hears under the melody
#: and common MIDI readers show; :func:`read_midi` leaves it out of the notes (the chords
#: are read back from the markers).
CHORD_TRACK, CHORD_PROGRAM, CHORD_VELOCITY, CHORD_ROOT_OCTAVE = "musebench:chords", 48, 40, 48


class MidiReadError(ValueError):
    """A MIDI file that cannot be read; the message names the file and the problem."""


def write_midi(piece: Piece, path: str | Path) -> Path:
    """Write ``piece`` as a type-1 Standard MIDI File at ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ticks = TICKS_PER_BEAT // piece.steps_per_beat
    score = symusic.Score(TICKS_PER_BEAT)
    score.tempos.append(symusic.Tempo(0, qpm=float(piece.meta.get("tempo", 120.0))))
    score.time_signatures.append(symusic.TimeSignature(0, piece.beats_per_bar, 4))
    if piece.key is not None:
        tonic, mode = piece.key
        score.key_signatures.append(symusic.KeySignature(0, _sharps(tonic, mode), MODES.index(mode)))
    names = piece.meta.get("track_names") or []
    for track in np.unique(piece.notes["track"]) if len(piece.notes) else [0]:
        notes = piece.notes[piece.notes["track"] == track]
        name = names[track] if track < len(names) else f"track {track}"
        out = symusic.Track(str(name), 0, False)
        out.notes = symusic.Note.from_numpy(
            notes["start"].astype(np.int32) * ticks,
            notes["duration"].astype(np.int32) * ticks,
            notes["pitch"].astype(np.int8),
            np.clip(notes["velocity"], 1, 127).astype(np.int8),
        )
        score.tracks.append(out)
    if len(piece.chords):
        score.tracks.append(_chord_track(piece, ticks))
    markers = []
    if piece.meta.get("melody_track") is not None:
        markers.append((0, f"musebench:melody_track={int(piece.meta['melody_track'])}"))
    markers.append((0, f"musebench:length={piece.n_steps}"))
    if piece.meta.get("condition") is not None:
        markers.append((0, f"musebench:condition={piece.meta['condition']}"))
    previous_end = 0
    for chord in piece.chord_list():
        if chord.start > previous_end:
            markers.append((previous_end * ticks, NO_CHORD_MARKER))
        markers.append((chord.start * ticks, f"chord:{chord.label}"))
        previous_end = chord.start + chord.duration
    if len(piece.chords) and previous_end < piece.n_steps:
        markers.append((previous_end * ticks, NO_CHORD_MARKER))
    for tick, text in markers:
        score.markers.append(symusic.TextMeta(int(tick), text))
    score.dump_midi(str(path))
    return path


def _chord_track(piece: Piece, ticks: int) -> symusic.Track:
    """The chords as sustained notes: each chord's tones stacked upward from its root in
    the octave of :data:`CHORD_ROOT_OCTAVE`, at :data:`CHORD_VELOCITY`."""
    tones = [(c, c.root % 12 + offset) for c in piece.chord_list()
             for offset in sorted(QUALITY_INTERVALS[c.quality])]
    track = symusic.Track(CHORD_TRACK, CHORD_PROGRAM, False)
    track.notes = symusic.Note.from_numpy(
        np.array([c.start * ticks for c, _ in tones], dtype=np.int32),
        np.array([c.duration * ticks for c, _ in tones], dtype=np.int32),
        np.array([CHORD_ROOT_OCTAVE + pitch for _, pitch in tones], dtype=np.int8),
        np.full(len(tones), CHORD_VELOCITY, dtype=np.int8))
    return track


def read_midi(path: str | Path, steps_per_beat: int = 4, **meta: Any) -> Piece:
    """Read a MIDI file into a Piece quantised to ``steps_per_beat`` steps per beat.

    Drum tracks and the written chords' track (:data:`CHORD_TRACK`) are left out (their
    pitches are instruments or accompaniment, not notes). Onsets and
    offsets are rounded to the nearest step; a note shorter than a step keeps one step.

    Raises:
        MidiReadError: the file is empty, not MIDI, truncated beyond repair, has no
            positive ticks per beat, or a note time beyond 32 bits (never dropped silently).
    """
    path = Path(path)
    score = parse_score(path)
    if score.tpq <= 0:
        raise MidiReadError(f"{path}: the header's ticks per beat is {score.tpq} (must be "
                            "positive)")
    scale = steps_per_beat / score.tpq
    columns = {name: [] for name in NOTE_DTYPE.names}
    track_names = []
    for track in score.tracks:
        if track.is_drum or track.note_num() == 0 or track.name == CHORD_TRACK:
            continue
        raw = track.notes.numpy()
        time, duration = raw["time"].astype(np.int64), raw["duration"].astype(np.int64)
        if (time < 0).any() or (duration < 0).any():
            raise MidiReadError(f"{path}: a note time or duration reaches 2**31 ticks or "
                                "more, beyond the 32-bit range the file can be read in")
        start = np.rint(time * scale).astype(np.int64)
        end = np.rint((time + duration) * scale).astype(np.int64)
        columns["start"].append(start)
        columns["duration"].append(np.maximum(end - start, 1))
        columns["pitch"].append(raw["pitch"].astype(np.int64) & 0x7F)
        columns["velocity"].append(raw["velocity"].astype(np.int64) & 0x7F)
        columns["track"].append(np.full(len(start), len(track_names)))
        track_names.append(track.name or f"track {len(track_names)}")
    notes = np.empty(sum(len(c) for c in columns["start"]), dtype=NOTE_DTYPE)
    for name, parts in columns.items():
        notes[name] = np.concatenate(parts) if parts else []

    info = dict(id=path.stem, tempo=score.tempos[0].qpm if len(score.tempos) else 120.0)
    info["track_names"] = track_names
    beats_per_bar = 4
    if len(score.time_signatures):
        signature = score.time_signatures[0]
        beats_per_bar = max(1, round(signature.numerator * 4 / signature.denominator))
    key = None
    if len(score.key_signatures):
        signature = score.key_signatures[0]
        mode = MODES[1] if signature.tonality else MODES[0]
        key = ((signature.key * 7 + (9 if signature.tonality else 0)) % 12, mode)
    chords, length = _read_markers(score, scale, info)
    info.update(meta)
    return Piece(sort_notes(notes), chords=chords, key=key, steps_per_beat=steps_per_beat,
                 beats_per_bar=beats_per_bar, length=length, meta=info)


def parse_score(path: Path) -> symusic.Score:
    """Parse ``path`` with symusic, repairing what real-world files get wrong."""
    data = path.read_bytes()
    if not data:
        raise MidiReadError(f"{path}: empty file (0 bytes)")
    data = unwrap_rmid(data, path)
    if not data.startswith(b"MThd"):
        raise MidiReadError(f"{path}: not a MIDI file (no MThd header)")
    try:
        return symusic.Score.from_midi(data)
    except Exception as first_error:  # noqa: BLE001 - symusic raises plain RuntimeError
        repaired = mask_data_bytes(data)
        if repaired == data:
            raise MidiReadError(f"{path}: unreadable MIDI ({first_error})") from first_error
        try:
            score = symusic.Score.from_midi(repaired)
        except Exception as error:  # noqa: BLE001
            raise MidiReadError(f"{path}: unreadable MIDI ({error})") from error
        warnings.warn(f"{path}: data bytes above 127 masked to 7 bits ({first_error})",
                      stacklevel=2)
        return score


def unwrap_rmid(data: bytes, path: Path | str = "<bytes>") -> bytes:
    """The SMF inside a RIFF ``RMID`` container (Microsoft's wrapper), else ``data``."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    start = data.find(b"MThd")
    if start < 0:
        raise MidiReadError(f"{path}: RIFF RMID container without an MThd chunk")
    return data[start:]


def mask_data_bytes(data: bytes) -> bytes:
    """Mask the two data bytes of every channel message to 7 bits, track by track.

    Some files carry data bytes >= 128 (velocity 128, pitch 200, …) that break strict
    running-status parsing. Only note-on/off, aftertouch, control and pitch-bend
    messages are touched; meta and sysex payloads are copied unchanged.
    """
    out = bytearray(data)
    position = 14  # after MThd
    while position + 8 <= len(out):
        chunk_length = int.from_bytes(out[position + 4: position + 8], "big")
        end = min(position + 8 + chunk_length, len(out))
        if out[position:position + 4] == b"MTrk":
            _mask_track(out, position + 8, end)
        position = end
    return bytes(out)


def _mask_track(out: bytearray, i: int, end: int) -> None:
    status = 0
    while i < end:
        while i < end and out[i] & 0x80:  # variable-length delta time
            i += 1
        i += 1
        if i >= end:
            return
        if out[i] in (0xFF, 0xF0, 0xF7):
            i += 2 if out[i] == 0xFF else 1
            length = 0
            while i < end:
                length = (length << 7) | (out[i] & 0x7F)
                i += 1
                if not out[i - 1] & 0x80:
                    break
            i += length
            continue
        if out[i] & 0x80 and out[i] < 0xF0:
            status = out[i]
            i += 1
        data_bytes = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
        for j in range(i, min(i + data_bytes, end)):
            out[j] &= 0x7F
        i += data_bytes


def _read_markers(score: symusic.Score, scale: float, info: dict) -> tuple[np.ndarray, int | None]:
    """Chords, melody track and length from musebench's marker events."""
    length = None
    events: list[tuple[int, str | None, str | None]] = []
    for marker in score.markers:
        text = marker.text.strip()
        step = int(round(marker.time * scale))
        if match := MELODY_MARKER.match(text):
            info["melody_track"] = int(match.group(1))
        elif match := LENGTH_MARKER.match(text):
            length = int(match.group(1))
        elif match := CONDITION_MARKER.match(text):
            info["condition"] = match.group(1)
        elif match := CHORD_MARKER.match(text):
            events.append((step, match.group(1), match.group(2)))
        elif text == NO_CHORD_MARKER:
            events.append((step, None, None))
    end = length if length is not None else int(round(score.end() * scale))
    chords = []
    for (start, root, quality), following in zip(events, (events + [(end, None, None)])[1:],
                                                 strict=True):
        if root is not None and quality in QUALITIES and following[0] > start:
            chords.append(Chord(start, following[0] - start, _pitch_class(root), quality))
    return make_chords(chords), length


def _pitch_class(name: str) -> int:
    flats = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}
    return PITCH_NAMES.index(flats.get(name, name))


def _sharps(tonic: int, mode: str) -> int:
    """Number of sharps (negative: flats) of the key signature of ``tonic`` ``mode``."""
    major_tonic = tonic if mode == "major" else (tonic + 3) % 12
    sharps = (major_tonic * 7) % 12
    return sharps - 12 if sharps > 6 else sharps
