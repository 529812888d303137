"""Resuming restores the random number generators: a fit stopped after some epochs and
continued from its ``last.ckpt`` by a new Trainer ends with the weights of one uninterrupted
fit, for every model the Trainer trains, including C-RNN-GAN resumed exactly at its switch
from MLE pre-training to adversarial training."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.experiments.bench import build_datamodule
from musebench.experiments.checkpointing import (
    RNG_KEY,
    RngStateCheckpoint,
    capture_rng_state,
    restore_rng_state,
)
from musebench.experiments.config import load_config
from musebench.experiments.trainer import build_trainer
from musebench.models import MODELS, get_model

QUIET = ["trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]


def draws() -> tuple[float, float, torch.Tensor]:
    return random.random(), np.random.random(), torch.rand(3)  # noqa: NPY002 - global state


class Killed(Exception):
    """Raised by :class:`KillAt` in place of a signal."""


class KillAt(pl.Callback):
    """Stops a fit with :class:`Killed` as training batch ``batch`` of ``epoch`` starts."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                             batch: object, batch_idx: int) -> None:
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            raise Killed


def fit(name: str, folder: Path, max_epochs: int, resume: bool, overrides: tuple[str, ...] = (),
        kill: KillAt | None = None) -> dict[str, torch.Tensor]:
    """What ``bench`` does up to the end of training (seed, model, data, Trainer), in
    ``folder``; continues from ``folder/checkpoints/last.ckpt`` when ``resume``."""
    config = load_config(name, "smoke", [f"trainer.max_epochs={max_epochs}", *QUIET,
                                         *overrides])
    pl.seed_everything(0, workers=True, verbose=False)
    model = get_model(name)(**config["model"])
    data = build_datamodule(config, model, 0, None)
    model.fit_statistics(data.pieces("train"), data.pieces("valid"))
    trainer = build_trainer(config, model, folder, None)
    if kill is not None:
        trainer.callbacks.append(kill)
    last = folder / "checkpoints" / "last.ckpt"
    trainer.fit(model, datamodule=data, ckpt_path=str(last) if resume else None)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def resumed_and_straight(name: str, tmp_path: Path, stop: int, total: int,
                         overrides: tuple[str, ...] = ()
                         ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    fit(name, tmp_path / "resumed", stop, resume=False, overrides=overrides)
    resumed = fit(name, tmp_path / "resumed", total, resume=True, overrides=overrides)
    return resumed, fit(name, tmp_path / "straight", total, resume=False, overrides=overrides)


def differing(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    return [k for k in b if not torch.equal(a[k], b[k])]


def test_restored_rng_state_repeats_python_numpy_and_torch_draws():
    torch.manual_seed(3)
    state = capture_rng_state()
    first = draws()
    draws()
    restore_rng_state(state)
    again = draws()
    assert first[:2] == again[:2] and torch.equal(first[2], again[2])


def test_rng_states_in_a_checkpoint_load_with_weights_only(tmp_path: Path):
    torch.save({RNG_KEY: [capture_rng_state()]}, tmp_path / "c.ckpt")
    loaded = torch.load(tmp_path / "c.ckpt", weights_only=True)[RNG_KEY][0]
    restore_rng_state(loaded)
    expected = draws()
    restore_rng_state(loaded)
    assert draws()[:2] == expected[:2]


def test_each_rank_restores_its_own_saved_state():
    states = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        states.append(capture_rng_state())
    callback = RngStateCheckpoint()
    callback.on_load_checkpoint(None, None, {RNG_KEY: states})
    callback.on_fit_start(SimpleNamespace(world_size=2, global_rank=1), None)
    value = torch.rand(1)
    torch.manual_seed(2)
    assert torch.equal(value, torch.rand(1))


def test_another_process_count_keeps_the_fit_start_seeding_and_warns():
    torch.manual_seed(1)
    saved = capture_rng_state()
    callback = RngStateCheckpoint()
    callback.on_load_checkpoint(None, None, {RNG_KEY: [saved, saved]})
    torch.manual_seed(5)
    with pytest.warns(UserWarning, match="written by 2 processes"):
        callback.on_fit_start(SimpleNamespace(world_size=1, global_rank=0), None)
    value = torch.rand(1)
    torch.manual_seed(5)
    assert torch.equal(value, torch.rand(1))


def test_crnngan_resumed_at_the_adversarial_switch_equals_an_uninterrupted_fit(tmp_path):
    pretrain = load_config("crnngan", "smoke")["model"]["pretrain_epochs"]
    resumed, straight = resumed_and_straight("crnngan", tmp_path, pretrain, pretrain + 2)
    assert differing(resumed, straight) == []


def test_crnngan_pretraining_in_time_steps_resumes_where_it_stopped(tmp_path):
    """Pre-training of one epoch's time steps and one batch more: the switch falls inside
    epoch 1, and the run resumed after epoch 1 continues the schedule from its checkpoint."""
    config = load_config("crnngan", "smoke")
    model = get_model("crnngan")(**config["model"])
    epoch = build_datamodule(config, model, 0, None).timesteps("train")
    overrides = (f"model.pretrain_timesteps={epoch + 1}",)
    resumed, straight = resumed_and_straight("crnngan", tmp_path, 1, 3, overrides)
    assert differing(resumed, straight) == []
    saved = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["crnngan_schedule"]["adversarial_epochs"] == 2  # epochs 1 (part) and 2
    assert saved["crnngan_schedule"]["pretrained_timesteps"] > epoch


def test_without_the_restored_rng_states_the_resumed_gan_would_diverge(tmp_path, monkeypatch):
    """The scenario above depends on the RNG: it is not equal by construction."""
    monkeypatch.setattr(RngStateCheckpoint, "on_fit_start", lambda *args: None)
    pretrain = load_config("crnngan", "smoke")["model"]["pretrain_epochs"]
    resumed, straight = resumed_and_straight("crnngan", tmp_path, pretrain, pretrain + 2)
    assert differing(resumed, straight) != []


TRAINED = sorted(name for name in MODELS
                 if load_config(name, "smoke")["trainer"].get("max_epochs", 1) != 0)


@pytest.mark.parametrize("name", TRAINED)
def test_every_trained_model_resumed_after_one_epoch_equals_an_uninterrupted_fit(
        name: str, tmp_path: Path):
    resumed, straight = resumed_and_straight(name, tmp_path, 1, 2)
    assert differing(resumed, straight) == []


def test_a_fit_stopped_after_a_validation_within_an_epoch_resumes_exactly(tmp_path: Path):
    """Validation every 2 of the 3 batches of an epoch, the fit stopped right after the one
    in epoch 1: ``last.ckpt`` stays at the end of epoch 0, where the data position is known,
    so the resumed fit repeats the uninterrupted one (a ``last.ckpt`` written at that
    validation made 72 of MidiNet's tensors differ)."""
    within = ("trainer.val_check_interval=2",)
    with pytest.raises(Killed):
        fit("midinet", tmp_path / "resumed", 3, False, within, KillAt(epoch=1, batch=2))
    resumed = fit("midinet", tmp_path / "resumed", 3, True, within)
    straight = fit("midinet", tmp_path / "straight", 3, False, within)
    assert differing(resumed, straight) == []
