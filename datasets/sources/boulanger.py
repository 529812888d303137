"""The four Boulanger-Lewandowski polyphonic benchmarks (JSB, MuseData, Nottingham, Piano-midi).

Source: Boulanger-Lewandowski, Bengio & Vincent, "Modeling Temporal Dependencies in
High-Dimensional Sequences: Application to Polyphonic Music Generation and
Transcription", ICML 2012. The published ``.mat`` files hold ``traindata``,
``validdata`` and ``testdata``: 1 x N cells of ``T x 88`` 0/1 piano rolls, column =
MIDI pitch - 21, one row per time step (a quarter note for JSB, an eighth note for the
others, as published). Each roll becomes one Piece on that grid: a note per run of
active frames, the official split in ``meta['split']``, the roll length kept in
``Piece.length`` (trailing silence included), so ``FrameRollCodec(21, 108).encode``
gives back the published roll exactly — the likelihood benchmarks are computed on it.
Chords are derived from the notes by :func:`musebench.datasets.chords.with_derived_chords`.

``jsb-quarter`` reads the original pickle distribution of the JSB chorales
(``{'train','valid','test'}`` -> pieces -> steps -> tuple of MIDI pitches) and
``jsb16`` the optional ``Jsb16thSeparated.npz`` (SATB voices on a 16th-note grid, an
object array) through :class:`RestrictedUnpickler`, which builds only containers,
numbers, NumPy scalars and plain arrays: a file carrying code is refused with a clear
error instead of being run.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources.base import Skipped, Source, SourceError

#: Column 0 of a Boulanger roll is MIDI pitch 21 (A0); 88 columns up to 108 (C8).
LOWEST_PITCH = 21
N_PITCHES = 88
#: The ``.mat`` variable holding each official split.
MAT_SPLITS: dict[str, str] = {"train": "traindata", "valid": "validdata", "test": "testdata"}


class BoulangerSource(Source):
    """One ``.mat`` file of the Boulanger-Lewandowski benchmarks, official splits kept.

    Subclasses set ``name``, ``description``, ``filename`` and ``steps_per_beat``
    (frames per quarter note, as the data were published).
    """

    has_official_splits = True
    filename: ClassVar[str]
    steps_per_beat: ClassVar[int]

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "boulanger" / self.filename

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        import scipy.io  # imported here: a cached load never needs it

        path = self._require(root)
        try:
            data = scipy.io.loadmat(str(path))
        except (ValueError, OSError, TypeError) as error:
            raise SourceError(f"{path}: not a readable MATLAB file ({error})") from error
        for split, variable in MAT_SPLITS.items():
            if variable not in data:
                raise SourceError(f"{path}: no {variable!r} variable (expected {list(MAT_SPLITS.values())})")
            for index, roll in enumerate(np.asarray(data[variable]).ravel()):
                yield self._piece_or_skip(path, split, index, np.asarray(roll))

    def _piece_or_skip(self, path: Path, split: str, index: int, roll: np.ndarray) -> Piece | Skipped:
        piece_id = f"{self.name}/{split}/{index:03d}"
        if roll.ndim != 2 or roll.shape[1] != N_PITCHES:
            return Skipped(f"{path}:{piece_id}", f"roll of shape {roll.shape}, expected (T, {N_PITCHES})")
        return roll_to_piece(roll > 0, piece_id, self.name, split, self.steps_per_beat)

    def _require(self, root: Path | None) -> Path:
        path = self.location(root)
        if path is None or not path.is_file():
            raise SourceError(f"dataset {self.name}: {path} not found")
        return path


def roll_to_piece(roll: np.ndarray, piece_id: str, source: str, split: str,
                  steps_per_beat: int) -> Piece:
    """A Piece from a ``T x 88`` bool roll (column 0 = MIDI pitch 21), chords derived.

    Args:
        roll: the frames, one row per time step.
        piece_id: stable id (``meta['id']``).
        source: source name (``meta['source']``).
        split: official split (``meta['split']``).
        steps_per_beat: frames per quarter note of this data set.
    """
    from musebench.datasets.chords import with_derived_chords
    from musebench.datasets.codecs import roll_to_notes

    frame = {1: "quarter note", 2: "eighth note", 4: "sixteenth note"}[steps_per_beat]
    piece = Piece(roll_to_notes(roll, LOWEST_PITCH), steps_per_beat=steps_per_beat,
                  length=int(roll.shape[0]),
                  meta={"id": piece_id, "source": source, "split": split,
                        "frame_rate": f"one frame per {frame}"})
    return with_derived_chords(piece)


class JSBChorales(BoulangerSource):
    name = "jsb"
    description = "JSB chorales, 382 pieces, quarter-note frames, official splits (Boulanger 2012)"
    filename = "JSB_Chorales.mat"
    steps_per_beat = 1


class MuseData(BoulangerSource):
    name = "musedata"
    description = "MuseData orchestral/piano scores, 783 pieces, eighth-note frames (Boulanger 2012)"
    filename = "MuseData.mat"
    steps_per_beat = 2


class Nottingham(BoulangerSource):
    name = "nottingham"
    description = "Nottingham folk tunes with chords, 1,037 pieces, eighth-note frames (Boulanger 2012)"
    filename = "Nottingham.mat"
    steps_per_beat = 2


class PianoMidi(BoulangerSource):
    name = "pianomidi"
    description = "Piano-midi.de classical piano, 124 pieces, eighth-note frames (Boulanger 2012)"
    filename = "Piano_midi.mat"
    steps_per_beat = 2


class JSBQuarterPickle(Source):
    """The JSB chorales in their original pickle form (quarter-note steps, pitch tuples)."""

    name = "jsb-quarter"
    description = "JSB chorales from the original jsb-chorales-quarter.pkl (restricted unpickler)"
    has_official_splits = True

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "boulanger" / "jsb-chorales-quarter.pkl"

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        path = self.location(root)
        if path is None or not path.is_file():
            raise SourceError(f"dataset {self.name}: {path} not found")
        data = load_restricted_pickle(path)
        if not isinstance(data, dict) or not set(MAT_SPLITS) <= set(data):
            raise SourceError(f"{path}: expected a dict with keys {sorted(MAT_SPLITS)}")
        for split in MAT_SPLITS:
            for index, steps in enumerate(data[split]):
                piece_id = f"{self.name}/{split}/{index:03d}"
                try:
                    roll = steps_to_roll(steps)
                except (TypeError, ValueError) as error:
                    yield Skipped(f"{path}:{piece_id}", str(error))
                    continue
                yield roll_to_piece(roll, piece_id, self.name, split, steps_per_beat=1)


def steps_to_roll(steps: list[Any]) -> np.ndarray:
    """A ``T x 88`` bool roll from a list of steps, each a sequence of MIDI pitches.

    Raises:
        ValueError: a pitch outside 21..108.
    """
    lengths = np.fromiter((len(step) for step in steps), dtype=np.int64, count=len(steps))
    pitches = np.fromiter((int(p) for step in steps for p in step), dtype=np.int64,
                          count=int(lengths.sum()))
    if len(pitches) and (pitches.min() < LOWEST_PITCH or pitches.max() >= LOWEST_PITCH + N_PITCHES):
        raise ValueError(f"pitch outside {LOWEST_PITCH}..{LOWEST_PITCH + N_PITCHES - 1}")
    roll = np.zeros((len(steps), N_PITCHES), dtype=bool)
    roll[np.repeat(np.arange(len(steps)), lengths), pitches - LOWEST_PITCH] = True
    return roll


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only containers, numbers, strings and NumPy scalars.

    Plain ``pickle.load`` runs whatever callable a file names; this one allows only what
    NumPy needs to rebuild scalars and plain arrays (``multiarray.scalar``,
    ``multiarray._reconstruct``, ``numpy.dtype``, ``numpy.ndarray``) and
    ``_codecs.encode`` restricted to latin-1 (how protocol-2 pickles carry bytes), each
    replaced by a checked stand-in; anything else raises
    :class:`pickle.UnpicklingError`.
    """

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset({
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}: only containers, "
                                         "numbers and NumPy scalars may be unpickled")
        if name == "dtype":
            return np.dtype
        if name == "encode":
            return _latin1_bytes
        if name == "ndarray":
            return np.ndarray
        return _numpy_scalar if name == "scalar" else _empty_array

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused persistent id: not plain data")


