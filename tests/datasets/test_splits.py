"""Split assignment (datasets/splits.py): official splits kept, stable 80/10/10 hash otherwise."""

from __future__ import annotations

from collections import Counter

import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.splits import assign_splits, hash_split


def piece(piece_id: str, split: str | None = None) -> Piece:
    meta = {"id": piece_id} if split is None else {"id": piece_id, "split": split}
    return Piece(make_notes([0], [1], [60]), meta=meta)


def test_hash_split_is_deterministic_and_roughly_80_10_10() -> None:
    ids = [f"composer/{i}.mid" for i in range(5000)]
    counts = Counter(hash_split(i) for i in ids)
    assert [hash_split(i) for i in ids] == [hash_split(i) for i in ids]
    assert counts["train"] / 5000 == pytest.approx(0.8, abs=0.03)
    assert counts["valid"] / 5000 == pytest.approx(0.1, abs=0.02)
    assert counts["test"] / 5000 == pytest.approx(0.1, abs=0.02)


def test_adding_pieces_never_moves_another_piece() -> None:
    before = assign_splits([piece(f"a/{i}") for i in range(300)])
    after = assign_splits([piece(f"b/{i}") for i in range(100)]
                          + [piece(f"a/{i}") for i in range(300)])
    old = {p.id: p.split for p in before}
    assert all(p.split == old[p.id] for p in after if p.id in old)


def test_official_splits_are_kept() -> None:
    pieces = assign_splits([piece("x", "test"), piece("y", "valid"), piece("z", "train")])
    assert [p.split for p in pieces] == ["test", "valid", "train"]


def test_unknown_split_name_is_an_error_naming_the_piece() -> None:
    with pytest.raises(ValueError, match="odd.*'validation'"):
        assign_splits([piece("odd", "validation")])
