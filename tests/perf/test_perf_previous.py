"""The previous run's figures beside the new ones (perf/previous.py); nothing is timed."""

from __future__ import annotations

import json
from pathlib import Path

from musebench.perf.previous import comparison, figure, load_previous


def _run(started: str, fp32: float, busy: float | None, budget: float | None = None) -> dict:
    cell = {"train": {"32-true": {"samples_per_s": fp32}}, "bf16_over_fp32": 0.5}
    if budget is not None:
        cell["budget"] = {"fp32_minutes": budget}
    if busy is not None:
        cell["busy_over_idle"] = busy
    return {"started": started, "perf_models": {"models": {"m": {"standard": cell}}}}


def test_each_figure_is_shown_previous_then_new() -> None:
    lines = comparison(_run("A", 100.0, None), _run("B", 250.0, 0.45, 8.5)).splitlines()
    assert lines[0] == "previous run A -> this run B"
    row = lines[3].split()
    assert row[:2] == ["m", "standard"]
    assert " ".join(row[2:]) == "100 -> 250 0.5 -> 0.5 - -> 0.45 - -> - - -> 8.5"


def test_figure_paths_and_a_missing_previous_file(tmp_path: Path) -> None:
    assert figure({"a": {"b": 2}}, ("a", "b")) == 2.0
    assert figure({"a": {"b": True}}, ("a", "b")) is None
    assert figure({"a": 1}, ("a", "b")) is None
    assert load_previous(tmp_path / "none.json") is None
    (tmp_path / "p.json").write_text(json.dumps({"started": "x"}))
    assert load_previous(tmp_path / "p.json") == {"started": "x"}
