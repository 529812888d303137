"""Weights & Biases tracking of a bench run, offline unless the user says otherwise.

One project (``musebench``), ``group`` = model, one run per stage (``job_type`` train,
sample, score), tags for dataset, preset and precision, the full config on every run.
The train run is Lightning's :class:`WandbLogger` (training curves); the sample run holds
piano-roll images, audio and the samples as an artifact; the score run puts the final
metrics in its summary (``wandb.Audio`` needs the optional ``soundfile`` package; without
it the WAVs travel in the artifact only). ``WANDB_MODE`` wins when set (``disabled`` in tests), otherwise
runs are written offline under ``<out>/wandb`` and ``wandb sync`` uploads them later:
nothing here waits on the network.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = "musebench"


def never_fatal(stage: Callable[..., None]) -> Callable[..., None]:
    """A tracking stage whose failure is a warning: the run's samples, metrics and row are
    already on disk and must not be lost to a logging problem."""

    @functools.wraps(stage)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            stage(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any W&B failure
            warnings.warn(f"W&B {stage.__name__} failed ({type(error).__name__}: {error}); "
                          "the run's files and results row are unaffected", stacklevel=2)

    return guarded


def wandb_mode() -> str:
    """``$WANDB_MODE`` if set, else ``offline``."""
    return os.environ.get("WANDB_MODE", "offline")


def _settings(out: Path, config: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "group": config["name"],
        "tags": tags,
        "config": config,
        "dir": str(out),
        "mode": wandb_mode(),
        "reinit": "create_new",
    }


def run_tags(config: dict[str, Any], precision: str) -> list[str]:
    """``dataset:…``, ``preset:…`` and ``precision:…`` tags of a run."""
    return [f"dataset:{config['data']['source']}", f"preset:{config['preset']}",
            f"precision:{precision}"]


def train_logger(out: Path, config: dict[str, Any], tags: list[str], name: str):
    """The Lightning WandbLogger of the train stage (None when W&B is disabled)."""
    if wandb_mode() == "disabled":
        return None
    from pytorch_lightning.loggers import WandbLogger

    out.mkdir(parents=True, exist_ok=True)
    settings = _settings(out, config, tags)
    return WandbLogger(name=f"{name}-train", job_type="train", save_dir=str(out),
                       **{k: v for k, v in settings.items() if k != "dir"})


@never_fatal
def log_samples(out: Path, config: dict[str, Any], tags: list[str], name: str,
                images: list[Path], audio: list[Path], folder: Path) -> None:
    """The sample stage: piano rolls, audio and the sample folder as an artifact."""
    if wandb_mode() == "disabled":
        return
    import wandb

    run = wandb.init(name=f"{name}-sample", job_type="sample", **_settings(out, config, tags))
    try:
        run.log({"samples/piano_roll": [wandb.Image(str(p)) for p in images]})
        artifact = wandb.Artifact(f"samples-{name}", type="samples")
        artifact.add_dir(str(folder))
        run.log_artifact(artifact)
        if audio and importlib.util.find_spec("soundfile") is not None:
            run.log({"samples/audio": [wandb.Audio(str(p)) for p in audio]})
        elif audio:
            warnings.warn("W&B audio needs the soundfile package; the WAV files are in the "
                          "samples artifact only", stacklevel=2)
    finally:
        run.finish()


@never_fatal
def log_scores(out: Path, config: dict[str, Any], tags: list[str], name: str,
               metrics: dict[str, float]) -> None:
    """The score stage: every final metric in the run summary."""
    if wandb_mode() == "disabled":
        return
    import wandb

    run = wandb.init(name=f"{name}-score", job_type="score", **_settings(out, config, tags))
    try:
        run.log(metrics)
        run.summary.update(metrics)
    finally:
        run.finish()
