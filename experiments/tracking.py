"""Weights & Biases tracking of a bench run: one W&B run per bench run, on rank 0 only.

One project (``musebench``), ``group`` = model, ``job_type`` = ``bench``, tags for dataset,
preset and precision, the full config. The run is Lightning's :class:`WandbLogger`, so the
training curves land in it; the rank-0 stage after training reuses the same run for the
piano-roll images, the audio and the samples artifact (:func:`log_samples`) and puts the
final metrics, the run's model, dataset, preset, view, config hash, train time and
throughput in its summary (:func:`log_metrics`), a table of the samples with their
per-sample metrics (:func:`log_sample_table`), then :func:`finish` closes it.
``wandb.Audio`` needs ``soundfile`` (a dependency); without it the WAVs travel in the
artifact only.

The run writes under ``<run folder>/wandb/``. Its id is kept in ``<run folder>/wandb-run-id``
so that ``--resume`` continues the same run (``resume="allow"``). Offline, W&B names a run
directory after the time the process started it, so a resumed run adds a second directory
with the same id; ``wandb sync <run folder>/wandb/offline-run-*`` uploads both into one run.

``WANDB_MODE`` wins when set (``disabled`` in tests); otherwise runs are offline and nothing
here waits on the network. A W&B failure is a warning, never fatal: the run's files and
results row do not depend on it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytorch_lightning.utilities import rank_zero_only

PROJECT = "musebench"
JOB_TYPE = "bench"
RUN_ID_FILE = "wandb-run-id"


def never_fatal(stage: Callable[..., Any]) -> Callable[..., Any]:
    """A tracking stage whose failure is a warning (and returns None): the run's samples,
    metrics and row must not be lost to a logging problem."""

    @functools.wraps(stage)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return stage(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any W&B failure
            warnings.warn(f"W&B {stage.__name__} failed ({type(error).__name__}: {error}); "
                          "the run's files and results row are unaffected", stacklevel=2)
            return None

    return guarded


def wandb_mode() -> str:
    """``$WANDB_MODE`` if set, else ``offline``."""
    return os.environ.get("WANDB_MODE", "offline")


#: W&B refuses a tag longer than this (and with it the whole run).
MAX_TAG = 64


def tag(key: str, value: str) -> str:
    """``key:value``, or where that exceeds :data:`MAX_TAG` characters (a ``midi:`` source
    in a deep folder), its head, ``~`` and 8 hex digits of the SHA-1 of the whole value:
    distinct values keep distinct tags (the full value is in the run's config)."""
    text = f"{key}:{value}"
    if len(text) <= MAX_TAG:
        return text
    digest = hashlib.sha1(value.encode()).hexdigest()[:8]
    return f"{text[:MAX_TAG - len(digest) - 1]}~{digest}"


def run_tags(config: dict[str, Any], precision: str) -> list[str]:
    """``dataset:…``, ``preset:…`` and ``precision:…`` tags of a run (:func:`tag`)."""
    return [tag("dataset", str(config["data"]["source"])), tag("preset", str(config["preset"])),
            tag("precision", precision)]


def stored_run_id(folder: Path) -> str | None:
    """The W&B run id kept in ``folder`` by an earlier start of the same bench run."""
    path = folder / RUN_ID_FILE
    if not path.is_file():
        return None
    return path.read_text().strip() or None


@never_fatal
def bench_logger(folder: Path, config: dict[str, Any], tags: list[str], name: str,
                 resume: bool = False) -> Any:
    """The one W&B run of a bench run, as a Lightning ``WandbLogger`` (None when disabled).

    On rank 0 the run starts here, before training, so that a W&B failure only loses the
    tracking (warning, None) and the run's id is stored in ``folder`` for ``--resume``.
    Other ranks get a logger that never starts a run (Lightning's rank-zero experiment).

    Args:
        folder: the bench run's folder; W&B writes under ``folder/wandb``.
        config: the full config, logged as the run's config.
        tags: see :func:`run_tags`.
        name: the run's display name.
        resume: continue the run whose id ``folder`` holds (a new run if it holds none).

    Returns:
        The logger, or None when ``WANDB_MODE=disabled`` or W&B failed to start.
    """
    if wandb_mode() == "disabled":
        return None
    import wandb
    from pytorch_lightning.loggers import WandbLogger

    folder.mkdir(parents=True, exist_ok=True)
    logger = WandbLogger(name=name, save_dir=str(folder), project=PROJECT,
                         id=stored_run_id(folder) if resume else None, job_type=JOB_TYPE,
                         group=config["name"], tags=tags, config=config, mode=wandb_mode(),
                         reinit="create_new",
                         # no "Run summary" of every metric at the end: the bench prints
                         # its own short summary (musebench.cli.summary)
                         settings=wandb.Settings(quiet=True))
    if rank_zero_only.rank == 0:
        (folder / RUN_ID_FILE).write_text(logger.experiment.id)
    return logger


@never_fatal
def log_samples(logger: Any, name: str, images: list[Path], audio: list[Path],
                samples: Path) -> None:
    """Piano rolls, audio and the ``samples`` folder (as an artifact) into the run."""
    if logger is None:
        return
    import wandb

    run = logger.experiment
    run.log({"samples/piano_roll": [wandb.Image(str(p)) for p in images]})
    artifact = wandb.Artifact(f"samples-{name}", type="samples")
    artifact.add_dir(str(samples))
    run.log_artifact(artifact)
    if audio and importlib.util.find_spec("soundfile") is not None:
        run.log({"samples/audio": [wandb.Audio(str(p)) for p in audio]})
    elif audio:
        warnings.warn("W&B audio needs the soundfile package; the WAV files are in the "
                      "samples artifact only", stacklevel=2)


#: Keys of a results row that go into the run's config (for filtering and grouping in the
#: dashboard, :mod:`musebench.experiments.dashboard`) and its summary.
ROW_KEYS = ("model", "dataset", "preset", "view", "config_hash")
#: Costs of a results row that go into the run's summary.
COST_KEYS = ("train_seconds", "samples_per_second")


@never_fatal
def log_metrics(logger: Any, metrics: dict[str, float], row: dict[str, Any] | None = None
                ) -> None:
    """Every final metric into the run's summary; with the results ``row``, also its
    :data:`ROW_KEYS` (into config and summary) and :data:`COST_KEYS` (train time and
    sampling throughput, into the summary)."""
    if logger is None:
        return
    run = logger.experiment
    extra = {key: row[key] for key in (*ROW_KEYS, *COST_KEYS) if key in (row or {})}
    run.config.update({key: extra[key] for key in ROW_KEYS if key in extra},
                      allow_val_change=True)
    run.summary.update({**metrics, **extra})


@never_fatal
def log_sample_table(logger: Any, images: list[Path], audio: list[Path],
                     pieces: list[Any]) -> None:
    """``samples/table``: one line per sample with its piano roll, audio (when rendered)
    and per-sample metrics (:func:`musebench.metrics.per_piece` of ``pieces``)."""
    if logger is None:
        return
    import wandb

    from musebench.metrics import per_piece

    metrics = per_piece(pieces)
    names = list(metrics)
    table = wandb.Table(columns=["sample", "piano_roll", "audio", *names])
    sounds = {p.stem: p for p in audio}
    for i, image in enumerate(images):
        sound = sounds.get(image.stem)
        table.add_data(image.stem, wandb.Image(str(image)),
                       wandb.Audio(str(sound)) if sound is not None else None,
                       *(float(metrics[n][i]) for n in names))
    logger.experiment.log({"samples/table": table})


@never_fatal
def finish(logger: Any) -> None:
    """Close the run (on rank 0; a no-op elsewhere and when tracking is off)."""
    if logger is not None:
        logger.experiment.finish()
