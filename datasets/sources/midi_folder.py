"""Folders of MIDI files: any user's folder (``midi:<folder>``) and the ``classical`` set.

``midi:<folder>`` reads every ``.mid``/``.midi`` file under a folder (recursively); the
piece id is the path relative to the folder, so the hash split
(:mod:`musebench.datasets.splits`) never moves a piece when files are added.

``classical`` is the 3,029-file classical collection (127 composer folders) that
C-RNN-GAN was trained on (Mogren, "C-RNN-GAN: Continuous recurrent neural networks
with adversarial training", NIPS workshop 2016), with that work's fixed
``validation.txt`` and ``test.txt`` lists (paths relative to the folder); every other
file is training data. Listed files missing from the collection are ignored.

Files are found and parsed by :mod:`musebench.datasets.midi_files` (the reader
``musebench score`` uses too), in a process pool. A file that cannot be read (empty,
truncated, not MIDI, beyond the piece limits) and a link or folder named like a MIDI file
that is not one are skipped with the reason; files read leniently (data bytes > 127 masked) keep the warning in
``meta['read_warning']`` and it is re-issued in the parent process.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from musebench.datasets.cache_files import content_signature
from musebench.datasets.midi_files import list_midi_files, read_one
from musebench.datasets.piece import Piece
from musebench.datasets.sources.base import Skipped, Source, SourceError

#: Below this many files a process pool costs more than it saves.
MIN_FILES_FOR_POOL = 64


class MidiFolder(Source):
    """Every MIDI file under one folder, read recursively; splits by hash of the path.

    Args:
        folder: the folder (absolute, or relative to the current directory).
        steps_per_beat: quantisation grid (4 = 16th notes).
        workers: parsing processes (default: the CPU count, at most 8).
    """

    name = "midi"
    description = "any folder of MIDI files (recursive .mid/.midi): midi:<folder>"
    needs_data_root = False

    def __init__(self, folder: str | Path = "", steps_per_beat: int = 4,
                 workers: int | None = None) -> None:
        self.folder = Path(folder)
        self.steps_per_beat = steps_per_beat
        self.workers = workers or min(os.cpu_count() or 1, 8)
        self.name = f"midi:{self.folder.expanduser().resolve()}"

    def files_signature(self, root: Path | None) -> str:
        """Paths, sizes and content hashes of the files :func:`list_midi_files` finds."""
        folder = self.location(root)
        if folder is None or not folder.is_dir():
            return ""
        paths, skipped = list_midi_files(folder)
        return "\n".join([content_signature(paths, folder), *map(str, skipped)])

    def options(self) -> dict[str, int]:
        return {"steps_per_beat": self.steps_per_beat}

    def location(self, root: Path | None) -> Path | None:
        return self.folder.expanduser().resolve()

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        folder = self.location(root)
        if folder is None or not folder.is_dir():
            raise SourceError(f"dataset {self.name}: folder {folder} not found")
        paths, skipped = list_midi_files(folder)
        yield from skipped
        jobs = [(str(p), p.relative_to(folder).as_posix(), self.steps_per_beat, self.name)
                for p in paths]
        for result, warning in self._parse_all(jobs):
            if warning:
                warnings.warn(warning, stacklevel=2)
            if isinstance(result, Piece):
                self.annotate(result)
            yield result

    def annotate(self, piece: Piece) -> None:
        """Hook for subclasses: set ``meta`` fields (e.g. an official split) on a Piece."""

    def _parse_all(self, jobs: list[tuple[str, str, int, str]]) -> Iterator[tuple[Piece | Skipped, str | None]]:
        if len(jobs) < MIN_FILES_FOR_POOL or self.workers < 2:
            yield from map(read_one, jobs)
            return
        chunksize = max(1, len(jobs) // (self.workers * 8))
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            yield from pool.map(read_one, jobs, chunksize=chunksize)


class ClassicalMidi(MidiFolder):
    """The C-RNN-GAN classical MIDI collection under ``<data root>/classical-midi``.

    Splits: files listed in ``validation.txt`` -> valid, ``test.txt`` -> test, all
    others train.
    """

    name = "classical"
    description = "3,029 classical MIDI files, 127 composers, C-RNN-GAN's fixed splits (Mogren 2016)"
    needs_data_root = True
    has_official_splits = True
    SPLIT_LISTS: dict[str, str] = {"valid": "validation.txt", "test": "test.txt"}

    def __init__(self, steps_per_beat: int = 4, workers: int | None = None) -> None:
        super().__init__("", steps_per_beat=steps_per_beat, workers=workers)
        self.name = "classical"
        self._listed: dict[str, str] = {}

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "classical-midi"

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        folder = self.location(root)
        if folder is None or not folder.is_dir():
            raise SourceError(f"dataset {self.name}: folder {folder} not found")
        self._listed = read_split_lists(folder, self.SPLIT_LISTS)
        self.folder = folder
        yield from super().read(root)

    def annotate(self, piece: Piece) -> None:
        piece.meta["split"] = self._listed.get(piece.id, "train")


def read_split_lists(folder: Path, lists: dict[str, str]) -> dict[str, str]:
    """``relative path -> split`` from list files (one path per line) in ``folder``.

    Raises:
        SourceError: a list file is missing.
    """
    listed: dict[str, str] = {}
    for split, filename in lists.items():
        path = folder / filename
        if not path.is_file():
            raise SourceError(f"{path}: split list not found")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                listed[Path(line.strip()).as_posix()] = split
    return listed
