"""Prepare a data set once: parse its source, assign splits, cache the result atomically.

``load(name)`` returns a :class:`PreparedData`. The first call reads the source
(:mod:`musebench.datasets.sources`), assigns splits (:mod:`musebench.datasets.splits`)
and writes two files under the cache folder (``$MUSEBENCH_CACHE``, default the
platform's user cache dir):

- ``<name>-<name hash>-<key>.npz``: every piece without pickle — all notes concatenated in one
  ``NOTE_DTYPE`` array, all chords in one ``CHORD_DTYPE`` array (both stored as raw
  bytes, viewed back on loading), their offsets, and a
  JSON record per piece (meta, key, grid, length) stored as UTF-8 bytes;
- ``<name>-<name hash>-<key>.json``: the manifest — pieces and steps per split, every skipped file
  with its reason, read warnings, pitch range, build time and the key's parts.

The key hashes the source name (normalised: ``midi:<folder>`` by its resolved path),
``source.options()``, ``source.files_signature(root)`` (sizes and content hashes of its
files), the piece limits (:mod:`musebench.datasets.limits`), ``musebench.__version__`` and
:data:`CACHE_FORMAT`, so changed files, options, limits or code rebuild it and nothing else
does. File names and their verification are :mod:`musebench.datasets.cache_files`': the
manifest holds a checksum of the pieces file, and an entry that does not match it (or
cannot be read) is rebuilt with a warning. Both files are written
to a temporary file in the same folder and moved in place with ``os.replace``: a reader
never sees half a file, and concurrent builders cannot corrupt each other.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

import musebench
from musebench.datasets.cache_files import cache_stem, checksum, stale_entries
from musebench.datasets.limits import current_limits, limit_violation
from musebench.datasets.piece import CHORD_DTYPE, NOTE_DTYPE, Piece
from musebench.datasets.sources import Skipped, Source, SourceError, get_source
from musebench.datasets.splits import SPLITS, assign_splits
from musebench.util import progress, write_atomically

#: Bump when the cached layout or the meaning of its fields changes.
CACHE_FORMAT = 3


@dataclass
class PreparedData:
    """A parsed, split data set.

    Attributes:
        name: the source name it was loaded by.
        pieces: every piece, each with ``meta['split']`` in train/valid/test.
        manifest: counts per split, skipped files with reasons, build time, cache key.
    """

    name: str
    pieces: list[Piece]
    manifest: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> list[Piece]:
        """The pieces of split ``name`` (``train``, ``valid`` or ``test``)."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return [piece for piece in self.pieces if piece.split == name]

    @property
    def train(self) -> list[Piece]:
        return self.split("train")

    @property
    def valid(self) -> list[Piece]:
        return self.split("valid")

    @property
    def test(self) -> list[Piece]:
        return self.split("test")


def cache_dir() -> Path:
    """``$MUSEBENCH_CACHE`` if set, else the platform's user cache folder for musebench."""
    return Path(os.environ.get("MUSEBENCH_CACHE") or platformdirs.user_cache_dir("musebench"))


def resolve_data_root(data_root: str | Path | None) -> Path | None:
    """The data root: the argument, else ``$MUSEBENCH_DATA``, else None."""
    if data_root is not None:
        return Path(data_root).expanduser()
    env = os.environ.get("MUSEBENCH_DATA")
    return Path(env).expanduser() if env else None


def cache_key(source: Source, root: Path | None) -> tuple[str, dict[str, Any]]:
    """The hex key of ``source`` read from ``root`` and the parts it hashes."""
    parts = {"source": source.name, "options": source.options(),
             "files": hashlib.sha1(source.files_signature(root).encode()).hexdigest(),
             "limits": current_limits(),
             "version": musebench.__version__, "cache_format": CACHE_FORMAT}
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:16], parts


def load(name: str, data_root: str | Path | None = None, refresh: bool = False) -> PreparedData:
    """The data set ``name``, parsed and split once, then read from the cache.

    Args:
        name: a registered source name or ``midi:<folder>``.
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        refresh: rebuild even if a cache for the same key exists.

    Raises:
        SourceError: the source needs a data root and none is set, cannot be read, or
            yields no usable piece.
        KeyError: unknown source name.
    """
    source = get_source(name)
    root = resolve_data_root(data_root)
    if source.needs_data_root and root is None:
        raise SourceError(f"dataset {name} reads files from the data directory: "
                          "set MUSEBENCH_DATA or pass --data-root")
    key, parts = cache_key(source, root)
    stem = cache_dir() / cache_stem(source.name, key)
    pieces_path, manifest_path = stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")
    if not refresh and pieces_path.is_file() and manifest_path.is_file():
        cached = read_verified(pieces_path, manifest_path)
        if cached is not None:
            return PreparedData(name, *cached)
    pieces, manifest = build(source, root, name)
    manifest.update(key=key, key_parts=parts, cache_file=str(pieces_path))
    manifest["pieces_checksum"] = save_pieces(pieces, pieces_path)
    write_atomically(manifest_path, json.dumps(manifest, indent=2, default=_json_default).encode())
    for old in stale_entries(stem.parent, stem.name):
        old.unlink(missing_ok=True)
    return PreparedData(name, pieces, manifest)


