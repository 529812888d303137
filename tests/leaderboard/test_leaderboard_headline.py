"""The headline table: direction, distance to the real data, and best marking that leaves
ties within the 95% intervals unmarked (worked by hand)."""

from __future__ import annotations

import pytest

from musebench.leaderboard.format import cell
from musebench.leaderboard.headline import (
    best_entry,
    closeness_note,
    distance_interval,
    headline_rows,
)
from musebench.leaderboard.render import Entry, label


def entry(model: str, kind: str = "run", **stats: tuple[float, float, float]) -> Entry:
    return Entry(model, "fixture", "smoke", kind, 3 if kind == "run" else 0, dict(stats))


def test_higher_is_better_marked_only_beyond_the_runner_ups_interval():
    a = entry("a", oa_mean=(0.80, 0.75, 0.85))
    b = entry("b", oa_mean=(0.60, 0.55, 0.65))
    assert best_entry([a, b], "oa_mean", None) is a
    overlapping = entry("b", oa_mean=(0.72, 0.60, 0.76))  # its high 0.76 > a's low 0.75
    assert best_entry([a, overlapping], "oa_mean", None) is None
    assert best_entry([a], "oa_mean", None) is None  # one run: nothing to beat


def test_lower_is_better_uses_the_low_end():
    a = entry("a", kl_mean=(0.2, 0.1, 0.3))
    b = entry("b", kl_mean=(0.5, 0.31, 0.7))
    c = entry("c", kl_mean=(0.9, 0.8, 1.0))
    assert best_entry([c, b, a], "kl_mean", None) is a  # 0.3 < 0.31
    b.stats["kl_mean"] = (0.5, 0.29, 0.7)
    assert best_entry([c, b, a], "kl_mean", None) is None


def test_closer_to_real_compares_distance_intervals():
    # real 3.0: a's interval 2.9..3.2 holds it (distance 0..0.2); b's 3.3..3.5 is 0.3..0.5 away
    assert distance_interval((3.05, 2.9, 3.2), 3.0) == pytest.approx((0.05, 0.0, 0.2))
    a = entry("a", pitch_entropy=(3.05, 2.9, 3.2))
    b = entry("b", pitch_entropy=(3.4, 3.3, 3.5))
    assert best_entry([a, b], "pitch_entropy", 3.0) is a
    below = entry("b", pitch_entropy=(2.75, 2.6, 2.85))  # 0.15..0.4 away: overlaps 0..0.2
    assert best_entry([a, below], "pitch_entropy", 3.0) is None
    assert best_entry([a, b], "pitch_entropy", None) is None  # no real value, no ranking


def test_rows_show_direction_and_signed_distance_to_real():
    real = entry("real data (test vs train)", "reference", oa_mean=(1.0, 1.0, 1.0),
                 pitch_class_entropy=(3.0, 3.0, 3.0), n_samples=(64, 64, 64))
    a = entry("a", oa_mean=(0.8, 0.75, 0.85), pitch_class_entropy=(2.5, 2.4, 2.6),
              n_samples=(64, 64, 64))
    b = entry("b", oa_mean=(0.6, 0.55, 0.65), pitch_class_entropy=(3.5, 3.4, 3.6))
    header, rows, flags = headline_rows([real, a, b], label)
    assert header == ["model", "oa_mean ↑", "pitch_class_entropy (≈ real)"]
    assert rows[0] == ["real data (test vs train)", "1", "3"]
    assert rows[1] == ["a (smoke, 3 seeds)", "0.800 ± 0.050 (Δ −0.2)", "2.50 ± 0.10 (Δ −0.5)"]
    assert flags[1] == [False, True, False]  # a and b are both 0.4..0.6 from real: a tie
    assert flags[2] == [False, False, False]
    assert closeness_note([real, a, b]).startswith("Closest to the real data overall: a")


def test_cells_have_sensible_significant_figures():
    assert cell((0.0, -6.6e-17, 6.6e-17)) == "0"
    assert cell((0.53631, 0.47831, 0.59431)) == "0.536 ± 0.058"
    assert cell((1234.5, 1200.0, 1269.0)) == "1234 ± 34"
    assert cell((2.2, 1.7, 2.7)) == "2.20 ± 0.50"
    assert cell((3.0, 3.0, 3.0)) == "3"
    assert cell(None) == "–"
