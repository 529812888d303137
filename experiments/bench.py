"""One benchmark run: train -> sample -> score -> record, for any registered model.

The loop knows nothing model-specific. It builds the model from its config
(``get_model(name)(**config["model"])``), the data from ``MusicDataModule(codec=model.codec,
**config["data"])``, lets the model learn statistics (:meth:`fit_statistics`), trains with
a Lightning Trainer (checkpoints, optional early stopping, a NaN/inf guard) for
``trainer.max_epochs`` or the epochs of the config's ``train_timesteps`` budget
(:func:`~musebench.experiments.trainer.training_schedule`; skipped at 0 epochs; the best
checkpoint by the model's ``monitor`` is restored after), generates ``generate.n`` samples conditioned on the test
split, writes them (MIDI, PNG, WAV), scores them (:func:`musebench.experiments.scoring.score_in_view`)
against the test and training splits in the model's ``view`` (melodies for a melody model,
full pieces otherwise; recorded in the row), adds test likelihood metrics where the model has a
likelihood, and appends one row to the results store. Before scoring, every sample
carries its conditioning test piece's own chords (:mod:`musebench.experiments.conditions`);
the row also holds the representation ceiling (``ceiling``), the within-condition
diversity, collapsed flag and whole-piece copy rate (:mod:`musebench.experiments.fair`)
and the training budget (``budget``). Generation, scoring and recording
happen on rank 0 only.

Output folder: ``<out>/<model>/<dataset>/<preset>-seed<seed>-<config hash>/`` with
``config.yaml``, ``checkpoints/``, ``samples/``, ``metrics.json`` and ``wandb/``; the same
settings map to the same folder, which is what ``--resume`` continues from.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import yaml

from musebench.datasets.views import apply_view, first_beats
from musebench.experiments import tracking
from musebench.experiments.conditions import with_condition_chords
from musebench.experiments.config import config_hash, load_config
from musebench.experiments.fair import ceiling_metrics, collapse_metrics
from musebench.experiments.row_keeper import record_row
from musebench.experiments.samples import write_samples
from musebench.experiments.scoring import score_in_view
from musebench.experiments.trainer import build_trainer, restore_best, training_schedule
from musebench.leaderboard.store import check_store, read_rows
from musebench.models import get_model
from musebench.models.base import MusicGenerator
from musebench.util import cpu_name, strict_json, write_atomically


@dataclass
class BenchResult:
    """What one run produced: its folder, its row, and the samples folder."""

    out: Path
    row: dict[str, Any]
    samples: Path


def git_commit() -> str:
    """The repository's current commit (``unknown`` outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware() -> str:
    """The accelerator (or CPU) this run used, in words."""
    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}"
    return f"CPU {cpu_name()} ({torch.get_num_threads()} threads)"


def run_folder(out: Path, config: dict[str, Any], seed: int) -> Path:
    """``<out>/<model>/<dataset>/<preset>-seed<seed>-<hash>``, stable for equal settings."""
    dataset = config["data"]["source"].replace(":", "_").replace("/", "_")
    return out / config["name"] / dataset / f"{config['preset']}-seed{seed}-{config_hash(config)}"


def likelihood_metrics(model: MusicGenerator, loader: Any) -> dict[str, float]:
    """Test NLL per step and expected frame accuracy over ``loader`` (likelihood models)."""
    from musebench.metrics.likelihood import LikelihoodTotals

    model.eval()
    totals = LikelihoodTotals()
    with torch.no_grad():
        for batch in loader:
            batch = {k: v.to(model.device) for k, v in batch.items()}
            step = model.log_likelihood(batch)
            totals.add(step.log_prob, step.mask, step.note_probs, step.note_targets)
    return totals.result()


