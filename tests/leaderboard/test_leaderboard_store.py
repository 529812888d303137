"""The results store: rows survive concurrent writers whole, bad lines are named."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from musebench.leaderboard.store import append_row, read_rows

ROWS_PER_WRITER = 25


def row(writer: int, i: int) -> dict:
    return {"run_id": f"w{writer}-{i}", "model": f"m{writer}", "dataset": "fixture",
            "preset": "smoke", "seed": i, "metrics": {"x": float(i), "nan": float("nan")},
            "padding": "x" * 2000}  # long lines make torn writes visible


def write_many(path: str, writer: int) -> None:
    for i in range(ROWS_PER_WRITER):
        append_row(row(writer, i), Path(path))


def test_four_concurrent_writers_lose_and_interleave_nothing(tmp_path):
    path = tmp_path / "results.jsonl"
    context = mp.get_context("spawn")
    writers = [context.Process(target=write_many, args=(str(path), w)) for w in range(4)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
        assert process.exitcode == 0
    rows = read_rows(path)
    assert len(rows) == 4 * ROWS_PER_WRITER
    assert {r["run_id"] for r in rows} == {f"w{w}-{i}" for w in range(4)
                                           for i in range(ROWS_PER_WRITER)}
    assert all(json.loads(line) for line in path.read_text().splitlines())
    assert not list(tmp_path.glob(".*.tmp"))


def test_non_finite_metrics_are_stored_as_null(tmp_path):
    path = append_row(row(0, 1), tmp_path / "r.jsonl")
    assert read_rows(path)[0]["metrics"] == {"x": 1.0, "nan": None}


def test_row_without_required_keys_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lacks .*metrics"):
        append_row({"run_id": "a", "model": "m", "dataset": "d", "preset": "p", "seed": 0},
                   tmp_path / "r.jsonl")


def test_corrupt_line_is_reported_with_file_and_line(tmp_path):
    path = append_row(row(0, 1), tmp_path / "r.jsonl")
    with open(path, "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(ValueError, match=r"r\.jsonl:2: not a JSON line"):
        read_rows(path)


def test_missing_store_reads_as_empty(tmp_path):
    assert read_rows(tmp_path / "none.jsonl") == []
