"""The data section of ``make perf`` (perf/data.py): figures, table, cache left alone."""

from __future__ import annotations

import os
from pathlib import Path

from musebench.perf.data import available_sources, run


def test_perf_reports_each_source_and_leaves_the_users_cache_alone(capsys, tmp_path: Path,
                                                                  monkeypatch) -> None:
    # a cache of this test's own: the session's is shared with other test workers
    cache = tmp_path / "cache"
    (cache / "reference").mkdir(parents=True)
    (cache / "reference" / "kept.json").write_text("{}")
    monkeypatch.setenv("MUSEBENCH_CACHE", str(cache))
    before = sorted(cache.rglob("*"))
    results = run(["fixture"])
    row = results["fixture"]
    assert row["pieces"] == 12 and row["skipped"] == 0
    assert row["build_s"] > 0 and row["cached_load_s"] > 0
    assert row["pieces_per_s"] > 0
    assert "fixture" in capsys.readouterr().out
    assert os.environ["MUSEBENCH_CACHE"] == str(cache)
    assert sorted(cache.rglob("*")) == before


def test_sources_needing_data_are_listed_only_when_their_files_exist(tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("MUSEBENCH_DATA", str(tmp_path))
    assert "jsb" not in available_sources()
    assert "fixture" in available_sources()
    (tmp_path / "boulanger").mkdir()
    (tmp_path / "boulanger" / "JSB_Chorales.mat").write_bytes(b"")
    assert "jsb" in available_sources()


def test_a_quick_run_builds_the_default_and_the_fixture_and_all_means_every_source(
        monkeypatch, tmp_path: Path) -> None:
    import musebench.perf.data as data

    measured: list[str] = []
    monkeypatch.setattr(data, "measure", lambda name: measured.append(name) or {"error": "x"})
    monkeypatch.setattr(data, "available_sources", lambda: ["bach", "essen", "fixture", "jsb"])
    data.run()
    assert measured == ["bach", "fixture"]
    measured.clear()
    data.run(["all"])
    assert measured == ["bach", "essen", "fixture", "jsb"]
