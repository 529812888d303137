"""MIDI-folder sources (datasets/sources/midi_folder.py): any folder, bad files, classical."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.cache import load
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources import Skipped, SourceError, get_source
from musebench.datasets.sources.midi_folder import ClassicalMidi, MidiFolder, read_split_lists


def write_tune(path: Path, transpose: int = 0) -> Path:
    notes = make_notes(np.arange(4) * 4, 4, np.array([60, 62, 64, 65]) + transpose)
    return write_midi(Piece(notes), path)


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Two good tunes (one nested, one ``.MIDI``), and empty, truncated, random files."""
    folder = tmp_path / "mine"
    write_tune(folder / "a.mid")
    write_tune(folder / "deep" / "er" / "b.MIDI", transpose=2)
    (folder / "empty.mid").write_bytes(b"")
    (folder / "cut.mid").write_bytes((folder / "a.mid").read_bytes()[:40])
    (folder / "noise.mid").write_bytes(np.random.default_rng(0).bytes(300))
    (folder / "notes.txt").write_text("not music")
    return folder


def test_folder_is_read_recursively_and_bad_files_are_skipped_with_reasons(messy_folder) -> None:
    items = list(MidiFolder(messy_folder).read(None))
    pieces = [i for i in items if isinstance(i, Piece)]
    skipped = {Path(i.path).name: i.reason for i in items if isinstance(i, Skipped)}
    assert sorted(p.id for p in pieces) == ["a.mid", "deep/er/b.MIDI"]
    assert skipped.keys() == {"empty.mid", "cut.mid", "noise.mid"}
    assert skipped["empty.mid"] == "empty file (0 bytes)"
    assert "unreadable MIDI" in skipped["cut.mid"]
    assert "not a MIDI file" in skipped["noise.mid"]


def test_midi_prefix_selects_a_folder_and_build_goes_on_past_bad_files(messy_folder: Path) -> None:
    data = load(f"midi:{messy_folder}")
    assert len(data.pieces) == 2
    assert {Path(s["path"]).name for s in data.manifest["skipped"]} == {"empty.mid", "cut.mid",
                                                                         "noise.mid"}
    assert all(p.split in ("train", "valid", "test") for p in data.pieces)
    assert get_source(f"midi:{messy_folder}").name == f"midi:{messy_folder}"


def test_pool_and_serial_parsing_give_the_same_pieces(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        write_tune(tmp_path / "tunes" / f"t{i}.mid", transpose=i)
    serial = list(MidiFolder(tmp_path / "tunes", workers=1).read(None))
    monkeypatch.setattr("musebench.datasets.sources.midi_folder.MIN_FILES_FOR_POOL", 2)
    pooled = list(MidiFolder(tmp_path / "tunes", workers=2).read(None))
    assert [p.id for p in pooled] == [p.id for p in serial]
    assert all(a.notes.tobytes() == b.notes.tobytes() for a, b in zip(serial, pooled, strict=True))


def test_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        list(MidiFolder(tmp_path / "nowhere").read(None))


def test_classical_splits_follow_the_lists_and_missing_listed_files_are_ignored(
        tmp_path: Path) -> None:
    folder = tmp_path / "classical-midi"
    for name in ("bach/a.mid", "bach/b.mid", "chopin/c.mid", "chopin/d.mid"):
        write_tune(folder / name)
    (folder / "validation.txt").write_text("bach/b.mid\nmissing/x.mid\n")
    (folder / "test.txt").write_text("chopin/c.mid\n")
    pieces = list(ClassicalMidi().read(tmp_path))
    assert {p.id: p.split for p in pieces} == {"bach/a.mid": "train", "bach/b.mid": "valid",
                                               "chopin/c.mid": "test", "chopin/d.mid": "train"}


def test_classical_without_its_lists_is_a_source_error(tmp_path: Path) -> None:
    write_tune(tmp_path / "classical-midi" / "x" / "a.mid")
    with pytest.raises(SourceError, match="validation.txt: split list not found"):
        list(ClassicalMidi().read(tmp_path))


@pytest.mark.slow
def test_real_classical_keeps_every_readable_file(data_root: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load("classical", data_root, refresh=True)
    manifest = data.manifest
    assert len(data.pieces) == 3022
    assert len(manifest["skipped"]) == 7
    assert all(s["reason"] == "empty file (0 bytes)" for s in manifest["skipped"])
    assert len(manifest["warnings"]) == 13
    assert sum("above 127" in str(w.message) for w in caught) == 13
    folder = data_root / "classical-midi"
    rmid = [p.relative_to(folder).as_posix() for p in folder.rglob("*.mid")
            if p.read_bytes()[:4] == b"RIFF"]
    ids = {p.id for p in data.pieces}
    assert len(rmid) == 8 and set(rmid) <= ids
    listed = read_split_lists(folder, ClassicalMidi.SPLIT_LISTS)
    expected = Counter(listed[i] for i in ids if i in listed)
    counts = manifest["counts"]
    assert (counts["valid"]["pieces"], counts["test"]["pieces"]) == (expected["valid"],
                                                                      expected["test"])
    assert len([p for p in listed if not (folder / p).is_file()]) == 50
