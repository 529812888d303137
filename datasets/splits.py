"""Train/valid/test splits: the official ones where a source has them, else a stable hash.

A source with official splits (Boulanger, classical, TheoryTab…) sets
``meta['split']`` itself and it is kept. Every other piece goes by a hash of its id:
the first 8 bytes of ``sha1(id)`` as an integer, modulo 100, give a bucket; buckets
0-79 are train, 80-89 valid, 90-99 test (80/10/10). The split of a piece depends on
its own id only, so adding or removing a file never moves another piece between
splits (unlike a shuffled split, which reshuffles everything).
"""

from __future__ import annotations

import hashlib

from musebench.datasets.piece import Piece

SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: Cumulative percentage bounds of the hash split: [0, 80) train, [80, 90) valid, [90, 100) test.
HASH_BOUNDS: tuple[int, int] = (80, 90)


def hash_split(piece_id: str) -> str:
    """The split of ``piece_id`` under the stable 80/10/10 hash split."""
    bucket = int.from_bytes(hashlib.sha1(piece_id.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < HASH_BOUNDS[0]:
        return "train"
    return "valid" if bucket < HASH_BOUNDS[1] else "test"


def assign_splits(pieces: list[Piece]) -> list[Piece]:
    """Set ``meta['split']`` on every piece (in place) and return the list.

    An official split already in ``meta['split']`` is kept (it must be one of
    :data:`SPLITS`); any other piece gets :func:`hash_split` of its id.

    Raises:
        ValueError: a piece carries an unknown split name.
    """
    for piece in pieces:
        split = piece.meta.get("split")
        if split is None:
            piece.meta["split"] = hash_split(piece.id)
        elif split not in SPLITS:
            raise ValueError(f"{piece.id}: unknown split {split!r} (expected one of {SPLITS})")
    return pieces