def _latin1_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it to carry bytes, latin-1 only."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("refused _codecs.encode: only latin-1 bytes are plain data")
    return text.encode("latin1")


def _empty_array(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    """``multiarray._reconstruct`` for plain arrays only (their data comes in ``BUILD``).

    NumPy itself refuses raw bytes as the state of an object array, so an object array
    can only hold objects this unpickler built.
    """
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refused array subclass {subtype!r}")
    return np.ndarray.__new__(np.ndarray, shape, dtype_code)


def _numpy_scalar(dtype: np.dtype, data: bytes | str | None = None) -> Any:
    """Rebuild a NumPy scalar from its dtype and raw bytes (what ``multiarray.scalar`` does).

    Python 2 pickles carry the bytes as a ``str`` read as latin-1, which maps back 1:1.
    """
    if isinstance(data, str):
        data = data.encode("latin1")
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise pickle.UnpicklingError("refused NumPy scalar: not a plain numeric dtype")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def load_restricted_pickle(path: Path) -> Any:
    """Unpickle ``path`` with :class:`RestrictedUnpickler`.

    Raises:
        SourceError: the file names anything but plain data (code), or is not a pickle.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(Path(path).read_bytes()), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise SourceError(f"{path}: refused to unpickle ({error})") from error


class JSB16thSeparated(Source):
    """The JSB chorales as four SATB voices on a 16th-note grid (``Jsb16thSeparated.npz``).

    Each piece is a ``T x 4`` array of MIDI pitches, NaN = rest; a run of one pitch in a
    voice is one note (the grid does not mark re-articulations), each voice one track,
    the soprano the melody. Optional: only read when the file is present.
    """

    name = "jsb16"
    description = "JSB chorales as SATB voices on a 16th-note grid (Jsb16thSeparated.npz)"
    has_official_splits = True
    VOICES: ClassVar[list[str]] = ["Soprano", "Alto", "Tenor", "Bass"]

    def location(self, root: Path | None) -> Path | None:
        return None if root is None else Path(root) / "boulanger" / "Jsb16thSeparated.npz"

    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        from musebench.datasets.chords import with_derived_chords

        path = self.location(root)
        if path is None or not path.is_file():
            raise SourceError(f"dataset {self.name}: {path} not found")
        arrays = load_restricted_npz(path)
        for split in MAT_SPLITS:
            if split not in arrays:
                raise SourceError(f"{path}: no {split!r} array")
            for index, voices in enumerate(arrays[split]):
                piece_id = f"{self.name}/{split}/{index:03d}"
                try:
                    notes = voices_to_notes(np.asarray(voices, dtype=np.float64))
                except (TypeError, ValueError) as error:
                    yield Skipped(f"{path}:{piece_id}", str(error))
                    continue
                yield with_derived_chords(Piece(
                    notes, steps_per_beat=4, length=len(voices),
                    meta={"id": piece_id, "source": self.name, "split": split,
                          "melody_track": 0, "track_names": self.VOICES,
                          "frame_rate": "one frame per sixteenth note"}))


def voices_to_notes(voices: np.ndarray) -> np.ndarray:
    """Notes from a ``T x V`` array of pitches (NaN = rest): one note per run, track = voice.

    Raises:
        ValueError: not 2-D, or a pitch that is not an integer in 0..127.
    """
    if voices.ndim != 2:
        raise ValueError(f"voices of shape {voices.shape}, expected (T, voices)")
    sounding = ~np.isnan(voices)
    pitches = voices[sounding]
    if len(pitches) and (pitches.min() < 0 or pitches.max() > 127
                         or not np.array_equal(pitches, np.round(pitches))):
        raise ValueError("pitches must be integers in 0..127")
    steps = len(voices)
    # Voice by voice, each column ended by a sentinel, so runs never cross voices.
    filled = np.where(sounding, voices, -1).astype(np.int64)
    flat = np.vstack([filled, np.full((1, voices.shape[1]), -2)]).T.ravel()
    run_starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    run_ends = np.r_[run_starts[1:], len(flat)]
    keep = flat[run_starts] >= 0
    starts, ends = run_starts[keep], run_ends[keep]
    return make_notes(starts % (steps + 1), ends - starts, flat[starts],
                      track=starts // (steps + 1))


def load_restricted_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz``; object arrays are unpickled by :class:`RestrictedUnpickler`.

    Raises:
        SourceError: not an npz, or a member that carries anything but plain data.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    _, _, dtype = read_header(stream)
                    data = stream.read()
                if dtype.hasobject:
                    array = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
                else:
                    array = np.lib.format.read_array(io.BytesIO(
                        archive.read(member)), allow_pickle=False)
                arrays[member.removesuffix(".npy")] = array
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise SourceError(f"{path}: refused to read ({error})") from error
    return arrays
