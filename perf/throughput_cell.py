"""One cell of ``make perf``'s model section: one model at one preset, in its own process.

``python -m musebench.perf.throughput_cell --model M --preset P --out cell.json``
builds the preset's model and data exactly as a bench run does (config, codec, datamodule,
``fit_statistics``), then for each ``--precision`` trains a fresh model (same seed) through a
Lightning Trainer for ``--warmup`` + 1 FLOP-counted + ``--steps`` timed batches (fewer once
they took ``--max-seconds``; :class:`~musebench.perf.throughput.ThroughputMeter`), in the
same fit followed by the ``--busy`` window (``32-true``; with it, where the process runs
more than one thread, the idle and busy windows at one thread) and the ``--profile`` batches
(:class:`~musebench.perf.phases.Phases`), with validation, checkpoints and logging off so
only training is measured; then, where the preset states a ``train_timesteps`` budget, the
minutes of training that budget buys at the fp32 rate (``budget``: equal budgets should
read equal minutes); where padding took more than :data:`PADDED_SHARE` of the idle fp32
window's steps, trains a third fit, fp32, on length-grouped batches of the same data
(``train_length_grouped``; :mod:`~musebench.datasets.length_grouped`), with both orders'
share of real steps over a whole epoch (``padding``); then times ``generate(--generate)`` with the
model as initialised (a step costs what a trained model's does, but where a model learns how
long its samples are, such as C-RNN-GAN's note durations, an untrained model's bars are few:
its bars/s says little, its samples/s is given too). A model whose
config trains 0 epochs (it learns in ``fit_statistics``) is measured on generation only.
Rank 0 writes the figures as JSON to ``--out``, with ``cell_seconds``: the cell's wall
time, data set-up to the last generated sample (what the cell adds to ``make perf``'s
minutes).

Several ``--model`` names are measured in turn in one process (``--out`` an existing
folder: one ``<model>.json`` each as it finishes, an exception its ``error``): ``make perf`` pays the imports once. Each
measurement resets the peak memory it reports (:func:`~musebench.perf.throughput.
reset_peak_memory`), so it is that of one model's fit. ``--devices 2 --strategy ddp`` works
as in a bench run: Lightning's launcher re-runs this same command once per extra rank
(hence the ``__main__`` guard).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from musebench.datasets.length_grouped import padding_efficiency
from musebench.datasets.sources.base import SourceError
from musebench.experiments.bench import build_datamodule
from musebench.experiments.config import load_config
from musebench.experiments.trainer import RankSeed, ThreadsPerProcess, resolve_strategy
from musebench.models import get_model
from musebench.perf.contention import busy_processes
from musebench.perf.operators import OperatorProfile
from musebench.perf.phases import Phases
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
#: The training windows measured after the idle one, each over the idle ``32-true`` one
#: in the report (:func:`musebench.perf.models.add_ratios`): beside competing busy
#: processes, at one thread, and both.
WINDOWS: tuple[str, ...] = ("train_busy", "train_one_thread", "train_one_thread_busy")
#: A cell whose idle fp32 window computed more than this share of padded steps is measured
#: again on length-grouped batches.
PADDED_SHARE = 0.05


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


def measure_precision(model_name: str, config: dict[str, Any], data: Any, precision: str,
                      devices: int, strategy: str, warmup: int, steps: int,
                      max_seconds: float | None = None, busy: int = 0,
                      profile: int = 0, count_flops: bool = True) -> dict[str, Any]:
    """Every training figure of one precision, in one fit of a fresh model
    (:func:`fit_measured`) whose measurements follow each other
    (:class:`~musebench.perf.phases.Phases`): ``warmup`` batches, one FLOP-counted (with
    ``count_flops``, in one process), up to ``steps`` timed (at least 3, at most
    ``max_seconds`` once 3 are timed); then, with ``busy``, the same window beside that many
    competing busy processes (after the one untimed batch every window starts with), and
    where this process trains on a CPU with more than one thread, the idle and the busy
    window again at one thread (:func:`one_thread`: whether fewer threads would serve the
    model better, idle or on a shared machine); then, with ``profile``, the next that many
    batches under the profiler.

    Returns:
        ``{"train": ...}``: :meth:`ThroughputMeter.result` plus ``peak_memory_bytes`` (of the
        idle window), ``world_size`` and ``threads``; ``train_busy`` (the same, with
        ``busy_processes``), ``train_one_thread`` and ``train_one_thread_busy`` (the same)
        and ``profile`` (:meth:`OperatorProfile.result`) when asked for; ``is_global_zero``.
    """
    single = devices == 1
    parts: dict[str, Any] = {}
    # the windows after the idle one: (result key, competing processes, one thread?)
    windows: list[tuple[str, int, bool]] = []
    if busy and single:
        windows.append(("train_busy", busy, False))
    if busy and single and torch.get_num_threads() > 1 and not torch.cuda.is_available():
        windows += [("train_one_thread", 0, True), ("train_one_thread_busy", busy, True)]

    def make_phases(model: Any) -> Phases:
        parts["idle"] = ThroughputMeter(model.codec, warmup, steps,
                                        count_flops=single and count_flops,
                                        max_seconds=max_seconds, stop_fit=False)
        phases: list[tuple[Any, Any]] = [(parts["idle"], None)]
        for key, competing, alone in windows:
            parts[key] = ThroughputMeter(model.codec, 0, steps, count_flops=False,
                                         max_seconds=max_seconds, stop_fit=False)
            phases.append((parts[key], (lambda c=competing: one_thread(c)) if alone
                           else (lambda c=competing: busy_processes(c))))
        if profile and single:
            parts["profile"] = OperatorProfile(warmup=0, batches=profile, stop_fit=False)
            phases.append((parts["profile"], None))
        parts["phases"] = Phases(phases)
        return parts["phases"]

    trainer, _ = fit_measured(model_name, config, data, precision, devices, strategy,
                              make_phases)
    memory = parts["phases"].peak_memory
    common = {"world_size": trainer.world_size, "threads": torch.get_num_threads()}
    result: dict[str, Any] = {
        "train": {**parts["idle"].result(), "peak_memory_bytes": memory[0] if memory else None,
                  **common},
        "is_global_zero": trainer.is_global_zero}
    for key, competing, alone in windows:
        result[key] = {"busy_processes": competing, **parts[key].result(), **common,
                       **({"threads": 1} if alone else {})}
    if "profile" in parts:
        result["profile"] = parts["profile"].result()
    return result


@contextmanager
def one_thread(busy: int = 0) -> Iterator[None]:
    """torch on one thread for the block (the thread count restored after), beside ``busy``
    competing busy processes (:func:`~musebench.perf.contention.busy_processes`)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with busy_processes(busy):
            yield
    finally:
        torch.set_num_threads(threads)