def read_verified(pieces_path: Path, manifest_path: Path
                  ) -> tuple[list[Piece], dict[str, Any]] | None:
    """The cached pieces and manifest, or None (with a warning naming the file) when the
    manifest is unreadable or the pieces file does not match its checksum or cannot be
    read; the caller then rebuilds the entry."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected = manifest["pieces_checksum"]
        data = pieces_path.read_bytes()
        if checksum(data) != expected:
            raise ValueError(f"{pieces_path.name} does not match the checksum in its manifest "
                             "(truncated, corrupted or replaced)")
        return load_pieces(io.BytesIO(data)), manifest
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        warnings.warn(f"cache entry {pieces_path} is unusable ({error}); rebuilding it",
                      stacklevel=3)
        return None


def build(source: Source, root: Path | None, name: str) -> tuple[list[Piece], dict[str, Any]]:
    """Read every piece of ``source``, assign splits, and describe the result.

    Raises:
        SourceError: no usable piece.
    """
    started = time.perf_counter()
    pieces: list[Piece] = []
    skipped: list[Skipped] = []
    limits = current_limits()
    for item in progress(source.read(root), f"read {name}"):
        if isinstance(item, Piece) and (reason := limit_violation(item, limits)):
            item = Skipped(item.meta.get("path", item.id), reason)
        (pieces if isinstance(item, Piece) else skipped).append(item)
    if not pieces:
        reasons = "; ".join(str(s) for s in skipped[:3])
        raise SourceError(f"dataset {name} has no usable piece"
                          + (f" ({len(skipped)} skipped: {reasons})" if skipped else ""))
    assign_splits(pieces)
    return pieces, describe(pieces, skipped, time.perf_counter() - started, name)


def describe(pieces: list[Piece], skipped: list[Skipped], seconds: float,
             name: str) -> dict[str, Any]:
    """The manifest of a built data set (everything but the cache key)."""
    counts = {split: {"pieces": 0, "steps": 0} for split in SPLITS}
    for piece in pieces:
        counts[piece.split]["pieces"] += 1
        counts[piece.split]["steps"] += piece.n_steps
    pitches = np.concatenate([p.notes["pitch"] for p in pieces])
    return {
        "name": name,
        "counts": counts,
        "pieces": len(pieces),
        "pitch_range": [int(pitches.min()), int(pitches.max())] if len(pitches) else None,
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "warnings": {p.id: p.meta["read_warning"] for p in pieces if "read_warning" in p.meta},
        "build_seconds": round(seconds, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def save_pieces(pieces: list[Piece], path: Path) -> str:
    """Write ``pieces`` to ``path`` as one ``.npz`` (no pickle), atomically; returns the
    file's :func:`~musebench.datasets.cache_files.checksum`."""
    notes = np.concatenate([p.notes for p in pieces]) if pieces else np.empty(0, NOTE_DTYPE)
    chords = np.concatenate([p.chords for p in pieces]) if pieces else np.empty(0, CHORD_DTYPE)
    records = [{"meta": p.meta, "key": p.key, "steps_per_beat": p.steps_per_beat,
                "beats_per_bar": p.beats_per_bar, "length": p.length} for p in pieces]
    buffer = io.BytesIO()
    # Structured arrays are stored as their raw bytes: NumPy reads a plain uint8 member
    # from the zip in one pass, several times faster than a structured one.
    np.savez(buffer, notes=notes.view(np.uint8), chords=chords.view(np.uint8),
             note_offsets=np.cumsum([0] + [len(p.notes) for p in pieces]),
             chord_offsets=np.cumsum([0] + [len(p.chords) for p in pieces]),
             records=np.frombuffer(json.dumps(records, default=_json_default).encode(), np.uint8))
    write_atomically(path, buffer.getvalue())
    return checksum(buffer.getvalue())


def load_pieces(path: Path | io.BytesIO) -> list[Piece]:
    """The pieces written by :func:`save_pieces` (a path or the file's bytes)."""
    with np.load(path, allow_pickle=False) as data:
        notes, chords = data["notes"].view(NOTE_DTYPE), data["chords"].view(CHORD_DTYPE)
        note_offsets, chord_offsets = data["note_offsets"], data["chord_offsets"]
        records = json.loads(data["records"].tobytes().decode())
    return [
        Piece(notes[note_offsets[i]:note_offsets[i + 1]],
              chords=chords[chord_offsets[i]:chord_offsets[i + 1]],
              key=None if r["key"] is None else (int(r["key"][0]), str(r["key"][1])),
              steps_per_beat=r["steps_per_beat"], beats_per_bar=r["beats_per_bar"],
              length=r["length"], meta=r["meta"])
        for i, r in enumerate(records)
    ]




def _json_default(value: Any) -> Any:
    """JSON for NumPy scalars and arrays, and tuples of them, in metas."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the cache manifest")
