"""The report shows an official row's committed samples (issue #17): the row's ``samples``,
relative to its store, not the run folder of the machine that made it."""

from __future__ import annotations

import shutil
from pathlib import Path

from musebench.leaderboard.media import sample_midis
from musebench.leaderboard.render import aggregate
from musebench.leaderboard.store import OFFICIAL_RESULTS, read_rows


def test_committed_samples_are_found_when_the_run_folder_is_gone(tmp_path: Path) -> None:
    store = tmp_path / "results" / "official.jsonl"
    kept = store.parent / "samples" / "poly" / "jsb" / "m" / "seed0"
    kept.mkdir(parents=True)
    (kept / "sample_000.mid").write_bytes(b"MThd")
    (kept / "sample_001.mid").write_bytes(b"MThd")
    row = {"model": "m", "dataset": "jsb", "preset": "standard", "seed": 0, "metrics": {},
           "folder": str(tmp_path / "machine-that-made-it" / "run"),  # no longer exists
           "samples": ["samples/poly/jsb/m/seed0/sample_000.mid",
                       "samples/poly/jsb/m/seed0/sample_001.mid"],
           "store_dir": str(store.parent)}
    (entry,) = aggregate([row])
    assert sample_midis(entry) == [kept / "sample_000.mid", kept / "sample_001.mid"]
    shutil.rmtree(kept)
    assert sample_midis(entry) == []  # nothing committed, no run folder: no samples


def test_every_checked_in_official_grid_row_has_its_samples_committed() -> None:
    rows = [r for r in read_rows(OFFICIAL_RESULTS) if r.get("track")]
    assert rows, "the official store has grid rows"
    for row in rows:
        assert row["samples"], row["run_id"]
        for name in row["samples"]:
            assert (OFFICIAL_RESULTS.parent / name).is_file(), name
        (entry,) = aggregate([dict(row, store_dir=str(OFFICIAL_RESULTS.parent))])
        assert sample_midis(entry), row["model"]
