"""The per-track official table: real data, runs and ceilings, CIs over seeds."""

from __future__ import annotations

import math

import pytest

from musebench.leaderboard.tracks import markdown, track_table, verdicts


def row(model: str, seed: int, value: float, ceiling: float, **extra: object) -> dict:
    return {"track": "poly", "dataset": "jsb", "model": model, "seed": seed,
            "metrics": {"m": value, "m_ci_low": value - 0.1, "m_ci_high": value + 0.1},
            "ceiling": {"m": ceiling}, **extra}


def test_three_seeds_get_a_t_interval_and_one_seed_keeps_its_bootstrap() -> None:
    rows = [row("a", s, v, 0.9) for s, v in enumerate([1.0, 2.0, 3.0])]
    rows += [row("b", 0, 5.0, 0.8), row("c", 0, 7.0, 0.7, clean_tree=False)]
    reference = {"model": "real data (full)", "metrics": {"m": 4.0}}
    table = track_table(rows, "poly", "jsb", ["m"], reference).set_index("row")
    assert list(table.index) == ["real data (full)", "a", "a (ceiling)", "b", "b (ceiling)",
                                 "c (trial)", "c (trial) (ceiling)"]
    # mean 2, sd 1, n 3: half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138
    assert table.loc["a", "m"] == pytest.approx(2.0)
    assert table.loc["a", "m_ci_high"] == pytest.approx(2.0 + 2.484138, abs=1e-5)
    assert table.loc["b", "m_ci_low"] == pytest.approx(4.9)
    assert table.loc["a (ceiling)", "seeds"] == 3
    assert math.isnan(table.loc["real data (full)", "m_ci_low"])
    text = markdown(table.reset_index(), ["m"], "Polyphonic: jsb")
    assert "| a | 3 | – | 2.000 [-0.484, 4.484] |" in text


def test_a_run_shows_its_median_training_minutes_over_seeds() -> None:
    """What the equal budget bought: 120, 300 and 600 s of training -> median 5.0 min."""
    rows = [row("a", s, 1.0, 0.9, train_seconds=t) for s, t in enumerate([600, 120, 300])]
    table = track_table(rows, "poly", "jsb", ["m"]).set_index("row")
    assert table.loc["a", "train_minutes"] == pytest.approx(5.0)
    assert math.isnan(table.loc["a (ceiling)", "train_minutes"])
    assert "| a | 3 | 5.0 | 1.000" in markdown(table.reset_index(), ["m"], "t")


def test_published_rows_follow_the_real_data() -> None:
    published = [{"model": "RNN-NADE", "dataset": "jsb", "metrics": {"m": -5.56}},
                 {"model": "RNN-NADE", "dataset": "musedata", "metrics": {"m": -5.6}}]
    table = track_table([row("a", 0, 1.0, 0.9)], "poly", "jsb", ["m"],
                        {"model": "real", "metrics": {"m": 4.0}}, published)
    assert list(table["row"]) == ["real", "RNN-NADE (published)", "a", "a (ceiling)"]
    assert table.loc[1, "m"] == -5.56 and table.loc[1, "kind"] == "published"


def test_stale_rows_are_grouped_apart_never_averaged() -> None:
    """A model's seed made by code that has changed since would otherwise be averaged with
    the current seeds (MidiNet's seed 1 at d440642 with seed 0 at e469cb7)."""
    rows = [row("a", 0, 1.0, 0.9), row("a", 1, 3.0, 0.9), row("a", 2, 9.0, 0.5)]
    table = track_table(rows, "poly", "jsb", ["m"], stale=[False, False, True]).set_index("row")
    assert list(table.index) == ["a", "a (ceiling)", "a (stale)", "a (stale) (ceiling)"]
    assert table.loc["a", "m"] == pytest.approx(2.0) and table.loc["a", "seeds"] == 2
    assert table.loc["a (stale)", "m"] == 9.0


def test_verdicts_name_the_best_beyond_the_runner_up_or_the_tie() -> None:
    """chord conformance (higher is better): b's 5.0 [4.9, 5.1] lies wholly above a's
    2.0 [-0.484, 4.484] (t over three seeds); the stale row's 9.0 is never ranked.
    Pitch range (closer to the real 4.0 is better): b is 1.0 [0.9, 1.1] away, closest;
    a's interval holds 4.0 (distance 0 to 4.484): they overlap, so no single best."""
    def seed(model: str, s: int, value: float) -> dict:
        return {"track": "poly", "dataset": "jsb", "model": model, "seed": s,
                "metrics": {m: value for m in ("chord_conformance_notes", "pitch_range")}
                | {f"{m}_ci_{end}": value + shift for m in ("chord_conformance_notes",
                                                           "pitch_range")
                   for end, shift in (("low", -0.1), ("high", 0.1))}}
    rows = [seed("a", s, v) for s, v in enumerate([1.0, 2.0, 3.0])]
    rows += [seed("b", 0, 5.0), seed("b", 1, 9.0)]
    headline = ["chord_conformance_notes", "pitch_range"]
    reference = {"model": "real", "metrics": {"chord_conformance_notes": 1.0, "pitch_range": 4.0}}
    table = track_table(rows, "poly", "jsb", headline, reference,
                        stale=[False, False, False, False, True])
    assert verdicts(table, headline) == [
        "chord_conformance_notes: b, beyond a's interval",
        "pitch_range: no single best; b, a overlap"]
    assert "Best (95 % intervals): chord_conformance_notes: b, beyond a's interval" in markdown(
        table, headline, "Polyphonic: jsb")


def test_a_run_collapsed_in_half_its_seeds_or_more_is_never_ranked() -> None:
    """C-RNN-GAN's classical samples are one held note each (collapsed): scale consistency
    1.0, the closest to the real 0.95. Ranked, it would win; it is named as not ranked
    instead, as is b (collapsed in one seed of two). c, collapsed in one seed of three,
    stays ranked: d (0.8, 0.15 from the real value) wins beyond c (0.5, 0.45 away)."""
    def seed(model: str, s: int, value: float, collapsed: float) -> dict:
        return {"track": "poly", "dataset": "jsb", "model": model, "seed": s,
                "metrics": {"scale_consistency": value, "scale_consistency_ci_low": value,
                            "scale_consistency_ci_high": value, "collapsed": collapsed}}
    rows = [seed("held_note", 0, 1.0, 1.0), seed("b", 0, 0.96, 1.0), seed("b", 1, 0.96, 0.0),
            seed("c", 0, 0.5, 1.0), seed("c", 1, 0.5, 0.0), seed("c", 2, 0.5, 0.0),
            seed("d", 0, 0.8, 0.0)]
    headline = ["scale_consistency", "collapsed"]
    reference = {"model": "real", "metrics": {"scale_consistency": 0.95}}
    assert verdicts(track_table(rows, "poly", "jsb", headline, reference), headline) == [
        "scale_consistency: d, beyond c's interval",
        "not ranked, collapsed in at least half their seeds: b, held_note"]
