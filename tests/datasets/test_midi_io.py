"""MIDI in and out (datasets/midi.py): round trips, lenient reading, clear errors."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.midi import (
    MidiReadError,
    mask_data_bytes,
    read_midi,
    unwrap_rmid,
    write_midi,
)
from musebench.datasets.piece import Chord, Piece, make_chords, make_notes


def two_voice_piece() -> Piece:
    notes = make_notes([0, 0, 4, 8, 8], [4, 8, 4, 8, 2], [72, 60, 74, 76, 55],
                       velocity=[90, 70, 91, 92, 71], track=[0, 1, 0, 0, 1])
    chords = make_chords([Chord(0, 8, 0, "maj"), Chord(8, 4, 9, "min"), Chord(12, 4, 7, "dim")])
    return Piece(notes, chords=chords, key=(9, "minor"), length=20,
                 meta={"id": "two", "melody_track": 0, "tempo": 96.0,
                       "track_names": ["Soprano", "Bass"]})


def smf_with_events(events: bytes) -> bytes:
    """A type-0 SMF (96 ticks per beat) with one track holding ``events`` + end of track."""
    track = events + b"\x00\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96)
            + b"MTrk" + struct.pack(">I", len(track)) + track)


def test_write_then_read_keeps_notes_chords_key_length_and_melody(tmp_path: Path) -> None:
    piece = two_voice_piece()
    back = read_midi(write_midi(piece, tmp_path / "two.mid"))
    for field in ("start", "duration", "pitch", "velocity", "track"):
        np.testing.assert_array_equal(back.notes[field], piece.notes[field])
    assert back.chord_list() == piece.chord_list()
    assert back.key == (9, "minor")
    assert back.n_steps == 20
    assert back.meta["melody_track"] == 0
    assert back.meta["track_names"] == ["Soprano", "Bass"]
    assert back.meta["tempo"] == pytest.approx(96.0)


def test_read_file_without_chord_markers_gives_no_chords(tmp_path: Path) -> None:
    path = tmp_path / "plain.mid"
    path.write_bytes(smf_with_events(b"\x00\x90\x3c\x40\x60\x80\x3c\x00"))
    piece = read_midi(path)
    assert len(piece.chords) == 0
    assert piece.notes["pitch"].tolist() == [60]
    assert piece.notes["duration"].tolist() == [4]


def test_rmid_wrapped_file_is_unwrapped(tmp_path: Path) -> None:
    smf = write_midi(two_voice_piece(), tmp_path / "plain.mid").read_bytes()
    data_chunk = b"data" + struct.pack("<I", len(smf)) + smf
    riff = b"RIFF" + struct.pack("<I", 4 + len(data_chunk)) + b"RMID" + data_chunk
    assert unwrap_rmid(riff) == smf
    (tmp_path / "wrapped.mid").write_bytes(riff)
    back = read_midi(tmp_path / "wrapped.mid")
    assert len(back.notes) == len(two_voice_piece().notes)


def test_data_bytes_above_127_are_masked_with_a_warning(tmp_path: Path) -> None:
    # note-on velocity 0xC8 (200) then running-status note-off: strict parsers reject it
    events = b"\x00\x90\x3c\xc8" + b"\x60\x3c\x00"
    path = tmp_path / "loud.mid"
    path.write_bytes(smf_with_events(events))
    assert mask_data_bytes(smf_with_events(events)) == smf_with_events(b"\x00\x90\x3c\x48\x60\x3c\x00")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        piece = read_midi(path)
    assert piece.notes["pitch"].tolist() == [60]
    assert piece.notes["velocity"].tolist() == [0x48]
    assert any("above 127" in str(w.message) and "loud.mid" in str(w.message) for w in caught)


def test_mask_data_bytes_leaves_meta_payloads_alone() -> None:
    name = b"\x00\xff\x03\x04\xe9t\xe9!"  # a track name with latin-1 bytes > 127
    data = smf_with_events(name + b"\x00\x90\x3c\x40\x60\x80\x3c\x00")
    assert mask_data_bytes(data) == data


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty file"),
    (b"RIFF\x10\x00\x00\x00RMIDjunkjunk", "without an MThd"),
    (bytes(range(256)) * 4, "not a MIDI file"),
])
def test_unreadable_files_raise_an_error_naming_the_file(tmp_path: Path, content: bytes,
                                                         problem: str) -> None:
    path = tmp_path / "broken.mid"
    path.write_bytes(content)
    with pytest.raises(MidiReadError, match=problem) as error:
        read_midi(path)
    assert "broken.mid" in str(error.value)


@pytest.mark.parametrize("keep", [30, 60, -10, -3])
def test_truncated_file_raises_an_error_naming_the_file(tmp_path: Path, keep: int) -> None:
    full = write_midi(two_voice_piece(), tmp_path / "full.mid").read_bytes()
    path = tmp_path / "cut.mid"
    path.write_bytes(full[:keep])
    with pytest.raises(MidiReadError, match="cut.mid: unreadable MIDI"):
        read_midi(path)


def test_random_bytes_after_a_valid_header_raise_midi_read_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.mid"
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 1, 2, 96) + b"MTrk\xff\xff\xff\xff"
                     + rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(MidiReadError, match="noise.mid"):
        read_midi(path)
