"""A standard preset's budget in time steps of training data: turned into whole epochs on
the data set at hand (as much music on a small data set as on a large one), recorded in the
row, and really trained; an explicit ``trainer.max_epochs`` wins; nonsense is refused by
name."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from musebench.experiments.bench import bench, build_datamodule
from musebench.experiments.config import ConfigError, load_config
from musebench.experiments.trainer import training_epochs
from musebench.models import get_model


def never() -> int:
    raise AssertionError("the training split was encoded although max_epochs was set")


def test_epochs_are_the_budget_rounded_up_to_whole_epochs() -> None:
    config = {"trainer": {}, "train_timesteps": 100}
    assert training_epochs(config, lambda: 30) == 4    # 100 / 30 = 3.33 -> 4 epochs
    assert training_epochs(config, lambda: 25) == 4    # exactly 4
    assert training_epochs(config, lambda: 200) == 1   # one epoch is more than the budget
    assert training_epochs(config, lambda: 0) == 100   # an empty loader never divides by 0


def test_max_epochs_wins_and_neither_is_lightnings_default() -> None:
    assert training_epochs({"trainer": {"max_epochs": 5}, "train_timesteps": 100}, never) == 5
    assert training_epochs({"trainer": {"max_epochs": 0}, "train_timesteps": 100}, never) == 0
    assert training_epochs({"trainer": {}}, never) is None


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
                   overrides=["trainer.max_epochs=null", "train_timesteps=1800"])
    budget = result.row["budget"]
    config = load_config("pianoroll_lstm", "smoke")
    data = build_datamodule(config, get_model("pianoroll_lstm")(**config["model"]), 0, None)
    frames = sum(len(piece_roll["roll"]) for piece_roll in data.dataset("train").examples)
    assert budget["timesteps_per_epoch"] == frames     # whole pieces: every training frame
    assert budget["train_timesteps"] == 1800
    assert budget["max_epochs"] == math.ceil(1800 / frames) == 3  # 768 frames an epoch
    last = torch.load(result.out / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=False)
    assert last["epoch"] == budget["max_epochs"] - 1   # Lightning counts epochs from 0
    assert last["global_step"] == budget["max_epochs"] * len(data.train_dataloader())


def test_an_epoch_of_windows_is_the_window_times_their_number(session_cache: Path,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    config = load_config("crnngan", "smoke")   # windows of 16 events every 8
    data = build_datamodule(config, get_model("crnngan")(**config["model"]), 0, None)
    assert data.timesteps("train") == 16 * len(data.dataset("train")) > 0
