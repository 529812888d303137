"""The results store: symbolic links are written through, a store that cannot take the
row is refused before training, a non-UTF-8 byte loses no row, a failed append keeps the
row in the run folder, and a run folder has one row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import musebench.experiments.bench as bench_module
import musebench.experiments.row_keeper as row_keeper
from musebench.experiments.row_keeper import ROW_FILE, RowNotStoredError, record_row
from musebench.leaderboard.store import append_row, check_store, read_rows


def row(run: str, folder: str = "runs/x") -> dict:
    return {"run_id": run, "model": "m", "dataset": "d", "preset": "p", "seed": 0,
            "metrics": {"x": 1.0}, "folder": folder}


def test_a_symlinked_store_gets_the_row_and_stays_a_link(tmp_path: Path):
    target = tmp_path / "shared" / "results.jsonl"
    target.parent.mkdir()
    append_row(row("first", "a"), target)
    link = tmp_path / "results.jsonl"
    link.symlink_to(target)
    append_row(row("second", "b"), link)
    assert link.is_symlink()
    assert [r["run_id"] for r in read_rows(target)] == ["first", "second"]


def test_a_folder_as_store_is_refused_before_training(tmp_path: Path, monkeypatch):
    store = tmp_path / "store"
    store.mkdir()

    def no_training(*args, **kwargs):
        raise AssertionError("training started with an unusable store")

    monkeypatch.setattr(bench_module, "build_datamodule", no_training)
    monkeypatch.setattr(bench_module, "build_trainer", no_training)
    with pytest.raises(ValueError, match=f"results store {store} is a folder"):
        bench_module.bench("markov", preset="smoke", out=tmp_path / "runs", results=store,
                           audio=False)


def test_a_non_utf8_byte_loses_no_row_and_is_named(tmp_path: Path):
    store = tmp_path / "r.jsonl"
    store.write_bytes(json.dumps(row("old", "a")).encode() + b"\n{\"run_id\": \"caf\xe9\"}\n")
    append_row(row("new", "b"), store)
    raw = store.read_bytes()
    assert b"caf\xe9" in raw and raw.endswith(json.dumps(row("new", "b"), sort_keys=True)
                                              .encode() + b"\n")
    with pytest.raises(ValueError, match=rf"{store}:2: not UTF-8 \(byte 0xe9"):
        check_store(store)


def test_a_failed_append_keeps_the_row_in_the_run_folder(tmp_path: Path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(row_keeper, "append_row", disk_full)
    folder = tmp_path / "run"
    with pytest.raises(RowNotStoredError, match=f"kept in {folder / ROW_FILE}"):
        record_row(row("done", str(folder)), tmp_path / "r.jsonl", folder)
    assert json.loads((folder / ROW_FILE).read_text())["run_id"] == "done"


def test_a_second_bench_of_the_same_folder_replaces_its_row(tmp_path: Path):
    store = tmp_path / "r.jsonl"
    append_row(row("first", "runs/a"), store)
    append_row(row("other", "runs/b"), store)
    append_row(row("again", "runs/a"), store)
    assert [r["run_id"] for r in read_rows(store)] == ["other", "again"]


def test_check_store_accepts_a_missing_store_in_a_writable_folder(tmp_path: Path):
    assert check_store(tmp_path / "new" / "r.jsonl") == (tmp_path / "new" / "r.jsonl").resolve()
