"""Bach's six cello suites, the data of the LSTM with attention in Foster's *Generative
Deep Learning* (ch. 7, which parses the suites' MIDI files into notes and durations).

music21's corpus does not ship the suites (``music21.corpus.search('cello')`` finds one
Clara Schumann trio movement), but the classical MIDI collection of C-RNN-GAN does: the
36 movements ``bach/cs<suite>-<movement><dance>.mid`` (``cs1-1pre.mid`` ... ``cs6-6gig.mid``),
the files Foster's code reads. Splits: stable hash of the file name (80/10/10).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from musebench.datasets.piece import Piece
from musebench.datasets.sources.base import Skipped, SourceError
from musebench.datasets.sources.midi_folder import MidiFolder


class CelloSuites(MidiFolder):
    """The 36 cello-suite movements under ``<data root>/classical-midi/bach``."""

    name = "cello"
    description = "Bach's cello suites, 36 movements, from the classical set (Foster ch. 7)"
    needs_data_root = True
    PATTERN = "cs[1-6]-[1-6]*.mid"

    def __init__(self, steps_per_beat: int = 4, workers: int | None = None) -> None:
        super().__init__("", steps_per_beat=steps_per_beat, workers=workers)
        self.name = "cello"

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "classical-midi" / "bach"

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        folder = self.location(root)
        if folder is None or not folder.is_dir():
            raise SourceError(f"dataset {self.name}: folder {folder} not found")
        paths = sorted(folder.glob(self.PATTERN))
        if not paths:
            raise SourceError(f"dataset {self.name}: no cello-suite files ({self.PATTERN}) "
                              f"in {folder}")
        jobs = [(str(p), p.name, self.steps_per_beat, self.name) for p in paths]
        for result, warning in self._parse_all(jobs):
            if warning:
                warnings.warn(warning, stacklevel=2)
            yield result
