"""The tiny committed dataset every smoke run and CI job trains on (no download, < 1 s).

Twelve six-bar excerpts of four-part Bach chorales in 4/4 (music21's corpus), written
as MIDI by :func:`musebench.datasets.midi.write_midi`: four voices as tracks, the
soprano marked as melody, one derived chord per beat as ``chord:ROOT:quality``
markers, and the key. ``splits.json`` fixes 8 train / 2 valid / 2 test pieces.
``tests/fixtures/make_fixture.py`` regenerates the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from musebench.datasets.midi import MidiReadError, read_midi
from musebench.datasets.piece import Piece
from musebench.datasets.sources.base import Skipped, Source, SourceError

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "bach_excerpts"
SPLITS_FILE = "splits.json"
SPLIT_NAMES = ("train", "valid", "test")


class Fixture(Source):
    """The committed Bach-excerpt fixture with its own train/valid/test split.

    Args:
        folder: the fixture folder (default: ``tests/fixtures/bach_excerpts``).
    """

    name = "fixture"
    description = "12 committed 6-bar Bach chorale excerpts (melody, chords, 4 voices, 4/4)"
    needs_data_root: ClassVar[bool] = False
    has_official_splits: ClassVar[bool] = True

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else FIXTURE_DIR

    def location(self, root: Path | None) -> Path | None:
        return self.folder

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        splits = read_splits(self.folder / SPLITS_FILE)
        for split in SPLIT_NAMES:
            for stem in splits[split]:
                path = self.folder / f"{stem}.mid"
                try:
                    piece = read_midi(path, id=f"fixture/{stem}", source="fixture", split=split)
                except (MidiReadError, OSError) as error:
                    yield Skipped(str(path), str(error))
                    continue
                yield piece


def read_splits(path: Path) -> dict[str, list[str]]:
    """The ``{"train": [...], "valid": [...], "test": [...]}`` file stems of the fixture.

    Raises:
        SourceError: the file is missing, not JSON, or lacks one of the three splits.
    """
    try:
        splits = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SourceError(f"{path}: cannot read the fixture splits ({error})") from error
    missing = [name for name in SPLIT_NAMES if not isinstance(splits.get(name), list)]
    if missing:
        raise SourceError(f"{path}: no list of file stems for split(s) {', '.join(missing)}")
    return splits
