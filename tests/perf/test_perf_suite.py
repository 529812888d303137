"""The perf suite's sections are listed explicitly (perf/suite.py), each an importable
module with ``run()``; an unknown ``--only`` section is a usage error naming it."""

from __future__ import annotations

import importlib

import pytest

from musebench.perf.suite import SECTIONS, main


def test_every_listed_section_is_a_module_with_run() -> None:
    assert list(SECTIONS) == ["perf_data", "perf_metrics", "perf_models", "perf_models_gan"]
    for module in SECTIONS.values():
        assert callable(importlib.import_module(module).run)


def test_an_unknown_section_is_refused_before_measuring(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "perf_nosuch", "--out", str(tmp_path / "perf.json")])
    assert exit_info.value.code == 2
    assert "perf_nosuch" in capsys.readouterr().err
    assert not (tmp_path / "perf.json").exists()


def test_models_go_to_the_sections_that_take_them(tmp_path, monkeypatch) -> None:
    """``--models`` (a quick subset) reaches ``run(models=...)`` of a section that has
    that parameter; a section without it runs as always."""
    calls: dict[str, object] = {}

    def with_models(models=None):
        calls["with"] = models
        return {}

    def without():
        calls["without"] = True
        return {}

    sections = {"perf_models": with_models, "perf_data": without}
    monkeypatch.setattr(importlib, "import_module",
                        lambda name: type("M", (), {"run": staticmethod(sections[
                            next(k for k, v in SECTIONS.items() if v == name)])}))
    main(["--only", "perf_models", "perf_data", "--models", "a", "b",
          "--out", str(tmp_path / "perf.json")])
    assert calls == {"with": ["a", "b"], "without": True}

    def with_sources(sources=None):
        calls["sources"] = sources
        return {}

    sections["perf_data"] = with_sources
    main(["--only", "perf_data", "--data-sources", "all", "--out", str(tmp_path / "p.json")])
    assert calls["sources"] == ["all"]
