"""What ``make regress`` measures: one model's outcome on the fixture, and the fixture's own.

:func:`model_outcome` trains a registered model's ``smoke`` preset on the committed fixture
(plus the regress overrides, recorded in the golden file), on CPU, with a fixed seed, a
fixed torch thread count and ``torch.use_deterministic_algorithms(True)``, and returns
flat ``check -> value`` pairs:

- ``data.encoding_sha256``: the model's codec applied to every fixture piece (keys, dtypes,
  shapes and bytes of every array), so a codec change shows even when training absorbs it;
- ``train.<name>``: every logged metric with ``loss`` in its name at the end of training
  (``train_loss``, ``val_loss``, a GAN's ``d_loss``/``g_loss``...);
- ``likelihood.<name>``: the test log-likelihood per step (and frame accuracy), where the
  model defines a likelihood;
- ``sample.<metric>``: :data:`SAMPLE_METRICS` of the scorer on the generated samples;
- ``notes.sha256`` and ``notes.count``: the generated notes themselves.

Losses are the last logged values; samples and likelihoods come from the best checkpoint,
as in a bench run.

:func:`fixture_outcome` is the data side and the scorer: piece and note counts per split,
a hash of the parsed notes, and the real-data reference metrics (test split scored
against train) in every view a registered model uses. Nothing here names a model:
everything comes from the registry, the model's config and the model contract.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from musebench.datasets.piece import NOTE_DTYPE, Piece

#: The scorer's figures kept per model: pitch, harmony, rhythm, diversity, distribution.
SAMPLE_METRICS: tuple[str, ...] = (
    "pitch_entropy", "pitch_range", "scale_consistency", "chord_conformance_notes",
    "note_density", "diversity_pairwise", "kl_mean", "oa_mean",
)
#: The fixture's splits.
SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: Reference-metric suffixes left out of the golden file: the bootstrap bounds and counts
#: of undefined pieces come from the same per-piece values as the point value, which is
#: enough to catch a scorer change; they would triple the file.
_DERIVED_SUFFIXES: tuple[str, ...] = ("_ci_low", "_ci_high", "_undefined")
#: Loggers whose progress chatter a regress run silences (errors still show).
_CHATTY: tuple[str, ...] = ("pytorch_lightning", "lightning", "lightning.pytorch",
                            "lightning_fabric", "lightning.fabric")


@contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Lightning's info logging, warnings, and anything printed go to a buffer (yielded),
    so that regress prints its table and nothing else."""
    loggers = [logging.getLogger(name) for name in _CHATTY]
    levels = [logger.level for logger in loggers]
    buffer = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(buffer), redirect_stderr(buffer):
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield buffer
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


@contextmanager
def deterministic(threads: int) -> Iterator[None]:
    """torch with ``threads`` intra-op threads and deterministic algorithms, restored after."""
    old_threads, old_flag = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_flag)


