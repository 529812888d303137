"""The cache is verified, content-keyed and uniquely named: a corrupt entry is rebuilt
with a warning, an edit at the same size within the same second is seen, and sources with
long common names or a trailing slash neither share nor delete each other's entries."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.cache import load
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources.midi_folder import MidiFolder


def tunes(folder: Path, n: int, base: int = 60) -> Path:
    for i in range(n):
        write_midi(Piece(make_notes(np.arange(8) * 4, 4, base + (np.arange(8) + i) % 12),
                         length=32), folder / f"tune{i}.mid")
    return folder



def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MidiFolder, "read", lambda self, root: pytest.fail("parsed again"))


CORRUPTIONS = {
    "truncated": lambda data, other: data[: len(data) // 2],
    "zero bytes": lambda data, other: b"",
    "one byte flipped": lambda data, other: data[:200] + bytes([data[200] ^ 1]) + data[201:],
    "another source's file": lambda data, other: other,
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS))
def test_a_corrupt_entry_is_rebuilt_with_a_warning(tmp_path: Path, cache: Path, corrupt: str,
                                                   monkeypatch: pytest.MonkeyPatch):
    name, other = f"midi:{tunes(tmp_path / 'a', 3)}", f"midi:{tunes(tmp_path / 'b', 4, 50)}"
    expected = load(name)
    other_file = Path(load(other).manifest["cache_file"])
    entry = Path(expected.manifest["cache_file"])
    entry.write_bytes(CORRUPTIONS[corrupt](entry.read_bytes(), other_file.read_bytes()))
    with pytest.warns(UserWarning, match=f"cache entry {entry} is unusable.*rebuilding"):
        rebuilt = load(name)
    assert [p.notes.tobytes() for p in rebuilt.pieces] == [p.notes.tobytes()
                                                          for p in expected.pieces]
    no_parsing(monkeypatch)
    assert [p.id for p in load(name).pieces] == [p.id for p in expected.pieces]


def test_an_edit_at_the_same_size_in_the_same_second_is_seen(tmp_path: Path, cache: Path):
    folder = tunes(tmp_path / "a", 2)
    path = folder / "tune0.mid"
    before = load(f"midi:{folder}")
    stat = path.stat()
    write_midi(Piece(make_notes(np.arange(8) * 4, 4, 72 - np.arange(8)), length=32), path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    after = load(f"midi:{folder}")
    changed = [p for p in after.pieces if p.id == "tune0.mid"][0]
    assert changed.notes["pitch"].tolist() == list(range(72, 64, -1))
    assert after.manifest["key"] != before.manifest["key"]


def test_a_trailing_slash_names_the_same_entry(tmp_path: Path, cache: Path, monkeypatch):
    folder = tunes(tmp_path / "a", 2)
    load(f"midi:{folder}")
    no_parsing(monkeypatch)
    assert len(load(f"midi:{folder}/").pieces) == 2
    assert len(list(cache.glob("*.npz"))) == 1


def test_long_names_with_a_common_prefix_keep_their_own_entries(tmp_path: Path, cache: Path,
                                                                monkeypatch):
    deep = tmp_path / ("x" * 90)
    first, second = tunes(deep / "first", 2), tunes(deep / "second", 3, 50)
    load(f"midi:{first}")
    load(f"midi:{second}")
    no_parsing(monkeypatch)
    assert len(load(f"midi:{first}").pieces) == 2
    assert len(load(f"midi:{second}").pieces) == 3