def bench(
    model_name: str,
    dataset: str | None = None,
    preset: str = "standard",
    seed: int = 0,
    devices: int | None = None,
    precision: str | None = None,
    strategy: str | None = None,
    num_nodes: int | None = None,
    out: Path = Path("runs"),
    overrides: list[str] | None = None,
    resume: bool = False,
    data_root: Path | None = None,
    results: Path | None = None,
    audio: bool = True,
    view: str | None = None,
    max_length: int | None = None,
    score_beats: int | None = None,
    extra_row: dict[str, Any] | None = None,
    track: str | None = None,
) -> BenchResult | None:
    """Train, sample, score and record one run; see the module docstring.

    Args:
        model_name: a name in :data:`musebench.models.MODELS`.
        dataset: data source (default: the config's ``data.source``).
        preset: ``smoke``, ``standard`` or ``paper``.
        seed: seeds Python, NumPy, torch and sampling.
        devices: Trainer devices (default: the config's).
        precision: Trainer precision, e.g. ``32-true`` or ``bf16-mixed``.
        strategy: Trainer strategy, e.g. ``ddp`` (default: the config's, else Lightning's).
        num_nodes: nodes of a multi-node run (torchrun or SLURM launch the processes).
        out: root folder of runs.
        overrides: dotted ``key=value`` config overrides.
        resume: continue from ``checkpoints/last.ckpt`` of the same settings.
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        results: the results store (default ``<out>/results.jsonl``).
        audio: render WAV where fluidsynth is installed.
        view: learn and score in this view (``data.view``) instead of the model's
            (a track's view).
        max_length: cut whole pieces into examples of at most this many time steps
            (``data.max_length``; a track's, for data sets of long pieces).
        score_beats: score samples, test pieces and ceilings over their first this many
            beats (``data.score_beats``; a track's, so that lengths do not differ).
        extra_row: keys added to the row (the official grid's track and code hash).
        track: the official track the run is a cell of: the config's ``track_settings``
            for it apply (:func:`~musebench.experiments.config.resolve_track_settings`).

    Returns:
        The result on rank 0, None on other ranks.

    Raises:
        ValueError: unknown model or preset, unknown config key, or a results store that
            cannot take the row (checked before training, :func:`check_store`).
        KeyError: unknown dataset.
        RowNotStoredError: the finished run's row could not be appended (it is kept in
            the run folder, :mod:`musebench.experiments.row_keeper`).
        RuntimeError: training diverged (NaN/inf loss).
        FileNotFoundError: ``resume`` without a checkpoint of these settings.
        FileExistsError: ``resume`` of a run whose row is already in the store.
    """
    model_cls = get_model(model_name)
    config = load_config(model_name, preset, overrides, track=track)
    if dataset:
        config["data"]["source"] = dataset
    if precision:
        config["trainer"]["precision"] = precision
    if view:
        config["data"]["view"] = view
    if max_length is not None:
        config["data"]["max_length"] = max_length
    if score_beats is not None:
        config["data"]["score_beats"] = score_beats
    folder = run_folder(Path(out), config, seed)
    checkpoint = folder / "checkpoints" / "last.ckpt"
    results = results or Path(out) / "results.jsonl"
    if resume and not checkpoint.exists():
        raise FileNotFoundError(f"{checkpoint}: nothing to resume from")
    check_store(results)
    if resume and any(row.get("folder") == str(folder) for row in read_rows(results)):
        raise FileExistsError(f"{folder}: this run finished and its row is in {results}; "
                              "nothing to resume (delete the folder to run it again)")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / "config.yaml", yaml.safe_dump(dict(config, seed=seed)))

    pl.seed_everything(seed, workers=True)
    model = model_cls(**config["model"])
    data = build_datamodule(config, model, seed, data_root)
    train, valid, test = (data.pieces(s) for s in ("train", "valid", "test"))
    run_name = f"{config['name']}-{config['data']['source']}-s{seed}-{uuid.uuid4().hex[:6]}"
    tags = tracking.run_tags(config, str(config["trainer"].get("precision", "32-true")))
    logger = tracking.bench_logger(folder, dict(config, seed=seed), tags, run_name, resume)

    try:  # the W&B run is closed however the run ends
        started = time.perf_counter()
        model.fit_statistics(train, valid)
        budget = run_budget(config, data)
        trainer = build_trainer(config, model, folder, logger, devices, precision, strategy,
                                num_nodes, max_epochs=budget["max_epochs"],
                                epoch_share=budget["epoch_share"])
        if budget["max_epochs"] != 0:
            trainer.fit(model, datamodule=data, ckpt_path=str(checkpoint) if resume else None)
            restore_best(model, trainer)
        train_seconds = time.perf_counter() - started
        if not trainer.is_global_zero:
            return None
        return sample_score_record(model, config, seed, data, (train, test), folder,
                                   run_name, logger, train_seconds, audio, results,
                                   budget=budget,
                                   view=view, extra_row=extra_row)
    finally:
        tracking.finish(logger)


