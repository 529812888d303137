"""``musebench compare``: differences, Welch / bootstrap intervals and the --fail-on gate on
hand-made results stores whose numbers are worked out by hand in each test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from musebench.cli import main
from musebench.leaderboard.compare import compare_stores, parse_rule, regressions


def row(model: str, seed: int, **metrics: float) -> dict:
    return {"run_id": f"{model}-{seed}", "model": model, "dataset": "fixture",
            "preset": "smoke", "seed": seed, "metrics": metrics}


def store(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_welch_interval_of_three_seeds_against_three():
    # base 1, 2, 3 and new 4, 5, 6: diff 3; variances 1 and 1, se = sqrt(1/3 + 1/3);
    # Welch df = (2/3)^2 / (2 * (1/3)^2 / 2) = 4; t(0.975, 4) = 2.776445;
    # half-width 2.776445 * 0.816497 = 2.266958; p = 2 * P(T4 > 3.674235) = 0.021312
    base = [row("m", s, x=v) for s, v in enumerate([1.0, 2.0, 3.0])]
    new = [row("m", s, x=v) for s, v in enumerate([4.0, 5.0, 6.0])]
    (d,), only_base, only_new = compare_stores(base, new)
    assert (d.model, d.metric, d.method, d.n_base, d.n_new) == ("m", "x", "welch", 3, 3)
    assert d.diff == pytest.approx(3.0)
    assert d.low == pytest.approx(3 - 2.266958, abs=1e-6)
    assert d.high == pytest.approx(3 + 2.266958, abs=1e-6)
    assert d.p == pytest.approx(0.021312, abs=1e-6)
    assert d.significant and only_base == only_new == []


def test_welch_degrees_of_freedom_follow_the_noisier_side():
    # base 0, 2 (variance 2, a = 1), new 3, 3, 3 (variance 0): se = 1, df = 1^2 / (1^2/1) = 1,
    # t(0.975, 1) = 12.706205: diff 2 in [-10.706205, 14.706205], not significant
    base = [row("m", 0, x=0.0), row("m", 1, x=2.0)]
    new = [row("m", s, x=3.0) for s in range(3)]
    (d,), _, _ = compare_stores(base, new)
    assert d.diff == pytest.approx(2.0)
    assert (d.low, d.high) == pytest.approx((2 - 12.706205, 2 + 12.706205), abs=1e-6)
    assert not d.significant


def test_one_seed_uses_the_runs_bootstrap_intervals():
    # 0.5 [0.4, 0.6] against 0.8 [0.7, 0.9]: each se = 0.1 / 1.96, the difference's
    # half-width 1.96 * sqrt(2) * 0.1 / 1.96 = 0.141421: 0.3 in [0.158579, 0.441421]
    base = [row("m", 0, x=0.5, x_ci_low=0.4, x_ci_high=0.6)]
    new = [row("m", 0, x=0.8, x_ci_low=0.7, x_ci_high=0.9)]
    (d,), _, _ = compare_stores(base, new)
    assert d.method == "bootstrap" and d.significant
    assert (d.low, d.high) == pytest.approx((0.158579, 0.441421), abs=1e-6)


def test_one_seed_without_intervals_is_never_significant():
    (d,), _, _ = compare_stores([row("m", 0, x=1.0)], [row("m", 0, x=9.0)])
    assert d.method == "-" and d.diff == 8.0 and not d.significant and math.isnan(d.low)


def test_groups_only_in_one_store_are_listed_apart():
    _, only_base, only_new = compare_stores([row("a", 0, x=1.0)], [row("b", 0, x=1.0)])
    assert only_base == [("a", "fixture", "smoke")] and only_new == [("b", "fixture", "smoke")]


def test_fail_on_counts_the_wrong_direction_only():
    base = [row("m", s, nll=v, acc=v) for s, v in enumerate([1.0, 2.0, 3.0])]
    new = [row("m", s, nll=v, acc=v) for s, v in enumerate([4.0, 5.0, 6.0])]
    differences, _, _ = compare_stores(base, new)  # both went up by 3, significantly
    assert [d.metric for d in regressions(differences, ["nll:lower"])] == ["nll"]
    assert regressions(differences, ["acc:higher"]) == []
    assert len(regressions(differences, ["any"])) == 2
    with pytest.raises(ValueError, match="sideways"):
        parse_rule("nll:sideways")


def test_command_prints_the_table_and_gates(tmp_path, capsys):
    base = store(tmp_path / "base.jsonl",
                 [row("m", s, nll=v) for s, v in enumerate([1.0, 2.0, 3.0])])
    new = store(tmp_path / "new.jsonl",
                [row("m", s, nll=v) for s, v in enumerate([4.0, 5.0, 6.0])])
    assert main(["compare", str(base), str(new), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| m | fixture | smoke | nll | 2 (3) | 5 (3) | +3 | [0.733, 5.267] | 0.02131 | yes |" \
        in out
    assert main(["compare", str(base), str(new), "--fail-on", "nll:lower"]) == 1
    assert "m/fixture nll +3" in capsys.readouterr().err
    assert main(["compare", str(base), str(new), "--fail-on", "nll:higher"]) == 0


def test_command_names_a_missing_store(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.jsonl"), str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: no such results store" in capsys.readouterr().err


def test_command_names_a_row_without_its_model(tmp_path, capsys):
    good = store(tmp_path / "good.jsonl", [row("m", 0, x=1.0)])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"dataset": "fixture", "metrics": {}}) + "\n")
    assert main(["compare", str(good), str(bad)]) == 2
    assert "bad.jsonl: row 1 lacks model" in capsys.readouterr().err
