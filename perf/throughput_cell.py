"""One cell of ``make perf``'s model section: one model at one preset, in its own process.

``python -m musebench.perf.throughput_cell --model M --preset P --out cell.json``
builds the preset's model and data exactly as a bench run does (config, codec, datamodule,
``fit_statistics``), then for each ``--precision`` trains a fresh model (same seed) through a
Lightning Trainer for ``--warmup`` + 1 FLOP-counted + ``--steps`` timed batches
(:class:`~musebench.perf.throughput.ThroughputMeter`), with validation, checkpoints and
logging off so only training is measured; then times ``generate(--generate)`` with the
model as initialised (a step costs what a trained model's does, but where a model learns how
long its samples are, such as C-RNN-GAN's note durations, an untrained model's bars are few:
its bars/s says little, its samples/s is given too). A model whose
config trains 0 epochs (it learns in ``fit_statistics``) is measured on generation only.
Rank 0 writes the figures as JSON to ``--out``.

A fresh process per cell makes the peak memory that of this model alone, and lets
``--devices 2 --strategy ddp`` work as in a bench run: Lightning's launcher re-runs this same
command once per extra rank (hence the ``__main__`` guard).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from musebench.datasets.sources.base import SourceError
from musebench.experiments.bench import build_datamodule
from musebench.experiments.config import load_config
from musebench.experiments.trainer import RankSeed, ThreadsPerProcess, resolve_strategy
from musebench.models import get_model
from musebench.perf.contention import busy_processes
from musebench.perf.operators import OperatorProfile
from musebench.perf.throughput import (
    ThroughputMeter,
    peak_memory_bytes,
    reset_peak_memory,
    synchronize,
)
from musebench.util import write_atomically

#: ``trainer`` config keys that change what one training batch costs; the schedule,
#: validation, logging and device keys are the measurement's own.
COST_KEYS: tuple[str, ...] = ("gradient_clip_val", "gradient_clip_algorithm",
                              "accumulate_grad_batches")
SEED = 0


def trains(config: dict[str, Any]) -> bool:
    """Whether the bench would call ``Trainer.fit`` for this config (``max_epochs`` != 0)."""
    return config["trainer"].get("max_epochs", 1) != 0


def fit_measured(model_name: str, config: dict[str, Any], data: Any, precision: str,
                 devices: int, strategy: str,
                 make_callback: Callable[[Any], pl.Callback]) -> tuple[pl.Trainer, int]:
    """Train a fresh model (seed :data:`SEED`) until the callback that ``make_callback(model)``
    returns stops the fit.

    The Trainer has the bench's per-process set-up (:mod:`musebench.experiments.trainer`:
    per-rank seeds, CPU threads shared among the processes, DDP's unused-parameter detection
    where the model asks for it) and the config's :data:`COST_KEYS`; validation, checkpoints
    and logging are off. Returns the Trainer and the peak memory (bytes) of the fit.
    """
    pl.seed_everything(SEED, workers=True)
    model = get_model(model_name)(**config["model"])
    model.fit_statistics(data.pieces("train"), data.pieces("valid"))
    callback = make_callback(model)
    kwargs = {k: v for k, v in config["trainer"].items() if k in COST_KEYS}
    trainer = pl.Trainer(
        accelerator="auto", devices=devices, strategy=resolve_strategy(strategy, model),
        precision=precision, max_epochs=-1, limit_val_batches=0, num_sanity_val_steps=0,
        logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=[RankSeed(), ThreadsPerProcess(), callback],
        **kwargs)
    device = trainer.strategy.root_device
    reset_peak_memory(device)
    trainer.fit(model, datamodule=data)
    return trainer, peak_memory_bytes(device)


def measure_training(model_name: str, config: dict[str, Any], data: Any, precision: str,
                     devices: int, strategy: str, warmup: int, steps: int) -> dict[str, Any]:
    """Throughput, FLOPs and peak memory of ``steps`` timed training batches of a fresh model
    (:func:`fit_measured`). Returns the figures of :meth:`ThroughputMeter.result` plus
    ``peak_memory_bytes``, ``world_size`` and ``threads`` (this process's torch threads).
    """
    meters: list[ThroughputMeter] = []

    def make_meter(model: Any) -> ThroughputMeter:
        meters.append(ThroughputMeter(model.codec, warmup, steps, count_flops=devices == 1))
        return meters[0]

    trainer, memory = fit_measured(model_name, config, data, precision, devices, strategy,
                                   make_meter)
    meter = meters[0]
    return {**meter.result(), "peak_memory_bytes": memory,
            "world_size": trainer.world_size, "threads": torch.get_num_threads(),
            "is_global_zero": trainer.is_global_zero}


def profile_training(model_name: str, config: dict[str, Any], data: Any, precision: str,
                     batches: int) -> dict[str, Any]:
    """The top operators by self time of ``batches`` training batches after two warm-up
    ones (:class:`~musebench.perf.operators.OperatorProfile`), in one process."""
    profiler = OperatorProfile(warmup=2, batches=batches)
    fit_measured(model_name, config, data, precision, 1, "auto", lambda model: profiler)
    return profiler.result()


def measure_generation(model: Any, n: int, conditions: list,
                       options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Bars per second of ``model.generate(n, **options)`` (bars = generated steps / steps
    per bar)."""
    model.eval()
    device = model.device
    reset_peak_memory(device)
    started = time.perf_counter()
    with torch.no_grad():
        pieces = model.generate(n, conditions=conditions, seed=SEED, **(options or {}))
    synchronize(device)
    seconds = time.perf_counter() - started
    bars = sum(p.n_steps / p.steps_per_bar for p in pieces)
    return {"n": n, "seconds": seconds, "samples_per_s": n / seconds, "bars": bars,
            "bars_per_s": bars / seconds,
            "peak_memory_bytes": peak_memory_bytes(device)}


def measure_cell(model_name: str, preset: str, precisions: list[str], devices: int = 1,
                 strategy: str = "auto", warmup: int = 2, steps: int = 5,
                 generate: int = 0, sample_set: bool = False, busy: int = 0,
                 profile: int = 0) -> dict[str, Any] | None:
    """Every figure of one (model, preset) cell; None on ranks other than 0.

    Args:
        model_name: a registered model.
        preset: config preset (model size, batch size and data set).
        precisions: Trainer precisions to train with, in turn (e.g. ``32-true``).
        devices: Trainer devices (processes on CPU).
        strategy: Trainer strategy (``auto``, ``ddp``).
        warmup: untimed batches first.
        steps: timed batches.
        generate: samples to generate and time (0: none).
        sample_set: also time the preset's own sample set (its config's ``generate``
            section: ``n`` and the other options), as ``generate_set``.
        busy: competing busy processes (:func:`~musebench.perf.contention.busy_processes`)
            beside a second ``32-true`` training measurement, ``train_busy`` (0: none).
        profile: training batches profiled per precision (``profile``, 0: none).
    """
    config = load_config(model_name, preset)
    data_root = os.environ.get("MUSEBENCH_DATA")
    pl.seed_everything(SEED, workers=True)
    model = get_model(model_name)(**config["model"])
    data = build_datamodule(config, model, SEED, Path(data_root) if data_root else None)
    try:
        train, valid, test = (data.pieces(s) for s in ("train", "valid", "test"))
    except SourceError as error:  # e.g. a data set that needs MUSEBENCH_DATA
        return {"dataset": config["data"]["source"], "skipped": str(error)}
    model.fit_statistics(train, valid)  # before anything is encoded (a codec may learn here)
    cell: dict[str, Any] = {"dataset": config["data"]["source"],
                            "batch_size": config["data"]["batch_size"],
                            "trains": trains(config), "train": {}}
    if cell["trains"]:
        for precision in precisions:
            result = measure_training(model_name, config, data, precision, devices, strategy,
                                      warmup, steps)
            if not result.pop("is_global_zero"):
                return None
            cell["train"][precision] = result
        if busy and devices == 1:
            with busy_processes(busy):
                result = measure_training(model_name, config, data, "32-true", devices,
                                          strategy, warmup, steps)
            cell["train_busy"] = {"busy_processes": busy, **result}
        if profile and devices == 1:
            cell["profile"] = {precision: profile_training(model_name, config, data, precision,
                                                           profile)
                               for precision in precisions}
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    if generate:
        cell["generate"] = measure_generation(model, generate, test)
    if sample_set:
        options = dict(config.get("generate", {}))
        cell["generate_set"] = measure_generation(model, options.pop("n", generate or 1), test,
                                                  options)
    return cell


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--preset", required=True)
    parser.add_argument("--precision", nargs="+", default=["32-true"])
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--generate", type=int, default=0)
    parser.add_argument("--sample-set", action="store_true",
                        help="also time the preset's own sample set (config's generate)")
    parser.add_argument("--busy", type=int, default=0,
                        help="competing busy processes beside a second 32-true measurement")
    parser.add_argument("--profile", type=int, default=0,
                        help="training batches profiled per precision (operator table)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cell = measure_cell(args.model, args.preset, args.precision, args.devices, args.strategy,
                        args.warmup, args.steps, args.generate, args.sample_set, args.busy,
                        args.profile)
    if cell is not None:
        write_atomically(args.out, json.dumps(cell, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
