"""The embedded default data: Bach chorales, Essen and O'Neill folk tunes from music21.

music21 ships these with the package, so the main benchmark needs no download.
Parsing is slow (about 40 ms a chorale, 20 ms an ABC tune), so files are parsed in
worker processes (``ProcessPoolExecutor``) and turned into Pieces there; only the
picklable Pieces come back. music21's own pickle cache is bypassed (``forceSource``)
so a stale cache can never change the data; musebench's cache stores the result.

- ``bach``: every chorale of ``music21.corpus.chorales.Iterator`` that has four parts
  (371 entries, 350 distinct files, 332 in four parts; see :func:`chorale_files`;
  duplicated entries are one piece), the four voices as tracks (soprano = melody,
  track 0), one chord per beat from :func:`musebench.datasets.chords.derive_chords`,
  key from music21's Krumhansl-Schmuckler analysis.
- ``essen`` / ``oneills``: one monophonic Piece per ABC tune (id = file + tune number);
  key from the tune's ``K:`` field for O'Neill's (it names the mode: ``K:Em``), from
  music21's key analysis for Essen (whose ``K:`` fields are bare key signatures);
  a tune music21 cannot parse is skipped alone.
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import abstractmethod
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from musebench.datasets.chords import derive_chords
from musebench.datasets.piece import NOTE_DTYPE, Piece, sort_notes
from musebench.datasets.sources.base import Skipped, Source

STEPS_PER_BEAT = 4
DEFAULT_TEMPO = 100.0
PREFERRED_FORMATS = {".mxl": 0, ".xml": 1, ".musicxml": 2, ".krn": 3}


def corpus_root() -> Path:
    """The folder of music21's bundled corpus."""
    import music21.corpus

    return Path(music21.corpus.__file__).parent


def chorale_files() -> list[Path]:
    """The file each entry of music21's chorale iterator names, each once, in order.

    ``corpus.getWork`` matches by prefix, so ``bach/bwv69.6`` also lists
    ``bwv69.6-a.mxl`` (itself an iterator entry) and ``bach/bwv112.5`` lists the
    7-part ``bwv112.5-sc.mxl`` first; music21's ``corpus.parse`` takes the first match,
    which reads one file twice and misses two chorales. We take the file whose stem is
    exactly the entry's name (MusicXML before Humdrum): 350 distinct files.
    """
    from music21 import corpus
    from music21.corpus import chorales

    names = dict.fromkeys(chorales.Iterator(returnType="filename"))
    return list(dict.fromkeys(_exact_work(name, corpus.getWork(name)) for name in names))


def _exact_work(name: str, found: Any) -> Path:
    candidates = [Path(p) for p in (found if isinstance(found, list) else [found])]
    exact = [p for p in candidates if p.stem == name.split("/")[-1]] or candidates
    return min(exact, key=lambda p: (PREFERRED_FORMATS.get(p.suffix, len(PREFERRED_FORMATS)),
                                     p.name))


