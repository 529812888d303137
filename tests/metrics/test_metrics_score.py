"""score(): one flat dict, the right families for the right inputs, never a silent NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.metrics import METRICS, score


def random_set(n: int, seed: int, chords: bool = True) -> list[Piece]:
    rng = np.random.default_rng(seed)
    pieces = []
    for i in range(n):
        k = int(rng.integers(8, 30))
        notes = make_notes(np.sort(rng.integers(0, 64, k)), rng.integers(1, 8, k),
                           rng.integers(55, 80, k), track=rng.integers(0, 2, k))
        chord = make_chords([(b * 16, 16, int(rng.integers(12)), "maj") for b in range(4)])
        pieces.append(Piece(notes, chords=chord if chords else make_chords([]), length=64,
                            meta={"id": f"r{seed}/{i}", "melody_track": 0}))
    return pieces


def test_score_returns_one_flat_dict_of_floats_with_intervals():
    result = score(random_set(30, 0), random_set(60, 1), train=random_set(30, 2), n_boot=200)
    assert all(isinstance(v, float) for v in result.values())
    for name in ("pitch_entropy", "chord_conformance_notes", "empty_beat_rate"):
        assert result[f"{name}_ci_low"] <= result[name] <= result[f"{name}_ci_high"]
        assert result[f"{name}_undefined"] == 0
    for key in ("diversity_pairwise_ratio", "unique_share", "ndb", "oa_pitch_range",
                "kl_pitch_range", "oa_mean", "copy_rate_bars", "nn_distance_train"):
        assert math.isfinite(result[key]), key


def test_chord_metrics_only_where_chords_exist():
    result = score(random_set(5, 0, chords=False), random_set(5, 1), n_boot=50)
    assert "chord_conformance_notes" not in result
    assert "pitch_entropy" in result


def test_diversity_only_for_sets_and_memorisation_only_with_train():
    one = score(random_set(1, 0), random_set(5, 1), n_boot=50)
    assert "unique_share" not in one and "copy_rate_bars" not in one


def test_a_set_scored_against_itself_overlaps_and_copies_fully():
    pieces = random_set(40, 3)
    result = score(pieces, pieces, train=pieces, n_boot=50)
    assert result["copy_rate_bars"] == 1.0
    assert result["nn_distance_train"] == pytest.approx(0.0, abs=1e-6)
    assert result["diversity_pairwise_ratio"] == pytest.approx(1.0)
    assert result["oa_mean"] > 0.9


def test_empty_pieces_are_counted_as_undefined_not_averaged_as_nan():
    pieces = random_set(4, 0) + [Piece(make_notes([], [], []), length=16)]
    result = score(pieces, random_set(5, 1), n_boot=50)
    assert result["pitch_entropy_undefined"] == 1
    assert math.isfinite(result["pitch_entropy"])
    assert result["empty_bar_rate_undefined"] == 0


def test_no_samples_is_an_error():
    with pytest.raises(ValueError, match="no samples"):
        score([], random_set(3, 0))


def test_registry_names_every_metric_once():
    assert len(METRICS) == len({id(m.function) for m in METRICS.values()})


def test_fixture_split_scored_against_itself_overlaps():
    from musebench.datasets import load

    data = load("fixture")
    result = score(data.train, data.train, train=data.train, n_boot=50)
    assert result["copy_rate_bars"] == 1.0
    assert 0 <= result["chord_conformance_notes"] <= 1
    assert result["oa_mean"] > 0.5


def test_per_piece_gives_one_value_per_piece_for_every_applicable_metric():
    from musebench.metrics import per_piece

    values = per_piece(random_set(3, 0, chords=False))
    assert "chord_conformance_notes" not in values
    assert all(v.shape == (3,) for v in values.values())


SET_FIGURES = ("oa_pitch_range", "kl_pitch_range", "oa_mean", "kl_mean", "ndb", "ndb_ratio",
               "diversity_pairwise", "diversity_pairwise_ratio", "unique_share")


def test_set_level_figures_carry_seeded_intervals_that_bracket_them():
    samples, reference = random_set(40, 0), random_set(60, 1)
    result = score(samples, reference, n_boot=100, seed=3)
    for name in SET_FIGURES:
        low, high = result[f"{name}_ci_low"], result[f"{name}_ci_high"]
        assert math.isfinite(low) and math.isfinite(high), name
        assert low <= high, name
    # OA / KL / NDB intervals may sit off a near-ideal point value (resampling noise)
    for name in ("diversity_pairwise_ratio", "unique_share"):
        assert result[f"{name}_ci_low"] <= result[name] <= result[f"{name}_ci_high"], name
    assert score(samples, reference, n_boot=100, seed=3) == result
    other = score(samples, reference, n_boot=100, seed=4)
    assert other["oa_mean_ci_low"] != result["oa_mean_ci_low"]


def test_identical_samples_collapse_the_set_level_intervals():
    one = random_set(1, 0)[0]
    result = score([one] * 30, random_set(60, 1), n_boot=100)
    for name in ("unique_share", "ndb", "oa_pitch_range", "kl_pitch_range", "oa_mean",
                 "diversity_pairwise"):
        assert result[f"{name}_ci_low"] == pytest.approx(result[name], abs=1e-9), name
        assert result[f"{name}_ci_high"] == pytest.approx(result[name], abs=1e-9), name
    assert result["unique_share"] == pytest.approx(1 / 30)
