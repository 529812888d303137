"""``make perf`` model section: what training and sampling every registered model costs here.

For every model in :data:`musebench.models.MODELS` (no model is special-cased) at the
standard preset (``--presets smoke standard`` adds the smoke one; the preset's model size,
batch size and data set), one process (:mod:`musebench.perf.throughput_cell`, started once
for all the models of a preset, :func:`run_cells`) measures:

- training throughput in samples/s and time steps/s (the codec's steps: frames, events,
  tokens, 16 per MidiNet bar; padding excluded), the median of the rates of the timed
  batches after a warm-up, through a real Lightning ``Trainer.fit`` (data loader, collate,
  ``training_step`` with manual GAN optimisation, backward, optimiser), at ``32-true`` and
  ``bf16-mixed``, and at ``32-true`` beside one competing busy process (busy/idle), and
  both again at one thread where more are used (1 thread idle and busy over all idle: the
  evidence for the thread count a model should train with, idle and on a shared machine,
  and the count a bench run's own choice would take from them, with the fp32 share of the
  peak there);
- the top operators of a profiled training batch by self time, per precision;
- achieved FLOP/s: matmul FLOPs of one fp32 training batch (``FlopCounterMode`` plus analytic
  formulas for the fused LSTM kernels it misses, :mod:`musebench.perf.flops`) times
  batches/s, as a fraction of this machine's matmul peak of that precision, measured at the
  start and at the end of this same section, the faster kept
  (:func:`~musebench.perf.flops.matmul_peak`);
- generation throughput in bars/s (bars = generated steps / steps per bar) of the preset's
  own sample set (its config's ``generate``: what a bench run generates) at the standard
  preset, of :data:`GENERATE` samples at the others;
- peak memory (peak RSS of the measurement on CPU, ``max_memory_allocated`` on CUDA).

Models that train 0 epochs (they learn in ``fit_statistics``) report generation only. With
``--ddp``, for every model that trains, the smoke preset again with ``--devices 2
--strategy ddp`` (gloo on CPU; Lightning gives each process half the cores): samples/s over
both ranks against the single-process ``32-true`` figure (off by default: two processes on
this machine's two cores measure gloo more than the model; ``make gpu-check`` measures DDP
where it matters). A cell that fails (a data set that is not there, a model that does not
run under DDP) is recorded with its error and the section goes on.

Ratios are measured side by side in one run; on a shared, loaded machine absolute figures
are noisy, ratios less so. Each precision is one fit whose measurements follow each other
(:class:`~musebench.perf.phases.Phases`) and each timed window stops after
:data:`MAX_SECONDS` once 3 batches are timed, which keeps ``make perf`` under its 10 minutes
on 2 CPU cores; the counts are printed with the results.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from musebench.experiments.config import load_config
from musebench.experiments.thread_choice import fastest_threads
from musebench.models import MODELS
from musebench.perf.flops import matmul_peak
from musebench.perf.model_tables import operators_table, table
from musebench.perf.operators import precision_change
from musebench.perf.throughput_cell import WINDOWS, trains
from musebench.util import finite

PRESETS: tuple[str, ...] = ("standard",)
PRECISIONS: tuple[str, ...] = ("32-true", "bf16-mixed")
#: ``preset -> (warm-up batches, timed batches)``. 20 timed batches keep the median
#: steady: with 6, MidiNet's standard bf16/fp32 ratio read 0.98 in one run and 0.51 in
#: the next. The largest standard batch (biaxial on jsb) takes ~0.3 s on 2 CPU cores.
STEPS: dict[str, tuple[int, int]] = {"smoke": (1, 20), "standard": (1, 20)}
#: A timed window ends after this many seconds once 3 batches are timed: a slow model's
#: (biaxial: ~0.3 s a batch, more in bf16 on a CPU without bf16 instructions) figure rests
#: on a few batches, a fast one's on all 20.
MAX_SECONDS = 2.0
#: Samples generated and timed per cell.
GENERATE = 4
DDP_PRESET = "smoke"
DDP_DEVICES = 2
#: The preset measured also with :data:`BUSY` competing busy processes (``32-true``), with
#: its own sample set generated (bars/s of what a bench run generates), and profiled
#: (:data:`PROFILE_BATCHES` batches per precision, the top operators by self time).
DETAIL_PRESET = "standard"
BUSY = 1
PROFILE_BATCHES = 1
#: Seconds a cell may run before it is recorded as timed out.
CELL_TIMEOUT = 600


def cell_command(models: list[str], preset: str, precisions: tuple[str, ...], warmup: int,
                 steps: int, generate: int, out: Path, detail: list[str] | None,
                 *options: str) -> list[str]:
    """The :mod:`throughput_cell` command line measuring ``models`` into ``out`` (a file
    for one model, a folder for several), timed windows ending after :data:`MAX_SECONDS`;
    ``detail`` and ``options`` appended."""
    return [sys.executable, "-m", "musebench.perf.throughput_cell", "--model", *models,
            "--preset", preset, "--precision", *precisions, "--warmup", str(warmup),
            "--steps", str(steps), "--generate", str(generate), "--out", str(out),
            "--max-seconds", str(MAX_SECONDS), *options, *(detail or [])]


def run_cell(model: str, preset: str, precisions: tuple[str, ...], warmup: int, steps: int,
             generate: int, devices: int = 1, strategy: str = "auto",
             detail: list[str] | None = None) -> dict[str, Any]:
    """One :mod:`throughput_cell` process; its JSON, or ``{"error": ...}`` if it failed.
    ``detail``: further :mod:`throughput_cell` options (``--busy 1``, ``--profile 3``,
    ``--sample-set``)."""
    with tempfile.TemporaryDirectory(prefix="musebench-perf-") as folder:
        out = Path(folder) / "cell.json"
        command = cell_command([model], preset, precisions, warmup, steps, generate, out,
                               detail, "--devices", str(devices), "--strategy", strategy)
        returncode, stderr = run_group(command, CELL_TIMEOUT,
                                       dict(os.environ, PYTHONWARNINGS="ignore"))
        if returncode is None:
            return {"error": f"timed out after {CELL_TIMEOUT} s"}
        if returncode != 0 or not out.exists():
            lines = [line for line in stderr.splitlines() if line.strip()]
            return {"error": lines[-1] if lines else f"exit status {returncode}"}
        return json.loads(out.read_text())


def run_cells(models: list[str], preset: str, precisions: tuple[str, ...], warmup: int,
              steps: int, generate: int, detail: list[str] | None = None,
              timeout: float = CELL_TIMEOUT, poll_s: float = 0.5) -> dict[str, dict[str, Any]]:
    """The cells of ``models`` at ``preset``, measured in turn by one :mod:`throughput_cell`
    process (the imports paid once); ``model -> cell``.

    A model that takes more than ``timeout`` seconds, or whose process dies (a crash, not
    an exception: those are the cell's ``error``), gets ``{"error": ...}``; its process
    group is killed and a new process measures the models after it.
    """
    cells: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="musebench-perf-") as folder:
        while len(cells) < len(models):
            remaining = [m for m in models if m not in cells]
            command = cell_command(remaining, preset, precisions, warmup, steps, generate,
                                   Path(folder), detail)
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True,
                                       env=dict(os.environ, PYTHONWARNINGS="ignore"),
                                       start_new_session=True)
            failure = _follow(process, folder, remaining, cells, timeout, poll_s)
            if failure is not None:
                current = next(m for m in remaining if m not in cells)
                cells[current] = {"error": failure}
                print(f"  {current} {preset}: {failure}", flush=True)
    return {m: cells[m] for m in models}


def _follow(process: subprocess.Popen, folder: str, models: list[str],
            cells: dict[str, dict[str, Any]], timeout: float, poll_s: float) -> str | None:
    """Collect each ``<model>.json`` of ``process`` into ``cells`` as it appears; None when
    it ended with all of them, else why it stopped (its group killed at a timeout)."""
    last = time.monotonic()
    while True:
        for model in models:
            path = Path(folder) / f"{model}.json"
            if model not in cells and path.exists():
                cells[model] = json.loads(path.read_text())
                status = cells[model].get("error") or cells[model].get("skipped") or "ok"
                print(f"  {model}: {status}", flush=True)
                last = time.monotonic()
        if all(m in cells for m in models):
            process.communicate()
            return None
        if process.poll() is not None:
            stderr = process.communicate()[1] or ""
            lines = [line for line in stderr.splitlines() if line.strip()]
            return lines[-1] if lines else f"exit status {process.returncode}"
        if time.monotonic() - last > timeout:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"timed out after {timeout:.0f} s"
        time.sleep(poll_s)


def run_group(command: list[str], timeout: float, env: dict[str, str]) -> tuple[int | None, str]:
    """Run ``command`` in a process group of its own; ``(exit status, stderr)``, or
    ``(None, stderr so far)`` after killing the whole group at ``timeout`` seconds.

    Why the group: a cell's data-loader workers, DDP ranks and busy processes are its
    children; killing the cell alone on a timeout left its workers computing for minutes.
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
        return None, stderr or ""
    return process.returncode, stderr or ""


def trains_at(preset: str) -> list[str]:
    """The registered models whose config at ``preset`` trains (``max_epochs`` != 0)."""
    return [model for model in MODELS if trains(load_config(model, preset))]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, None where either is missing or not finite."""
    if numerator is None or denominator is None or not denominator:
        return None
    value = numerator / denominator
    return value if math.isfinite(value) else None


def best_peak(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of several :func:`matmul_peak` measurements, backend by backend (load
    from other processes only ever slows a measurement down); each one is kept under
    ``measurements``."""
    best = dict(measurements[0])
    best["flops_per_s"] = {k: max(m["flops_per_s"][k] for m in measurements)
                           for k in measurements[0]["flops_per_s"]}
    for key in ("peak_fp32", "peak_bf16"):
        best[key] = max(m[key] for m in measurements)
    best["measurements"] = [m["flops_per_s"] for m in measurements]
    return best


def add_ratios(cell: dict[str, Any], peaks: dict[str, Any]) -> None:
    """Put the FLOP/s fraction of the peak (bf16-mixed: the faster of the bf16 and fp32
    peaks) into each precision's figures, the bf16/fp32 and busy/idle training throughput
    ratios into the cell (and, where the one-thread windows ran, one thread idle and busy
    over all threads idle, and the count a bench run would choose from those two
    (:func:`~musebench.experiments.thread_choice.fastest_threads`: ``bench_threads``) with
    the fp32 share of the peak at it), where the cell trained on length-grouped batches too,
    their real time steps/s over the idle fp32 window's (``length_grouped_over_shuffled``),
    and where both precisions were profiled, where the profiled
    batch's time moved from fp32 to bf16 (``bf16_change``,
    :func:`~musebench.perf.operators.precision_change`)."""
    train = cell.get("train", {})
    for precision, figures in train.items():
        # bf16-mixed runs some work in fp32 and may fall back to fp32 kernels (a CPU without
        # bf16 instructions: its bf16 matmul runs at <1 GFLOP/s), so its peak is the faster
        peak = (max(peaks["peak_bf16"], peaks["peak_fp32"]) if precision.startswith("bf16")
                else peaks["peak_fp32"])
        figures["fraction_of_peak"] = ratio(figures.get("achieved_flops_per_s"), peak)
    idle = train.get("32-true", {}).get("samples_per_s")
    for window in WINDOWS:  # train_busy -> busy_over_idle, and so on
        if window in cell:
            cell[f"{window.removeprefix('train_')}_over_idle"] = ratio(
                cell[window].get("samples_per_s"), idle)
    one = cell.get("train_one_thread", {}).get("samples_per_s")
    threads = train.get("32-true", {}).get("threads")
    if idle and one and threads:
        # what a bench run's thread choice picks from these two windows (seconds per sample)
        cell["bench_threads"] = fastest_threads({threads: [1 / idle], 1: [1 / one]})
        fraction = train["32-true"].get("fraction_of_peak")
        speed = one / idle if cell["bench_threads"] == 1 else 1.0
        cell["bench_fraction_of_peak"] = None if fraction is None else fraction * speed
    if "train_length_grouped" in cell:
        cell["length_grouped_over_shuffled"] = ratio(
            cell["train_length_grouped"].get("time_steps_per_s"),
            train.get("32-true", {}).get("time_steps_per_s"))
    if all(p in train for p in ("32-true", "bf16-mixed")):
        cell["bf16_over_fp32"] = ratio(train["bf16-mixed"]["samples_per_s"],
                                       train["32-true"]["samples_per_s"])
    profiles = cell.get("profile", {})
    if all(p in profiles for p in ("32-true", "bf16-mixed")):
        cell["bf16_change"] = precision_change(profiles["32-true"], profiles["bf16-mixed"])


def ddp_unavailable(device: str) -> str | None:
    """Why :data:`DDP_DEVICES` processes cannot run here (one per GPU on CUDA), else None."""
    if device == "cuda" and torch.cuda.device_count() < DDP_DEVICES:
        return f"DDP needs {DDP_DEVICES} GPUs; this machine has {torch.cuda.device_count()}"
    return None


def run(models: list[str] | None = None, presets: tuple[str, ...] = PRESETS,
        steps: dict[str, tuple[int, int]] | None = None, ddp: bool = False,
        generate: int = GENERATE, peak_size: int | None = None,
        detail: bool = True) -> dict[str, Any]:
    """Measure every model (or ``models``) at ``presets``; print the table; return the dict.

    Args:
        models: registered model names (default all of :data:`MODELS`).
        presets: config presets to measure.
        steps: ``preset -> (warm-up, timed)`` batches (default :data:`STEPS`).
        ddp: also measure :data:`DDP_PRESET` with :data:`DDP_DEVICES` DDP processes (that
            preset is then measured too).
        generate: samples generated and timed per cell (but at the detail preset, which
            times the preset's own sample set).
        peak_size: matrix side of the matmul peak (default :func:`matmul_peak`'s).
        detail: at :data:`DETAIL_PRESET`, also measure training beside :data:`BUSY` busy
            processes, the top operators, and the preset's own sample set.

    Returns:
        ``{"config": what was run, "machine_peak": matmul_peak(), "models": {model: {preset:
        cell}}}`` where a cell has ``dataset``, ``batch_size``, ``train`` (per precision:
        samples/s, time steps/s, FLOP/s and its fraction of the peak, peak memory bytes…),
        ``bf16_over_fp32``, ``generate`` (bars/s…), on the DDP preset ``ddp`` (two
        processes' samples/s and ``ddp_over_single``), and on the detail preset
        ``train_busy`` with ``busy_over_idle``, ``profile`` (per precision: top operators)
        and ``generate_set``; or ``error``/``skipped``.
    """
    steps = steps or STEPS
    if ddp and DDP_PRESET not in presets:
        presets = (DDP_PRESET, *presets)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = {"presets": list(presets), "precisions": list(PRECISIONS), "steps": steps,
              "max_seconds": MAX_SECONDS,
              "generate": generate, "ddp": {"preset": DDP_PRESET, "devices": DDP_DEVICES,
                                            "strategy": "ddp"} if ddp else None,
              "device": device, "threads": torch.get_num_threads(),
              "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    print(f"config: {json.dumps(config)}", flush=True)
    first_peak = matmul_peak(device, peak_size)
    models = list(models or MODELS)
    result: dict[str, Any] = {"config": config, "models": {m: {} for m in models}}
    for preset in presets:
        warmup, timed = steps[preset]
        extra = (["--busy", str(BUSY), "--profile", str(PROFILE_BATCHES), "--sample-set"]
                 if detail and preset == DETAIL_PRESET else None)
        print(f"preset {preset}:", flush=True)
        # the detail preset times its own sample set instead of ``generate`` samples
        cells = run_cells(models, preset, PRECISIONS, warmup, timed,
                          generate if extra is None else 0, detail=extra)
        for model, cell in cells.items():
            if ddp and preset == DDP_PRESET and cell.get("trains") and ddp_unavailable(device):
                cell["ddp"] = {"skipped": ddp_unavailable(device)}
            elif ddp and preset == DDP_PRESET and cell.get("trains"):
                cell["ddp"] = run_cell(model, preset, ("32-true",), warmup, timed, 0,
                                       devices=DDP_DEVICES, strategy="ddp")
                figures = cell["ddp"].get("train", {}).get("32-true", {})
                cell["ddp"] = figures or cell["ddp"]
                cell["ddp"]["ddp_over_single"] = ratio(
                    figures.get("samples_per_s"),
                    cell["train"].get("32-true", {}).get("samples_per_s"))
            result["models"][model][preset] = cell
    peaks = best_peak([first_peak, matmul_peak(device, peak_size)])
    print("matmul peak ({}x{}, best of {} at the start and {} at the end): {}".format(
        peaks["size"], peaks["size"], peaks["repeats"], peaks["repeats"],
        ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in peaks["flops_per_s"].items())),
        flush=True)
    result["machine_peak"] = peaks
    for presets_of_model in result["models"].values():
        for cell in presets_of_model.values():
            add_ratios(cell, peaks)
    result = finite(result)
    print(table(result), flush=True)
    print(operators_table(result), flush=True)
    return result