def score_to_piece(score: Any, piece_id: str, source: str,
                   track_names: list[str] | None = None, analyse_key: bool = False) -> Piece:
    """A music21 Score (or Part) as a Piece on a 16th-note grid, one track per part.

    Bar lines land on multiples of ``steps_per_bar``: a pickup measure is shifted right
    by its missing length. Grace notes (zero duration) and chord symbols are left out;
    ties are merged. ``track_names`` is used when it names every part. The key is the
    score's own (major/minor) Key unless ``analyse_key`` or there is none; then music21's
    key analysis (Aarden-Essen profiles) decides.
    """
    from music21 import harmony, meter, tempo
    from music21 import key as m21key

    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    measures = parts[0].getElementsByClass("Measure")
    shift = float(measures[0].paddingLeft) if len(measures) else 0.0
    starts, ends, pitches, tracks = [], [], [], []
    for track, part in enumerate(parts):
        part.stripTies(inPlace=True)  # a copy would deep-copy the part: 2x slower
        for element in part.flatten().notes:
            length = float(element.quarterLength)
            if length <= 0 or isinstance(element, harmony.ChordSymbol):
                continue
            offset = float(element.offset) + shift
            for pitch in element.pitches:
                starts.append(offset)
                ends.append(offset + length)
                pitches.append(pitch.midi)
                tracks.append(track)
    start = np.rint(np.asarray(starts, dtype=np.float64) * STEPS_PER_BEAT).astype(np.int64)
    end = np.rint(np.asarray(ends, dtype=np.float64) * STEPS_PER_BEAT).astype(np.int64)
    notes = np.zeros(len(start), dtype=NOTE_DTYPE)
    notes["start"] = start
    notes["duration"] = np.maximum(end - start, 1)
    notes["pitch"] = np.asarray(pitches, dtype=np.int64)
    notes["velocity"] = 80
    notes["track"] = np.asarray(tracks, dtype=np.int64)

    flat = score.flatten()
    signatures = flat.getElementsByClass(meter.TimeSignature)
    beats_per_bar = 4
    if len(signatures):
        beats_per_bar = max(1, round(signatures[0].numerator * 4 / signatures[0].denominator))
    marks = flat.getElementsByClass(tempo.MetronomeMark)
    qpm = marks[0].getQuarterBPM() if len(marks) else None
    keys = flat.getElementsByClass(m21key.Key)
    found = keys[0] if len(keys) and not analyse_key else None
    if found is None or found.mode not in ("major", "minor"):
        found = score.analyze("key")
    names = track_names if track_names and len(track_names) == len(parts) else \
        [part.partName or f"part {i}" for i, part in enumerate(parts)]
    meta = dict(id=piece_id, source=source, tempo=float(qpm or DEFAULT_TEMPO),
                track_names=names, melody_track=0)
    return Piece(sort_notes(notes), key=(int(found.tonic.pitchClass), str(found.mode)),
                 steps_per_beat=STEPS_PER_BEAT, beats_per_bar=beats_per_bar, meta=meta)


def parse_chorale(path: str) -> Piece | Skipped:
    """One chorale file as a Piece with derived per-beat chords, or Skipped with why."""
    from music21 import converter

    name = f"bach/{Path(path).stem}"
    try:
        score = converter.parse(path, forceSource=True)
        if len(score.parts) != 4:
            return Skipped(path, f"{len(score.parts)} parts, not the four of SATB")
        piece = score_to_piece(score, name, "bach")
    except Exception as error:  # noqa: BLE001 - music21 raises many unrelated types
        return Skipped(path, f"music21 cannot read it: {type(error).__name__}: {error}")
    piece.chords = derive_chords(piece)
    return piece


