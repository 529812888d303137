"""A run's identity (its folder's hash) does not change when a default is given
explicitly (issue #17: ``make bench`` passed ``--precision 32-true`` and ``--resume``
without it found nothing), while every real change of setting still changes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import musebench.experiments.config as config_module
from musebench.experiments import official, tracks
from musebench.experiments.config import NOT_SETTINGS, PRESETS, config_hash, identity, load_config
from musebench.experiments.tracks import Cell
from musebench.models import MODELS

REPO = Path(__file__).parents[2]
OFFICIAL = REPO / "leaderboard" / "results" / "official.jsonl"


def test_explicit_defaults_name_the_same_run():
    plain = load_config("pianoroll_lstm", "smoke")
    explicit = load_config("pianoroll_lstm", "smoke", ["trainer.precision=32-true",
                                                       "trainer.num_nodes=1",
                                                       "trainer.strategy=auto"])
    assert config_hash(explicit) == config_hash(plain)
    assert "precision" not in identity(explicit)["trainer"]


def test_a_real_change_still_names_another_run():
    plain = load_config("pianoroll_lstm", "smoke")
    for override in ("trainer.precision=bf16-mixed", "trainer.num_nodes=2",
                     "model.hidden=17", "generate.n=3"):
        assert config_hash(load_config("pianoroll_lstm", "smoke", [override])) \
            != config_hash(plain), override


def test_a_default_value_that_overrides_the_config_file_is_kept():
    # the paper preset sets bf16-mixed: asking for 32-true there is a different run
    paper = load_config("pianoroll_lstm", "paper")
    assert paper["trainer"]["precision"] == "bf16-mixed"
    fp32 = load_config("pianoroll_lstm", "paper", ["trainer.precision=32-true"])
    assert config_hash(fp32) != config_hash(paper)


@pytest.mark.parametrize("preset", PRESETS)
def test_ordinary_configs_are_their_own_identity(preset):
    # nothing to drop but the stated cost: the hash of every plain config is what it was
    for name in sorted(MODELS):
        config = load_config(name, preset)
        assert identity(config) == {k: v for k, v in config.items()
                                    if k not in NOT_SETTINGS}, name


def test_the_stated_cost_does_not_name_another_run():
    config = load_config("markov", "smoke")
    assert "budget_minutes" in config
    assert config_hash({**config, "budget_minutes": 123}) == config_hash(config)


def configs_at(commit: str, folder: Path) -> Path:
    """The model configs and the tracks protocol of ``commit`` (from git) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", commit,
                             "experiments/configs/", "experiments/tracks.yaml"],
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        text = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{name}"],
                              capture_output=True, text=True, check=True).stdout
        (folder / Path(name).name).write_text(text)
    return folder


def test_every_official_row_is_a_grid_row_whose_hash_its_cell_reproduces(tmp_path, monkeypatch):
    # at the commit the row records: a later change of a preset makes the row stale (the
    # grid re-runs its cell), not wrong
    rows = [json.loads(line) for line in OFFICIAL.read_text().splitlines()]
    assert rows and all(row.get("track") and row.get("git_commit") for row in rows)
    shallow = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"],
                             capture_output=True, text=True).stdout.strip()
    if shallow == "true":
        pytest.skip("a shallow clone lacks the commits the official rows record")
    for row in rows:
        folder = configs_at(row["git_commit"], tmp_path / row["git_commit"])
        monkeypatch.setattr(config_module, "CONFIG_DIR", folder)
        protocol = tracks.load_protocol(folder / "tracks.yaml")
        cell = Cell(row["track"], row["dataset"], row["model"], row["seed"])
        assert config_hash(official.cell_config(cell, protocol)) == row["config_hash"], cell
