"""What makes a cache entry trustworthy: content-keyed, uniquely named, verified on read.

- :func:`content_signature`: a source's files by relative path, size and an xxh3-64 hash
  of their bytes (a fast non-cryptographic hash, cheap next to parsing), so an edit that
  keeps the size and the second of the modification time still changes the key;
- :func:`cache_stem`: the file name of a cache entry, ``<readable name, cut>-<hash of the
  full normalised source name>-<key>``: two sources whose names share a long prefix, or
  differ only by a trailing slash (normalised before this), never share or delete each
  other's files (:func:`stale_entries`);
- :func:`checksum` of the pieces file is stored in its manifest and compared on every read
  (:mod:`musebench.datasets.cache` rebuilds, with a warning, an entry that does not match
  or cannot be read: truncated, zero bytes, a flipped byte, another source's file).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import xxhash

#: Readable part of a cache file name, before the name hash and the key.
READABLE_CHARS = 60


def file_hash(path: Path) -> str:
    """xxh3-64 of the file's bytes, as 16 hex digits (read in 1 MiB blocks)."""
    digest = xxhash.xxh3_64()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def content_signature(paths: Iterable[Path], base: Path) -> str:
    """``relative path:size:content hash`` of every file, one per line, in order."""
    return "\n".join(f"{p.relative_to(base).as_posix()}:{p.stat().st_size}:{file_hash(p)}"
                     for p in paths)


def checksum(data: bytes) -> str:
    """The manifest checksum of a pieces file's bytes (xxh3-64, 16 hex digits)."""
    return xxhash.xxh3_64_hexdigest(data)


def cache_stem(source_name: str, key: str) -> str:
    """The file stem of ``source_name``'s cache entry under ``key`` (no suffix)."""
    readable = re.sub(r"[^A-Za-z0-9]+", "_", source_name).strip("_")[:READABLE_CHARS]
    name_hash = hashlib.sha1(source_name.encode()).hexdigest()[:8]
    return f"{readable or 'source'}-{name_hash}-{key}"


def stale_entries(folder: Path, stem: str) -> list[Path]:
    """Files of the same source (same readable part and name hash) under other keys."""
    prefix = stem.rsplit("-", 1)[0] + "-"
    pattern = re.compile(re.escape(prefix) + r"[0-9a-f]{16}\.(npz|json)")
    return [old for old in folder.glob(f"{prefix}*")
            if pattern.fullmatch(old.name) and not old.name.startswith(stem + ".")]
