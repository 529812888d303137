"""The committed fixture: 12 small 4/4 Bach excerpts with melody, chords and splits."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from musebench.datasets.piece import Piece
from musebench.datasets.sources import get_source
from musebench.datasets.sources.base import Skipped, SourceError
from musebench.datasets.sources.fixture import FIXTURE_DIR, Fixture, read_splits


@pytest.fixture(scope="module")
def pieces() -> list[Piece]:
    items = list(get_source("fixture").read(None))
    assert all(isinstance(item, Piece) for item in items)
    return items


def test_fixture_is_small_and_needs_no_data_root() -> None:
    size = sum(path.stat().st_size for path in FIXTURE_DIR.iterdir())
    assert size < 100_000
    assert Fixture.needs_data_root is False and Fixture.has_official_splits is True
    assert Fixture().location(None) == FIXTURE_DIR


def test_fixture_splits_are_eight_two_two_with_unique_ids(pieces: list[Piece]) -> None:
    assert Counter(p.split for p in pieces) == {"train": 8, "valid": 2, "test": 2}
    assert len({p.id for p in pieces}) == 12
    assert all(p.id.startswith("fixture/") and p.meta["source"] == "fixture" for p in pieces)


def test_every_piece_has_four_voices_melody_chords_and_four_four(pieces: list[Piece]) -> None:
    for piece in pieces:
        assert piece.meta["melody_track"] == 0
        assert piece.meta["track_names"] == ["Soprano", "Alto", "Tenor", "Bass"]
        assert sorted(set(piece.notes["track"].tolist())) == [0, 1, 2, 3]
        assert (piece.beats_per_bar, piece.steps_per_beat, piece.n_bars) == (4, 4, 6)
        assert piece.key is not None
        # One chord per sounding beat, on the beat grid.
        assert len(piece.chords) >= 20 and set((piece.chords["start"] % 4).tolist()) == {0}
        melody = piece.melody()
        assert len(melody.notes) and (melody.notes["track"] == 0).all()


def test_missing_file_is_skipped_and_bad_splits_raise(tmp_path: Path) -> None:
    (tmp_path / "splits.json").write_text(json.dumps(
        {"train": ["missing"], "valid": [], "test": []}))
    items = list(Fixture(tmp_path).read(None))
    assert len(items) == 1 and isinstance(items[0], Skipped) and "missing.mid" in items[0].path
    (tmp_path / "splits.json").write_text("{not json")
    with pytest.raises(SourceError, match="splits.json"):
        read_splits(tmp_path / "splits.json")
    (tmp_path / "splits.json").write_text(json.dumps({"train": []}))
    with pytest.raises(SourceError, match="valid, test"):
        read_splits(tmp_path / "splits.json")