def arrays_digest(digest: Any, arrays: dict[str, np.ndarray]) -> None:
    """Feed ``arrays`` (key, dtype, shape, little-endian bytes) into ``digest``."""
    for key in sorted(arrays):
        array = np.ascontiguousarray(np.asarray(arrays[key]))
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        digest.update(f"{key}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.tobytes())


def encoding_sha256(codec: Any, pieces: list[Piece]) -> str:
    """SHA-256 of ``codec.encode`` over ``pieces`` (in order)."""
    digest = hashlib.sha256(f"{type(codec).__name__}\n".encode())
    for piece in pieces:
        arrays_digest(digest, codec.encode(piece))
    return digest.hexdigest()


def notes_sha256(pieces: list[Piece]) -> str:
    """SHA-256 of every piece's notes (start, duration, pitch, velocity, track), in order."""
    digest = hashlib.sha256()
    for number, piece in enumerate(pieces):
        notes = np.asarray(piece.notes, dtype=NOTE_DTYPE)
        arrays_digest(digest, {f"{number}.{name}": notes[name] for name in NOTE_DTYPE.names})
    return digest.hexdigest()


def model_outcome(name: str, *, seed: int = 0, threads: int = 1,
                  overrides: list[str] | None = None,
                  data_root: Path | None = None) -> dict[str, Any]:
    """Train, sample and score ``name``'s smoke preset on the fixture; the checks' values.

    Args:
        name: a registered model.
        seed: seeds Python, NumPy, torch and sampling.
        threads: torch intra-op threads during the run.
        overrides: dotted config overrides on top of the smoke preset.
        data_root: folder of the real data sets (the fixture needs none).
    """
    from musebench.datasets.views import apply_view
    from musebench.experiments.bench import build_datamodule, likelihood_metrics, run_budget
    from musebench.experiments.config import load_config
    from musebench.experiments.trainer import build_trainer, restore_best
    from musebench.metrics import score
    from musebench.models import get_model

    config = load_config(name, "smoke", overrides)
    config["trainer"].update(enable_progress_bar=False, enable_model_summary=False)
    values: dict[str, Any] = {}
    with deterministic(threads), tempfile.TemporaryDirectory(prefix="regress-") as folder:
        pl.seed_everything(seed, workers=True, verbose=False)
        model = get_model(name)(**config["model"])
        data = build_datamodule(config, model, seed, data_root)
        train, valid, test = (data.pieces(split) for split in SPLITS)
        model.fit_statistics(train, valid)  # some codecs learn their vocabulary here
        values["data.encoding_sha256"] = encoding_sha256(model.codec, train + valid + test)
        budget = run_budget(config, data)
        trainer = build_trainer(config, model, Path(folder), None,
                                max_epochs=budget["max_epochs"],
                                epoch_share=budget["epoch_share"], choose_threads=False)
        if budget["max_epochs"] != 0:
            trainer.fit(model, datamodule=data)
            restore_best(model, trainer)
        for key, value in sorted(trainer.callback_metrics.items()):
            if "loss" in key:
                values[f"train.{key}"] = float(value)
        model.eval()
        samples = model.generate(int(config["generate"]["n"]), conditions=test, seed=seed)
        metrics = score(samples, reference=apply_view(test, model.view),
                        train=apply_view(train, model.view))
        values.update({f"sample.{k}": float(metrics[k]) for k in SAMPLE_METRICS if k in metrics})
        if model.has_likelihood:
            data.setup("test")
            values.update({f"likelihood.{k}": float(v)
                           for k, v in likelihood_metrics(model, data.test_dataloader()).items()})
        values["notes.count"] = int(sum(len(piece.notes) for piece in samples))
        values["notes.sha256"] = notes_sha256(samples)
    return values


def fixture_outcome(views: list[str], data_root: Path | None = None) -> dict[str, Any]:
    """The fixture's piece and note counts per split and its real-data reference metrics
    (test scored against train, recomputed, never read from a cache) in each of ``views``."""
    from musebench.datasets import load
    from musebench.datasets.views import apply_view
    from musebench.metrics import score

    data = load("fixture", data_root)
    by_split = {split: data.split(split) for split in SPLITS}
    values: dict[str, Any] = {}
    for split, pieces in by_split.items():
        values[f"data.{split}.pieces"] = len(pieces)
        values[f"data.{split}.notes"] = int(sum(len(p.notes) for p in pieces))
    values["data.notes_sha256"] = notes_sha256(data.pieces)
    for view in sorted(set(views)):
        test, train = apply_view(by_split["test"], view), apply_view(by_split["train"], view)
        metrics = score(test, reference=train, train=train)
        values.update({f"reference.{view}.{k}": float(v) for k, v in sorted(metrics.items())
                       if not k.endswith(_DERIVED_SUFFIXES)})
    return values


@contextmanager
def fresh_cache() -> Iterator[Path]:
    """``$MUSEBENCH_CACHE`` set to a new empty folder (removed after): the fixture is parsed
    by the code under test, never read from a cache that an older parser wrote."""
    old = os.environ.get("MUSEBENCH_CACHE")
    with tempfile.TemporaryDirectory(prefix="regress-cache-") as folder:
        os.environ["MUSEBENCH_CACHE"] = folder
        try:
            yield Path(folder)
        finally:
            if old is None:
                os.environ.pop("MUSEBENCH_CACHE", None)
            else:
                os.environ["MUSEBENCH_CACHE"] = old


def model_views() -> list[str]:
    """The views (``melody``, ``full``) of the registered models, from their classes."""
    from musebench.models import MODELS, get_model

    return sorted({get_model(name).view for name in MODELS})


def outcome(name: str, settings: dict[str, Any], threads: int) -> dict[str, Any]:
    """The outcome of ``name`` (a model, or the fixture golden's name for the data side
    and the scorer) under a golden file's ``settings``, with ``threads`` torch threads."""
    from musebench.experiments.regress import FIXTURE

    if name == FIXTURE:
        with deterministic(threads):
            return fixture_outcome(model_views())
    return model_outcome(name, seed=settings["seed"], threads=threads,
                         overrides=settings["overrides"])