def sample_score_record(model: MusicGenerator, config: dict[str, Any], seed: int, data: Any,
                        splits: tuple[list[Any], list[Any]], folder: Path, run_name: str,
                        logger: Any, train_seconds: float, audio: bool,
                        results: Path, *, budget: dict[str, Any],
                        view: str | None = None,
                        extra_row: dict[str, Any] | None = None) -> BenchResult:
    """The rank-0 stage of :func:`bench`: generate, write, score, append the row, and log
    samples and metrics into the run's one W&B run (``logger``, None when tracking is off).

    Args:
        model: the trained model (best checkpoint restored).
        config: the run's config.
        seed: the run's seed (sampling).
        data: the run's data module (its test loader serves the likelihood metrics).
        splits: the (train, test) pieces.
        folder: the run folder.
        run_name: the row's ``run_id``.
        logger: the run's W&B logger, or None.
        train_seconds: wall time of statistics and training.
        audio: render WAV where fluidsynth is installed.
        results: the results store.
        budget: the run's :func:`run_budget` (the row's ``budget``, with the training
            minutes added).
        view: the view to score in (default the model's).
        extra_row: keys added to the row.

    Returns:
        The run's result.
    """
    preset = config["preset"]
    train, test = splits
    model.eval()
    n = int(config["generate"]["n"])
    started = time.perf_counter()
    samples = model.generate(**config["generate"], conditions=test, seed=seed)
    sample_seconds = time.perf_counter() - started
    mark_conditions(model, samples, test)
    # every sample is scored against its conditioning piece's own chords
    # (experiments/conditions.py); only a conditional model's written samples carry them as
    # their chord track: an unconditional model followed no chords
    rechorded = with_condition_chords(samples, test)
    written = write_samples(rechorded if model.conditional else samples, folder / "samples",
                            audio=audio, title=config["name"])
    samples = rechorded
    model.write_figures(samples, folder / "figures")

    # melody models are scored against melodies, polyphonic ones against full pieces,
    # unless a track names the view
    view = view or model.view
    beats = data.score_beats
    samples = apply_view(samples, view)
    # what the model generated, before the cut: a row whose samples are shorter than the
    # track's scored length says so
    sample_beats = float(np.median([p.n_steps / p.steps_per_beat for p in samples]))
    samples = first_beats(samples, beats)
    metrics = score_in_view(samples, test, train, view, beats=beats)
    metrics.update(collapse_metrics(model, samples, test, train, view, seed,
                                    config["generate"], beats))
    if model.has_likelihood:
        data.setup("test")
        metrics.update(likelihood_metrics(model, data.test_dataloader()))
    write_atomically(folder / "metrics.json", strict_json(metrics, indent=1))

    row = {
        "run_id": run_name,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": config["name"],
        "dataset": config["data"]["source"],
        "preset": preset,
        "view": view,
        **({"score_beats": beats} if beats is not None else {}),
        "sample_beats": round(sample_beats, 2),
        "seed": seed,
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        "hardware": hardware(),
        "precision": str(config["trainer"].get("precision", "32-true")),
        "train_seconds": round(train_seconds, 3),
        "samples_per_second": round(n / max(sample_seconds, 1e-9), 3),
        "n_samples": n,
        "folder": str(folder),
        "metrics": metrics,
        "ceiling": ceiling_metrics(model, test, train, view, beats),
        "budget": {**budget, "minutes": round(train_seconds / 60, 2)},
        **(extra_row or {}),
    }
    record_row(row, results, folder)
    tracking.log_samples(logger, run_name, written.png, written.wav, folder / "samples")
    tracking.log_sample_table(logger, written.png, written.wav, samples)
    tracking.log_metrics(logger, metrics, row)
    return BenchResult(folder, row, folder / "samples")


def run_budget(config: dict[str, Any], data: Any) -> dict[str, Any]:
    """What the run trains for, as its row records it: the config's ``train_timesteps``
    budget (None for an epoch-bounded preset), the time steps of one training epoch on
    this data set, the epochs trained and the share of each epoch's batches
    (:func:`~musebench.experiments.trainer.training_schedule`)."""
    per_epoch: list[int] = []

    def timesteps_per_epoch() -> int:
        per_epoch.append(data.timesteps("train"))
        return per_epoch[-1]

    epochs, share = training_schedule(config, timesteps_per_epoch,
                                      lambda: len(data.train_dataloader()))
    return {"train_timesteps": config.get("train_timesteps"), "max_epochs": epochs,
            "epoch_share": share, "timesteps_per_epoch": per_epoch[0] if per_epoch else None}


def mark_conditions(model: MusicGenerator, samples: list[Any], conditions: list[Any]) -> None:
    """Name each sample's condition in its ``meta['condition']`` (written to its MIDI) where
    a conditional model did not: :meth:`MusicGenerator.generate` cycles the conditions in
    order, so sample ``i`` follows ``conditions[i % len(conditions)]``. Listening tests
    pair samples of one condition by it."""
    if model.conditional:
        for piece, condition in zip(samples, model.cycle(conditions, len(samples)) or [],
                                    strict=False):
            piece.meta.setdefault("condition", condition.id)


def build_datamodule(config: dict[str, Any], model: MusicGenerator, seed: int,
                         data_root: Path | None) -> Any:
    """The run's :class:`MusicDataModule` on the model's codec."""
    from musebench.datasets.datamodule import MusicDataModule

    kwargs = dict(config["data"])
    kwargs.setdefault("seed", seed)
    if data_root is not None:
        kwargs["data_root"] = data_root
    return MusicDataModule(codec=model.codec, **kwargs)
