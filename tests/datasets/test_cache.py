"""The preparation cache (datasets/cache.py): built once, keyed, exact, atomic, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.cache import PreparedData, load, load_pieces, save_pieces
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Chord, Piece, make_chords, make_notes
from musebench.datasets.sources import SourceError
from musebench.datasets.sources.midi_folder import MidiFolder
from musebench.util import write_atomically


def write_folder(folder: Path, n: int) -> Path:
    """``n`` small two-bar MIDI files under ``folder`` (two sub-folders)."""
    for i in range(n):
        notes = make_notes(np.arange(8) * 4, 4, 60 + (np.arange(8) + i) % 12)
        chords = make_chords([Chord(0, 16, i % 12, "maj"), Chord(16, 16, (i + 5) % 12, "min")])
        piece = Piece(notes, chords=chords, key=(i % 12, "major"), length=32)
        write_midi(piece, folder / f"group{i % 2}" / f"tune{i:02d}.mid")
    return folder



def test_second_load_reads_the_cache_without_parsing(tmp_path: Path, cache: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"midi:{write_folder(tmp_path / 'tunes', 6)}"
    first = load(name)
    monkeypatch.setattr(MidiFolder, "read", lambda self, root: pytest.fail("parsed again"))
    second = load(name)
    assert [p.id for p in second.pieces] == [p.id for p in first.pieces]
    assert second.manifest == json.loads(next(cache.glob("*.json")).read_text())


def test_cached_pieces_equal_the_parsed_ones(tmp_path: Path, cache: Path) -> None:
    name = f"midi:{write_folder(tmp_path / 'tunes', 5)}"
    parsed = load(name).pieces
    cached = load(name).pieces
    for a, b in zip(parsed, cached, strict=True):
        assert a.notes.tobytes() == b.notes.tobytes()
        assert a.chord_list() == b.chord_list()
        assert (a.key, a.length, a.steps_per_beat, a.beats_per_bar) == (b.key, b.length,
                                                                         b.steps_per_beat,
                                                                         b.beats_per_bar)
        assert a.meta == b.meta


def test_refresh_and_changed_files_rebuild(tmp_path: Path, cache: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_folder(tmp_path / "tunes", 4)
    first = load(f"midi:{folder}")
    reads = []
    original = MidiFolder.read
    monkeypatch.setattr(MidiFolder, "read",
                        lambda self, root: reads.append(1) or original(self, root))
    load(f"midi:{folder}")
    assert reads == []
    load(f"midi:{folder}", refresh=True)
    assert reads == [1]
    write_folder(tmp_path / "more", 1)
    (tmp_path / "more" / "group0" / "tune00.mid").rename(folder / "added.mid")
    grown = load(f"midi:{folder}")
    assert len(grown.pieces) == len(first.pieces) + 1
    assert grown.manifest["key"] != first.manifest["key"]
    assert len(list(cache.glob("*.npz"))) == 1, "the stale cache of the old key is removed"


def test_manifest_counts_pieces_and_steps_per_split(tmp_path: Path, cache: Path) -> None:
    data = load(f"midi:{write_folder(tmp_path / 'tunes', 10)}")
    counts = data.manifest["counts"]
    assert sum(c["pieces"] for c in counts.values()) == 10
    for split in ("train", "valid", "test"):
        assert counts[split]["pieces"] == len(data.split(split))
        assert counts[split]["steps"] == sum(p.n_steps for p in data.split(split))
    assert data.manifest["pitch_range"] == [60, 71]
    assert data.manifest["skipped"] == []
    assert data.manifest["build_seconds"] >= 0


def test_source_needing_data_root_without_one_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                               cache: Path) -> None:
    monkeypatch.delenv("MUSEBENCH_DATA", raising=False)
    with pytest.raises(SourceError, match="dataset jsb reads files from the data directory: "
                                          "set MUSEBENCH_DATA or pass --data-root"):
        load("jsb")


def test_source_without_a_usable_piece_is_an_error_naming_it(tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.mid").write_bytes(b"")
    with pytest.raises(SourceError, match=r"dataset midi:.*broken has no usable piece.*empty\.mid"):
        load(f"midi:{folder}")
    assert not cache.exists() or not list(cache.glob("*.npz"))


def test_unknown_source_name_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid names:.*jsb"):
        load("no-such-dataset")


def test_prepared_data_split_rejects_unknown_names() -> None:
    data = PreparedData("x", [Piece(make_notes([0], [1], [60]), meta={"split": "test"})])
    assert len(data.test) == 1 and data.train == [] and data.valid == []
    with pytest.raises(ValueError, match="unknown split"):
        data.split("validation")


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "file.bin"
    write_atomically(target, b"old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_save_and_load_pieces_handles_numpy_values_in_meta(tmp_path: Path) -> None:
    pieces = [Piece(make_notes([0, 1], [1, 2], [60, 61]),
                    meta={"id": "a", "tempo": np.float64(90.5), "split": "train"}),
              Piece(make_notes([], [], []), meta={"id": "b", "split": "test"}, length=4)]
    save_pieces(pieces, tmp_path / "p.npz")
    back = load_pieces(tmp_path / "p.npz")
    assert back[0].meta["tempo"] == 90.5
    assert back[0].notes.tobytes() == pieces[0].notes.tobytes()
    assert len(back[1].notes) == 0 and back[1].n_steps == 4
