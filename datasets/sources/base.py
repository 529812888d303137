"""What a data source is: a named reader that yields Pieces (or skips, with reasons).

Each source format is one module in this package and registers one or more
:class:`Source` objects in :data:`musebench.datasets.sources.SOURCES`. Sources never
cache, split or encode: :mod:`musebench.datasets.cache` and
:mod:`musebench.datasets.splits` do that once for every source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from musebench.datasets.piece import Piece


@dataclass(frozen=True)
class Skipped:
    """A file (or tune) a source could not use, and why, in one line."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class SourceError(RuntimeError):
    """A source that cannot be read at all (missing data root, no usable piece)."""


class Source(ABC):
    """A named reader of one data set.

    Attributes:
        name: the name users select it by (``musebench data prepare NAME``).
        description: one line for ``musebench data list``.
        needs_data_root: True if the files live under the user's data directory
            (``MUSEBENCH_DATA`` / ``--data-root``); False for the embedded music21 corpus
            and the committed fixture.
        has_official_splits: True if the source assigns ``meta['split']`` itself.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    needs_data_root: ClassVar[bool] = True
    has_official_splits: ClassVar[bool] = False

    def options(self) -> dict[str, Any]:
        """Options that change what ``read`` yields (part of the cache key)."""
        return {}

    @abstractmethod
    def read(self, root: Path | None) -> Iterator[Piece | Skipped]:
        """Yield every Piece (``meta['id']`` unique and stable) or a Skipped record."""

    def files_signature(self, root: Path | None) -> str:
        """A string that changes when the source's files change (part of the cache key).

        Default: paths, sizes and content hashes of the files under
        ``self.location(root)`` (:func:`musebench.datasets.cache_files.content_signature`).
        """
        from musebench.datasets.cache_files import content_signature

        location = self.location(root)
        if location is None or not location.exists():
            return ""
        paths = [location] if location.is_file() else sorted(location.rglob("*"))
        return content_signature([p for p in paths if p.is_file()], location.parent)

    def location(self, root: Path | None) -> Path | None:
        """The file or folder this source reads (None for the embedded corpus)."""
        return None
