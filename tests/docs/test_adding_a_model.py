"""docs/adding-a-model.md runs: its model file, config and registry line (the page's code
blocks) bench end to end at the smoke preset in a temporary registry, and the claims the
page makes about hyper-parameters hold."""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path

import pytest

import musebench.experiments.config as config_module
from musebench.arguments import ArgumentError
from musebench.experiments.bench import bench
from musebench.models import MODELS, get_model

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-model.md"


def code_blocks(language: str) -> list[str]:
    """The page's fenced code blocks in ``language``, in order."""
    return [body for lang, body in re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(), re.S)
            if lang == language]


@pytest.fixture
def example_model(tmp_path, monkeypatch) -> str:
    """The page's model, config and registry line installed for this test only."""
    model_source, registry_line = code_blocks("python")[:2]
    (name, target), = ast.literal_eval("{" + registry_line.strip().rstrip(",") + "}").items()
    module_name, _, _ = target.partition(":")
    module = types.ModuleType(module_name)
    module.__file__ = str(tmp_path / "example_model.py")
    exec(compile(model_source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    monkeypatch.setitem(sys.modules, module_name, module)
    monkeypatch.setitem(MODELS, name, target)
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / f"{name}.yaml").write_text(code_blocks("yaml")[0])
    monkeypatch.setattr(config_module, "CONFIG_DIR", configs)
    return name


def test_the_page_shows_one_file_one_config_one_line():
    assert len(code_blocks("yaml")) == 1
    assert len(code_blocks("yaml")[0].splitlines()) <= 15
    assert len(code_blocks("python")[1].strip().splitlines()) == 1


def test_the_example_hyper_parameters_are_declared_once_and_checked(example_model):
    model_cls = get_model(example_model)
    model = model_cls(steps=8)
    assert dict(model.hparams) == {"lr": 0.05, "steps": 8, "lowest": 21, "highest": 108}
    with pytest.raises(ArgumentError, match=r"FrameBernoulli\.hiden = 3: unknown key"):
        model_cls(hiden=3)
    first, again = model.generate(2, seed=1), model.generate(2, seed=1)
    assert [p.notes.tolist() for p in first] == [p.notes.tolist() for p in again]


@pytest.mark.slow  # a one-epoch smoke bench on the fixture, ~15 s
def test_the_example_benches_at_the_smoke_preset(example_model, tmp_path):
    result = bench(example_model, preset="smoke", out=tmp_path / "runs", audio=False)
    row = result.row
    assert row["model"] == example_model and row["dataset"] == "fixture"
    assert row["n_samples"] == 4 and row["view"] == "full"
    assert row["metrics"]["nll_per_step"] > 0  # it has a likelihood, so the row has one
    assert len(list(result.samples.glob("*.mid"))) == 4
