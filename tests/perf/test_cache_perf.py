"""The data section of ``make perf`` (perf/data.py): figures, table, cache left alone."""

from __future__ import annotations

import os
from pathlib import Path

from musebench.perf.data import available_sources, run


def test_perf_reports_each_source_and_leaves_the_session_cache_alone(capsys) -> None:
    cache = Path(os.environ["MUSEBENCH_CACHE"])
    before = sorted(cache.glob("*")) if cache.exists() else []
    results = run(["fixture"])
    row = results["fixture"]
    assert row["pieces"] == 12 and row["skipped"] == 0
    assert row["build_s"] > 0 and row["cached_load_s"] > 0
    assert row["pieces_per_s"] > 0
    assert "fixture" in capsys.readouterr().out
    assert os.environ["MUSEBENCH_CACHE"] == str(cache)
    assert (sorted(cache.glob("*")) if cache.exists() else []) == before


def test_sources_needing_data_are_listed_only_when_their_files_exist(tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("MUSEBENCH_DATA", str(tmp_path))
    assert "jsb" not in available_sources()
    assert "fixture" in available_sources()
    (tmp_path / "boulanger").mkdir()
    (tmp_path / "boulanger" / "JSB_Chorales.mat").write_bytes(b"")
    assert "jsb" in available_sources()