def split_abc_tunes(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The file header and ``(reference number, tune text)`` of every ``X:`` tune."""
    chunks = re.split(r"^(?=X:)", text, flags=re.MULTILINE)
    header = "" if chunks[0].startswith("X:") else chunks.pop(0)
    tunes = []
    for chunk in chunks:
        number = chunk.split("\n", 1)[0].removeprefix("X:").strip()
        tunes.append((number, chunk))
    return header, tunes


def parse_abc_file(path: str, source: str, analyse_key: bool = False) -> list[Piece | Skipped]:
    """Every tune of one ABC file as a monophonic Piece; a broken tune is Skipped alone.

    Each tune is parsed on its own (after the file header), so a tune that breaks
    music21's parser, or leaves it in a bad state (an unfinished triplet), cannot
    affect the next one. ``analyse_key``: ignore the ``K:`` field (a bare key
    signature in some collections) and let music21's key analysis find the mode.
    """
    from music21 import abcFormat
    from music21.abcFormat import translate

    try:
        header, tunes = split_abc_tunes(Path(path).read_text(encoding="latin-1"))
    except OSError as error:
        return [Skipped(path, f"unreadable ABC file: {error}")]
    out: list[Piece | Skipped] = []
    stem = Path(path).stem
    for number, text in tunes:
        where = f"{path}#X:{number}"
        try:
            handler = abcFormat.ABCHandler()
            handler.process(header + text)
            score = translate.abcToStreamScore(handler)
            piece = score_to_piece(score, f"{source}/{stem}#{number}", source, ["melody"],
                                   analyse_key)
        except Exception as error:  # noqa: BLE001 - music21 raises many unrelated types
            message = " ".join(str(error).split())[:200]
            out.append(Skipped(where, f"music21 cannot parse the tune: {type(error).__name__}: {message}"))
            continue
        if len(piece.notes) == 0:
            out.append(Skipped(where, "tune has no notes"))
            continue
        piece.meta["title"] = score.metadata.title if score.metadata else None
        out.append(piece)
    return out


def _chorale_batch(paths: list[str]) -> list[Piece | Skipped]:
    return [parse_chorale(path) for path in paths]


def _abc_batch(paths: list[str], source: str, analyse_key: bool) -> list[Piece | Skipped]:
    return [item for path in paths for item in parse_abc_file(path, source, analyse_key)]


class Music21Corpus(Source):
    """Common machinery: list files, parse them in worker processes, yield in order.

    Args:
        limit: read only the first ``limit`` files (for tests and quick looks).
        workers: worker processes (default: CPU count, at most the number of tasks).
    """

    needs_data_root: ClassVar[bool] = False
    has_official_splits: ClassVar[bool] = False
    #: Files per worker task: enough to amortise the hand-off, few enough to balance.
    files_per_task: ClassVar[int] = 1

    def __init__(self, limit: int | None = None, workers: int | None = None) -> None:
        self.limit = limit
        self.workers = workers

    def options(self) -> dict[str, Any]:
        return {} if self.limit is None else {"limit": self.limit}

    @abstractmethod
    def files(self) -> list[Path]:
        """The corpus files this source reads, in a stable order (``limit`` applied)."""

    @abstractmethod
    def parse_batch(self, paths: list[str]) -> list[Piece | Skipped]:
        """Parse a batch of files (runs in a worker process)."""

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        paths = [str(path) for path in self.files()]
        size = self.files_per_task
        batches = [paths[i:i + size] for i in range(0, len(paths), size)]
        workers = min(self.workers or os.cpu_count() or 1, max(len(batches), 1))
        if workers <= 1:
            for batch in batches:
                yield from self.parse_batch(batch)
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for items in pool.map(self.parse_batch, batches):
                yield from items

    def files_signature(self, root: Path | None) -> str:
        """music21's version plus a hash of the corpus files read (names and sizes)."""
        import music21

        listing = "\n".join(f"{p.relative_to(corpus_root())}:{p.stat().st_size}"
                            for p in self.files())
        return f"music21 {music21.__version__} {hashlib.sha256(listing.encode()).hexdigest()[:16]}"


class BachChorales(Music21Corpus):
    """The four-part Bach chorales bundled with music21 (332 pieces)."""

    name = "bach"
    description = "music21's Bach chorales: 4 voices (soprano = melody), per-beat chords, key"
    files_per_task = 8  # one small chorale per file; ABC files hold hundreds of tunes

    def files(self) -> list[Path]:
        return chorale_files()[:self.limit]

    def parse_batch(self, paths: list[str]) -> list[Piece | Skipped]:
        return _chorale_batch(paths)


class AbcFolkTunes(Music21Corpus):
    """Monophonic folk tunes from one folder of music21's ABC corpus."""

    folder: ClassVar[str]
    #: True where the collection's ``K:`` fields are key signatures without a mode.
    analyse_key: ClassVar[bool] = False

    def files(self) -> list[Path]:
        return sorted((corpus_root() / self.folder).glob("*.abc"))[:self.limit]

    def parse_batch(self, paths: list[str]) -> list[Piece | Skipped]:
        return _abc_batch(paths, self.name, self.analyse_key)


class EssenFolksongs(AbcFolkTunes):
    """The Essen folk-song collection (European folk melodies) in music21's corpus."""

    name = "essen"
    description = "music21's Essen folk songs (ABC): monophonic melodies with keys"
    folder = "essenFolksong"
    analyse_key = True  # every K: field is a major-key name ("K: G"), even for minor tunes


class OneillsTunes(AbcFolkTunes):
    """O'Neill's Music of Ireland (1850), Irish dance tunes, in music21's corpus."""

    name = "oneills"
    description = "music21's O'Neill's 1850 Irish tunes (ABC): monophonic melodies with keys"
    folder = "oneills1850"
