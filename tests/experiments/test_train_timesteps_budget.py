"""A standard preset's budget in time steps of training data: turned into whole epochs of
a share of their batches on the data set at hand (as much music on a small data set as on a
large one), recorded in the row, and really trained; an explicit ``trainer.max_epochs``
wins; nonsense is refused by name."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import musebench.experiments.config as config_module
from musebench.experiments.bench import bench, build_datamodule
from musebench.experiments.config import ConfigError, load_config
from musebench.experiments.trainer import build_trainer, check_every, training_schedule
from musebench.models import get_model


def never() -> int:
    raise AssertionError("the training split was encoded although max_epochs was set")


def test_the_budget_is_whole_epochs_of_a_share_of_their_batches() -> None:
    config = {"trainer": {}, "train_timesteps": 100}
    assert training_schedule(config, lambda: 25) == (4, 1.0)    # exactly 4 epochs
    assert training_schedule(config, lambda: 30) == (4, 100 / 120)  # 4 x 30 = 120 > 100
    assert training_schedule(config, lambda: 400) == (1, 0.25)  # a quarter of one epoch
    assert training_schedule(config, lambda: 0) == (100, 1.0)   # never divides by 0
    # with the batches known: the nearest whole number of batches, at least one
    assert training_schedule(config, lambda: 400, lambda: 2) == (1, 0.75)   # floor(1.5) = 1
    assert training_schedule(config, lambda: 101, lambda: 10) == (1, 1.0)   # 9.9 -> all 10
    epochs, share = training_schedule(config, lambda: 30, lambda: 12)       # 0.83 x 12 = 10
    assert epochs == 4 and int(share * 12) == 10


def test_max_epochs_wins_and_neither_is_lightnings_default() -> None:
    budget = {"train_timesteps": 100}
    assert training_schedule({"trainer": {"max_epochs": 5}, **budget}, never) == (5, 1.0)
    assert training_schedule({"trainer": {"max_epochs": 0}, **budget}, never) == (0, 1.0)
    assert training_schedule({"trainer": {}}, never) == (None, 1.0)


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5", "true"])
def test_a_budget_that_is_not_a_positive_integer_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="train_timesteps"):
        load_config("pianoroll_lstm", "smoke", [f"train_timesteps={value}"])


def test_a_standard_preset_states_its_budget_in_time_steps() -> None:
    config = load_config("pianoroll_lstm", "standard")
    assert config["trainer"].get("max_epochs") is None
    assert isinstance(config["train_timesteps"], int) and config["train_timesteps"] > 0


@pytest.mark.slow  # one smoke run, ~10 s
def test_a_run_trains_its_budget_and_records_it(tmp_path: Path, session_cache: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    result = bench("pianoroll_lstm", preset="smoke", out=tmp_path, audio=False,
                   overrides=["trainer.max_epochs=null", "train_timesteps=1800",
                              "data.batch_size=1"])
    budget = result.row["budget"]
    config = load_config("pianoroll_lstm", "smoke", ["data.batch_size=1"])
    data = build_datamodule(config, get_model("pianoroll_lstm")(**config["model"]), 0, None)
    frames = sum(len(piece_roll["roll"]) for piece_roll in data.dataset("train").examples)
    assert budget["timesteps_per_epoch"] == frames     # whole pieces: every training frame
    assert budget["train_timesteps"] == 1800
    assert budget["max_epochs"] == math.ceil(1800 / frames) == 3  # 768 frames an epoch
    batches = len(data.train_dataloader())
    per_epoch = round(1800 / (3 * frames) * batches)                 # 0.78 of each epoch
    assert int(budget["epoch_share"] * batches) == per_epoch        # as Lightning floors it
    last = torch.load(result.out / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=False)
    assert last["epoch"] == budget["max_epochs"] - 1   # Lightning counts epochs from 0
    assert 0 < per_epoch < batches
    assert last["global_step"] == budget["max_epochs"] * per_epoch


def test_each_budget_is_the_calibrations_proposal_for_its_track() -> None:
    """Every budget of a standard preset is what ``make calibrate`` proposed for that track
    (``perf/calibration.json``; the config's ``track_settings`` where the track has its own)."""
    import json

    proposals = json.loads((config_module.CONFIG_DIR.parent.parent / "perf" /
                            "calibration.json").read_text())["results"]
    checked = 0
    for entry in proposals:
        config = load_config(entry["model"], "standard", track=entry["track"])
        assert config["train_timesteps"] == entry["proposed"], entry
        checked += 1
    assert checked == len(proposals) == 20  # every entry has a proposal


def test_an_epoch_of_windows_is_the_window_times_their_number(session_cache: Path,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    config = load_config("crnngan", "smoke")   # windows of 16 events every 8
    data = build_datamodule(config, get_model("crnngan")(**config["model"]), 0, None)
    assert data.timesteps("train") == 16 * len(data.dataset("train")) > 0


def test_a_run_of_very_many_short_epochs_validates_and_checkpoints_every_few(
        tmp_path: Path) -> None:
    assert [check_every(e, {}) for e in (None, 1, 200, 201, 1019)] == [1, 1, 1, 2, 6]
    assert check_every(1019, {"val_check_interval": 100}) == 1   # the config's own wins
    config = load_config("pianoroll_lstm", "smoke")
    model = get_model("pianoroll_lstm")(**config["model"])
    trainer = build_trainer(config, model, tmp_path, None, max_epochs=1019)
    assert trainer.check_val_every_n_epoch == 6
    last = [c for c in trainer.checkpoint_callbacks if c.filename == "last"]
    assert last and last[0]._every_n_epochs == 6
    assert build_trainer(config, model, tmp_path, None, max_epochs=50).check_val_every_n_epoch == 1
