"""Mode collapse and memorisation (issue #11, item 4): the acceptance tests."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics.collapse import COLLAPSE_RATIO, copy_rate_pieces, within_condition


def piece(pitches: list[int], pid: str = "p") -> Piece:
    return Piece(make_notes(np.arange(len(pitches)) * 4, 4, pitches), meta={"id": pid})


def real_data(n: int = 6, seed: int = 0) -> list[Piece]:
    rng = np.random.default_rng(seed)
    return [piece(rng.integers(55, 80, 16).tolist(), f"real{i}") for i in range(n)]


def test_same_melody_for_every_noise_draw_is_collapsed() -> None:
    same = [piece([60, 62, 64, 65, 67, 65, 64, 62], f"s{i}") for i in range(8)]
    out = within_condition(same, real_data())
    assert out["within_condition_diversity"] == 0.0
    assert out["within_condition_unique_share"] == pytest.approx(1 / 8)
    assert out["collapsed"] == 1.0


def test_varied_samples_are_not_collapsed() -> None:
    out = within_condition(real_data(8, seed=1), real_data())
    assert out["within_condition_diversity"] > COLLAPSE_RATIO
    assert out["collapsed"] == 0.0


def test_nearly_identical_samples_are_collapsed_by_the_ratio() -> None:
    """Eight samples differing in one quarter note of 64: distinct, but far less varied
    than the real data (the ratio rule, not the unique-share rule, fires)."""
    base = [60, 62, 64, 65, 67, 65, 64, 62] * 8
    near = [piece(base[:-1] + [62 + (i % 2)], f"n{i}") for i in range(8)]
    out = within_condition(near, real_data())
    assert out["within_condition_unique_share"] == pytest.approx(2 / 8)
    assert out["within_condition_diversity"] < COLLAPSE_RATIO
    assert out["collapsed"] == 1.0


def test_generator_copying_training_pieces_has_copy_rate_one() -> None:
    train = real_data(5, seed=3)
    copies = [Piece(p.notes.copy(), meta={"id": f"copy-{p.id}"}) for p in train[:4]]
    assert copy_rate_pieces(copies, train) == 1.0
    assert copy_rate_pieces(real_data(4, seed=9), train) == 0.0


def test_one_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="K >= 2"):
        within_condition([piece([60])], real_data())
