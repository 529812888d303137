"""A run's config checked against the signatures that consume it, before any work starts.

Each section goes to one callable, whose signature is the single declaration of what it
accepts (:func:`musebench.arguments.check_arguments`: known keys, annotated types):

- ``model``: the model class (its keyword-only hyper-parameters);
- ``data``: :class:`~musebench.datasets.datamodule.MusicDataModule` (less ``codec``, which
  the model supplies);
- ``trainer``: ``pl.Trainer`` (less what the bench sets itself: logger, callbacks…);
- ``generate``: the model's :meth:`~musebench.models.base.MusicGenerator.generate` (less
  ``conditions`` and ``seed``, which the bench passes);
- ``early_stopping``: ``EarlyStopping`` (less ``monitor``/``mode``, the model's);
- ``train_timesteps``: the training budget in time steps of data (a positive integer, or
  None), which the bench turns into epochs
  (:func:`~musebench.experiments.trainer.training_schedule`). A config's
  ``track_settings`` are resolved away before this check
  (:func:`~musebench.experiments.config.resolve_track_settings`).

:data:`LOWEST` adds the lower bounds that a type cannot say. So ``--set trainer.nosuch=1``,
``--set model.hidden=abc``, ``--set trainer.max_epochs=-3`` or ``--set generate.n=0`` is an
error naming the key, the value and what is allowed, not a traceback after training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping

from musebench.arguments import ArgumentError, check_arguments, parameters
from musebench.datasets.datamodule import MusicDataModule
from musebench.models.base import MusicGenerator

#: Smallest allowed value of integer settings whose type alone allows nonsense.
LOWEST: dict[str, int] = {
    "trainer.max_epochs": -1,  # -1: no epoch limit (Lightning's convention)
    "generate.n": 1,
    "data.batch_size": 1,
    "data.max_length": 1,
    "data.score_beats": 1,
}

#: Settings whose signature default is None but which Lightning resolves to a value:
#: giving that value is the same run as leaving the setting out.
RESOLVED_DEFAULTS: dict[str, Any] = {
    "trainer.precision": "32-true",
}


def consumers(model_cls: type[MusicGenerator]) -> dict[str, Callable[..., Any]]:
    """The callable whose signature declares each config section."""
    return {"model": model_cls, "data": MusicDataModule, "trainer": pl.Trainer,
            "generate": model_cls.generate, "early_stopping": EarlyStopping}


def is_default(config_key: str, value: Any, model_cls: type[MusicGenerator]) -> bool:
    """Whether ``value`` at ``config_key`` (``section.key``) is what the section's consumer
    does when the key is left out: its signature default, or :data:`RESOLVED_DEFAULTS`."""
    section, _, key = config_key.partition(".")
    if config_key in RESOLVED_DEFAULTS:
        return value == RESOLVED_DEFAULTS[config_key] or value is None
    target = consumers(model_cls).get(section)
    parameter = parameters(target).get(key) if target is not None else None
    return (parameter is not None and parameter.default is not parameter.empty
            and type(value) is type(parameter.default) and value == parameter.default)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_config(config: dict[str, Any], model_cls: type[MusicGenerator]) -> None:
    """Check every section of a resolved run config (see the module docstring).

    Raises:
        ArgumentError: an unknown key, a value of the wrong type, or below its bound.
    """
    check_arguments(model_cls, config["model"], "model")
    check_arguments(MusicDataModule, config["data"], "data", ignore=("codec",))
    check_arguments(pl.Trainer, config["trainer"], "trainer",
                    ignore=("logger", "callbacks", "plugins", "default_root_dir"))
    check_arguments(model_cls.generate, config["generate"], "generate",
                    ignore=("conditions", "seed"))
    check_arguments(EarlyStopping, config.get("early_stopping") or {}, "early_stopping",
                    ignore=("monitor", "mode"))
    budget = config.get("train_timesteps")
    if budget is not None and not _positive_int(budget):
        raise ArgumentError(f"train_timesteps = {budget!r}: must be a positive integer "
                            "(time steps of training data), or null")
    for dotted, lowest in LOWEST.items():
        section, key = dotted.split(".")
        value = config[section].get(key)
        if value is not None and value < lowest:
            raise ArgumentError(f"{dotted} = {value!r}: must be at least {lowest}")
