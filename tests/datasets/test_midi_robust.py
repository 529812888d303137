"""One MIDI reader for ``data`` and ``score``: bad headers, 32-bit overflows, pieces
beyond the limits, and links or folders named like MIDI files are skipped with the same
reasons by both, and never raise."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from musebench import cli
from musebench.cli.score import read_folder
from musebench.datasets.limits import LimitError, current_limits, limit_violation
from musebench.datasets.midi import write_midi
from musebench.datasets.midi_files import list_midi_files, read_one
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources import SourceError, get_source
from musebench.datasets.sources.midi_folder import MidiFolder


def vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def smf(tpq: int, notes: list[tuple[int, int, int]]) -> bytes:
    """A type-0 file: each note ``(delta, pitch, duration)`` as note-on / note-off."""
    track = b"".join(vlq(d) + bytes([0x90, p, 64]) + vlq(n) + bytes([0x80, p, 0])
                     for d, p, n in notes) + b"\x00\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq)
            + b"MTrk" + struct.pack(">I", len(track)) + track)


def good_piece() -> Piece:
    return Piece(make_notes(np.arange(8) * 4, 4, 60 + np.arange(8)), length=32)


def reason(path: Path) -> str:
    result, _ = read_one((str(path), path.name, 4, "test"))
    assert not isinstance(result, Piece), f"{path} was read"
    return result.reason


def test_ticks_per_beat_zero_is_skipped_with_the_reason(tmp_path: Path):
    path = tmp_path / "zero.mid"
    path.write_bytes(smf(0, [(0, 60, 480)]))
    assert "ticks per beat is 0" in reason(path)


def test_a_note_beyond_32_bits_is_a_reason_never_a_silent_drop(tmp_path: Path):
    path = tmp_path / "overflow.mid"
    # 9 x (note at +0x0FFFFFFF ticks): the 9th starts beyond 2**31 and wraps negative
    path.write_bytes(smf(480, [(0x0FFFFFFF, 60 + i, 10) for i in range(9)]))
    assert "2**31" in reason(path)


def test_a_note_537_million_ticks_in_is_too_long(tmp_path: Path):
    path = tmp_path / "far.mid"
    path.write_bytes(smf(480, [(0x0FFFFFFF, 60, 1), (0x0FFFFFFF, 62, 480),
                               (537_000_000 - 2 * 0x0FFFFFFF - 1, 64, 480)]))
    assert "too long" in reason(path) and "MUSEBENCH_MAX_STEPS" in reason(path)


def test_pitches_outside_the_allowed_range_are_skipped(tmp_path: Path, monkeypatch):
    path = tmp_path / "wide.mid"
    write_midi(Piece(make_notes([0, 4], 4, [5, 120]), length=8), path)
    assert isinstance(read_one((str(path), path.name, 4, "test"))[0], Piece)
    monkeypatch.setenv("MUSEBENCH_MIN_PITCH", "21")
    monkeypatch.setenv("MUSEBENCH_MAX_PITCH", "108")
    assert "pitches 5..120 outside the allowed 21..108" in reason(path)
    assert "outside the allowed 0..127" in limit_violation(
        Piece(make_notes([0], 4, [667]), length=4), {"max_steps": 100, "min_pitch": 0,
                                                      "max_pitch": 127})


def test_limits_come_from_the_environment_and_bad_values_name_the_variable(monkeypatch):
    assert current_limits() == {"max_steps": 65_536, "min_pitch": 0, "max_pitch": 127}
    monkeypatch.setenv("MUSEBENCH_MAX_STEPS", "16")
    assert "32 steps > the limit of 16" in limit_violation(good_piece())
    monkeypatch.setenv("MUSEBENCH_MAX_STEPS", "-3")
    with pytest.raises(LimitError, match="MUSEBENCH_MAX_STEPS='-3'"):
        current_limits()
    monkeypatch.setenv("MUSEBENCH_MAX_STEPS", "100")
    monkeypatch.setenv("MUSEBENCH_MAX_PITCH", "200")
    with pytest.raises(LimitError, match="MUSEBENCH_MAX_PITCH='200'.*<= 127"):
        current_limits()


def hostile_folder(folder: Path) -> Path:
    write_midi(good_piece(), folder / "good.mid")
    (folder / "zero.mid").write_bytes(smf(0, [(0, 60, 480)]))
    (folder / "folder.mid").mkdir()
    write_midi(good_piece(), folder / "folder.mid" / "inside.mid")
    os.symlink(folder / "nowhere.mid", folder / "dangling.mid")
    os.symlink(folder, folder / "sub_loop")
    os.symlink(folder / "self.mid", folder / "self.mid")
    os.symlink(folder / "good.mid", folder / "linked.mid")
    return folder


def test_data_and_score_read_and_skip_the_same_files_for_the_same_reasons(tmp_path: Path):
    folder = hostile_folder(tmp_path / "hostile")
    items = list(MidiFolder(folder).read(None))
    data_read = sorted(p.id for p in items if isinstance(p, Piece))
    data_skipped = sorted(str(s) for s in items if not isinstance(s, Piece))
    pieces, score_skipped = read_folder(folder, 4)
    assert data_read == sorted(p.id for p in pieces) == ["good.mid", "linked.mid"]
    assert data_skipped == sorted(score_skipped)
    reasons = {Path(line.split(": ")[0]).name: line for line in data_skipped}
    assert set(reasons) == {"zero.mid", "folder.mid", "dangling.mid", "sub_loop", "self.mid"}
    assert "directory" in reasons["folder.mid"] and "dangling" in reasons["dangling.mid"]
    assert "loop" in reasons["sub_loop"] and "loop" in reasons["self.mid"]


def test_listing_terminates_on_a_loop_and_names_it(tmp_path: Path):
    folder = hostile_folder(tmp_path / "hostile")
    files, skipped = list_midi_files(folder)
    assert [f.name for f in files] == ["good.mid", "linked.mid", "zero.mid"]
    assert len(skipped) == 4


def test_score_command_skips_a_bad_header_without_a_traceback(tmp_path: Path, capsys):
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "zero.mid").write_bytes(smf(0, [(0, 60, 480)]))
    write_midi(good_piece(), folder / "good.mid")
    assert cli.main(["score", "--samples", str(folder), "--dataset", "fixture",
                     "--bootstrap", "20", "--json"]) == 0
    assert "zero.mid: the header's ticks per beat is 0" in capsys.readouterr().err


def test_midi_with_an_empty_path_is_an_error_not_the_current_folder():
    with pytest.raises(SourceError, match="names no folder"):
        get_source("midi:")
    with pytest.raises(SourceError, match="names no folder"):
        get_source("midi:  ")


def test_score_keeps_an_empty_sample_that_data_skips(tmp_path: Path):
    folder = tmp_path / "samples"
    write_midi(good_piece(), folder / "good.mid")
    write_midi(Piece(make_notes([], [], []), length=16), folder / "empty.mid")
    pieces, skipped = read_folder(folder, 4)
    assert sorted(p.id for p in pieces) == ["empty.mid", "good.mid"] and skipped == []
    data = [i for i in MidiFolder(folder).read(None) if not isinstance(i, Piece)]
    assert [s.reason for s in data] == ["no notes (only drums or empty tracks)"]
