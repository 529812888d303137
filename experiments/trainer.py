"""The Trainer of a bench run: devices, strategy, precision, checkpoints and guards.

Everything a run needs from Lightning is set up here, once, for every model: the
``trainer`` section of the model's config, then the command line's ``devices``,
``strategy``, ``num_nodes`` and ``precision`` on top; a checkpoint of the best and the
last epoch (by the model's ``monitor``); optional early stopping; and a guard that stops
at the first NaN/inf loss. The bench loop (:mod:`musebench.experiments.bench`) never
builds a Trainer itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from musebench.models.base import MusicGenerator


class FiniteLossGuard(pl.Callback):
    """Stops training with a clear message at the first NaN/inf training loss.

    Raising before the checkpoint callbacks of that step run leaves the last good
    checkpoint (``checkpoints/last.ckpt``) as it was.
    """

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        losses = {k: v for k, v in trainer.callback_metrics.items() if "loss" in k}
        if isinstance(outputs, dict) and "loss" in outputs:
            losses["loss"] = outputs["loss"]
        elif isinstance(outputs, torch.Tensor):
            losses["loss"] = outputs
        for name, value in losses.items():
            value = torch.as_tensor(value).detach().float()
            if not torch.isfinite(value).all():
                raise RuntimeError(
                    f"training diverged at global step {trainer.global_step} (epoch "
                    f"{trainer.current_epoch}, batch {batch_idx}): {name} = {value.item()}; "
                    "the last good checkpoint is kept in checkpoints/")


def build_trainer(config: dict[str, Any], model: MusicGenerator, folder: Path,
                  logger: Any, devices: int | None = None, precision: str | None = None,
                  strategy: str | None = None, num_nodes: int | None = None) -> pl.Trainer:
    """A Trainer from ``config["trainer"]`` plus checkpointing, early stopping and the guard."""
    callbacks: list[pl.Callback] = [
        FiniteLossGuard(),
        ModelCheckpoint(dirpath=folder / "checkpoints", monitor=model.monitor, mode=model.mode,
                        save_last=True, save_top_k=1),
    ]
    if config.get("early_stopping"):
        callbacks.append(EarlyStopping(monitor=model.monitor, mode=model.mode,
                                       **config["early_stopping"]))
    kwargs = dict(config["trainer"])
    if devices is not None:
        kwargs["devices"] = devices
    if precision is not None:
        kwargs["precision"] = precision
    if strategy is not None:
        kwargs["strategy"] = strategy
    if num_nodes is not None:
        kwargs["num_nodes"] = num_nodes
    kwargs.setdefault("enable_progress_bar", True)
    return pl.Trainer(default_root_dir=folder, logger=logger or False, callbacks=callbacks,
                      **kwargs)


def restore_best(model: MusicGenerator, trainer: pl.Trainer) -> None:
    """Load the weights of the best checkpoint by the model's ``monitor`` (if one was
    saved), so samples and test likelihoods come from the model selected on validation."""
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if best and Path(best).is_file():
        state = torch.load(best, map_location=model.device, weights_only=False)["state_dict"]
        model.load_state_dict(state)