def with_flops(figures: dict[str, Any], measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``figures`` of a precision whose batch FLOPs were not counted, with the FLOPs per
    padded step counted under another precision in ``measured`` (a training step's
    arithmetic does not depend on the precision it runs in) and the FLOP/s they give."""
    if math.isfinite(figures["flops_per_padded_step"]) or not measured:
        return figures
    counted = next(iter(measured.values()))["flops_per_padded_step"]
    return {**figures, "flops_per_padded_step": counted,
            "achieved_flops_per_s": counted * figures["padded_steps_per_s"]}


def padding_figures(data: Any, grouped: Any) -> dict[str, float]:
    """Real steps over computed steps in the first training epoch (``batch_size``; one
    process) of ``data`` in its own order and of ``grouped``, the same data
    length-grouped."""
    lengths = data.lengths("train")
    return {module.batching: padding_efficiency(
                lengths, list(module.sampler("train", shuffle=True)), data.batch_size)
            for module in (data, grouped)}


def measure_length_grouped(model_name: str, config: dict[str, Any], data: Any,
                           fp32: dict[str, Any], devices: int, strategy: str, warmup: int,
                           steps: int, max_seconds: float | None) -> dict[str, Any]:
    """The fp32 idle window again on length-grouped batches of the same data (its
    examples shared, not encoded again) where padding took more than
    :data:`PADDED_SHARE` of ``fp32``'s steps: ``train_length_grouped`` and ``padding``
    (:func:`padding_figures`); nothing where the batches are not padded, already grouped,
    or the cell runs several processes."""
    real = fp32.get("time_steps_per_s") or 0.0
    computed = fp32.get("padded_steps_per_s") or 0.0
    if (devices != 1 or data.batching == "length_grouped" or not computed
            or real / computed >= 1 - PADDED_SHARE):
        return {}
    grouped = data.with_batching("length_grouped")
    result = measure_precision(model_name, config, grouped, "32-true", devices, strategy,
                               warmup, steps, max_seconds, count_flops=False)
    return {"train_length_grouped": result["train"], "padding": padding_figures(data, grouped)}


def budget_minutes(train_timesteps: int, timesteps_per_epoch: int, batches_per_epoch: int,
                   batches_per_s: float) -> float:
    """Minutes of training steps that a ``train_timesteps`` budget buys at ``batches_per_s``:
    it trains ``train_timesteps / timesteps_per_epoch`` epochs' worth of batches
    (:func:`~musebench.experiments.trainer.training_schedule`), each epoch
    ``batches_per_epoch`` of them. Equal budgets (issue #11) are equal minutes here, on one
    machine under one load; validation, checkpoints and sampling are not counted."""
    batches = train_timesteps / timesteps_per_epoch * batches_per_epoch
    return batches / batches_per_s / 60


def budget_figures(config: dict[str, Any], data: Any, fp32: dict[str, Any]) -> dict[str, Any]:
    """The config's ``train_timesteps`` budget on the cell's data set, and the minutes of
    training it buys at the cell's measured fp32 rate (:func:`budget_minutes`)."""
    per_epoch, batches = data.timesteps("train"), len(data.train_dataloader())
    rate = fp32["batches_timed"] / fp32["seconds"]
    return {"train_timesteps": config["train_timesteps"], "timesteps_per_epoch": per_epoch,
            "batches_per_epoch": batches, "fp32_batches_per_s": rate,
            "fp32_minutes": budget_minutes(config["train_timesteps"], per_epoch, batches, rate)}


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
                 profile: int = 0, max_seconds: float | None = None) -> dict[str, Any] | None:
    """Every figure of one (model, preset) cell; None on ranks other than 0.

    Args:
        model_name: a registered model.
        preset: config preset (model size, batch size and data set).
        precisions: Trainer precisions to train with, in turn (e.g. ``32-true``).
        devices: Trainer devices (processes on CPU).
        strategy: Trainer strategy (``auto``, ``ddp``).
        warmup: untimed batches first.
        steps: timed batches (at most).
        generate: samples to generate and time (0: none).
        sample_set: also time the preset's own sample set (its config's ``generate``
            section: ``n`` and the other options), as ``generate_set``.
        busy: competing busy processes (:func:`~musebench.perf.contention.busy_processes`)
            beside a second ``32-true`` training measurement, ``train_busy``, and the idle
            and busy windows again at one thread, ``train_one_thread(_busy)`` (0: none).
        profile: training batches profiled per precision (``profile``, 0: none).
        max_seconds: a timed window ends after this long once 3 batches are timed.
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
        for index, precision in enumerate(precisions):
            result = measure_precision(model_name, config, data, precision, devices, strategy,
                                       warmup, steps, max_seconds,
                                       busy if precision == "32-true" else 0, profile,
                                       count_flops=index == 0)
            if not result["is_global_zero"]:
                return None
            cell["train"][precision] = with_flops(result["train"], cell["train"])
            for window in WINDOWS:
                if window in result:
                    cell[window] = result[window]
            if "profile" in result:
                cell.setdefault("profile", {})[precision] = result["profile"]
        fp32 = cell["train"].get("32-true", {})
        if config.get("train_timesteps") and fp32.get("batches_timed"):
            cell["budget"] = budget_figures(config, data, fp32)
        if fp32:
            cell.update(measure_length_grouped(model_name, config, data, fp32, devices,
                                               strategy, warmup, steps, max_seconds))
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
    parser.add_argument("--model", nargs="+", required=True,
                        help="models measured in turn in this process")
    parser.add_argument("--preset", required=True)
    parser.add_argument("--precision", nargs="+", default=["32-true"])
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="end a timed window after this long once 3 batches are timed")
    parser.add_argument("--generate", type=int, default=0)
    parser.add_argument("--sample-set", action="store_true",
                        help="also time the preset's own sample set (config's generate)")
    parser.add_argument("--busy", type=int, default=0,
                        help="competing busy processes beside a second 32-true measurement")
    parser.add_argument("--profile", type=int, default=0,
                        help="training batches profiled per precision (operator table)")
    parser.add_argument("--out", type=Path, required=True,
                        help="the cell's JSON file; an existing folder: one <model>.json "
                             "each, written as each model finishes")
    args = parser.parse_args(argv)
    folder = args.out.is_dir()
    if len(args.model) > 1 and not folder:
        parser.error(f"--out {args.out}: several models need an existing folder")
    for model in args.model:
        started = time.perf_counter()
        try:
            cell = measure_cell(model, args.preset, args.precision, args.devices,
                                args.strategy, args.warmup, args.steps, args.generate,
                                args.sample_set, args.busy, args.profile, args.max_seconds)
        except Exception as error:  # noqa: BLE001 - one model's failure is its cell's figure
            if not folder:
                raise
            cell = {"error": f"{type(error).__name__}: {error}"}
        if cell is not None:
            cell["cell_seconds"] = time.perf_counter() - started
            write_atomically(args.out / f"{model}.json" if folder else args.out,
                             json.dumps(cell, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
