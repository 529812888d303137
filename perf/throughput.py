"""Training throughput measured inside a real Lightning fit, and peak memory.

:class:`ThroughputMeter` is a callback: it lets ``warmup`` batches pass, counts the FLOPs of
the next batch (:func:`~musebench.perf.flops.counting_flops`, untimed), then times
``steps`` batches (or fewer, at least ``min_steps``, once the timed ones took
``max_seconds``: a slow model's figure in seconds, a fast one's over many batches) from the
end of the last untimed batch (with no warm-up and no FLOP count, from the start of the
first timed one) to the end of the last timed one and stops the fit (or only
says it is ``done``, for :class:`~musebench.perf.phases.Phases`); the figures are medians of
the timed batches' rates. Everything a real run
does per batch is inside the window: the data loader and collate, ``training_step`` with the
GANs' manual optimisation or the optimiser closure, backward, gradient clipping, precision
plugins and DDP's gradient all-reduce.

Counted per batch (from the collated tensors and the codec, never from the model's name):
samples (the batch size), time steps (:func:`time_steps`: real steps, padding excluded) and
padded steps (the tensor positions, which is what the FLOPs scale with).

Peak memory: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident
set (``VmHWM``, which :func:`reset_peak_memory` resets on Linux, so measurements taken in
turn in one process each get their own peak; elsewhere ``ru_maxrss``, never reset).
"""

from __future__ import annotations

import math
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from musebench.datasets.codecs import Codec
from musebench.datasets.datamodule import batch_timesteps
from musebench.perf.flops import counting_flops

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def time_steps(batch: dict[str, torch.Tensor], codec: Codec) -> tuple[int, int, int]:
    """``(samples, time steps, padded steps)`` of a collated batch of ``codec``.

    The batch's first time array (``codec.time_keys[0]``) is ``(B, T, ...)``; a ``lengths``
    tensor (added by collate when examples differ in length) gives the real steps of each
    example. Each index of the time axis is ``codec.steps_per_index`` steps (a bar roll's
    time axis counts bars).
    """
    times = batch[codec.time_keys[0]]
    samples, length = int(times.shape[0]), int(times.shape[1])
    return (samples, batch_timesteps(batch, codec) * codec.steps_per_index,
            samples * length * codec.steps_per_index)


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory measurement (CUDA stats; Linux ``clear_refs`` on CPU)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    elif _CLEAR_REFS.exists():
        try:
            _CLEAR_REFS.write_text("5")
        except OSError:
            pass  # not permitted here: the peak is then the process's peak so far


def peak_memory_bytes(device: torch.device) -> int:
    """Peak memory since :func:`reset_peak_memory`: CUDA allocated bytes, else peak RSS."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    if _STATUS.exists():
        found = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
        if found:
            return int(found.group(1)) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work, so a timer read after it includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class ThroughputMeter(pl.Callback):
    """Times ``steps`` training batches after ``warmup`` ones and a FLOP-counted one, then
    stops the fit; see the module docstring.

    Each timed batch's duration runs from the end of the batch before it to its own end, so
    it holds that batch's loading too. The figures are medians over the timed batches of
    each batch's rate: a busy machine's stalls hit a few batches hard, and the median leaves
    them out where a total over the window would not (the total is reported as well).

    Args:
        codec: the model's codec (time steps of a batch).
        warmup: batches run before anything is measured.
        steps: batches timed.
        count_flops: count the FLOPs of one batch between the warm-up and the timed ones.
        max_seconds: stop timing once the timed batches took this long (None: never)...
        min_steps: ...and at least this many were timed.
        stop_fit: stop the fit when done (False: leave that to the caller).
    """

    def __init__(self, codec: Codec, warmup: int, steps: int, count_flops: bool = True,
                 max_seconds: float | None = None, min_steps: int = 3,
                 stop_fit: bool = True) -> None:
        if steps < 1 or warmup < 0 or min_steps < 1:
            raise ValueError(f"need steps >= 1, min_steps >= 1 and warmup >= 0, got {steps}, "
                             f"{min_steps} and {warmup}")
        self.codec = codec
        self.warmup = warmup
        self.steps = steps
        self.count_flops = count_flops
        self.max_seconds = max_seconds
        self.min_steps = min(min_steps, steps)
        self.stop_fit = stop_fit
        self.done = False
        self.batches = 0
        self.counts: list[tuple[int, int, int]] = []  # per timed batch: samples, steps, padded
        self.durations: list[float] = []
        self.flops_per_padded_step: float | None = None
        self._counter: Any = None
        self._counted_padded = 0
        self._last_end = 0.0

    @property
    def _flop_batch(self) -> int:
        return self.warmup if self.count_flops else -1

    @property
    def _first_timed(self) -> int:
        return self.warmup + int(self.count_flops)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                             batch: Any, batch_idx: int) -> None:
        counts = time_steps(batch, self.codec)
        if self.batches == self._flop_batch:
            self._counted_padded = counts[2]
            self._counter = counting_flops()
            self._counter.__enter__()
        elif self.batches >= self._first_timed:
            if self.batches == 0:  # no untimed batch ends before it: time it from its start
                synchronize(pl_module.device)
                self._last_end = time.perf_counter()
            self.counts.append(counts)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self.flops_per_padded_step = self._counter.get_total_flops() / self._counted_padded
            self._counter = None
        self.batches += 1
        if self.batches < self._first_timed:
            return
        synchronize(pl_module.device)
        now = time.perf_counter()
        if self.batches > self._first_timed:
            self.durations.append(now - self._last_end)
        self._last_end = now
        timed = len(self.durations)
        out_of_time = (self.max_seconds is not None and timed >= self.min_steps
                       and sum(self.durations) >= self.max_seconds)
        if timed == self.steps or out_of_time:
            self.done = True
            trainer.should_stop = trainer.should_stop or self.stop_fit

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Sum each timed batch's counts over the ranks (DDP: each rank saw its own part)."""
        counts = torch.tensor(self.counts[: len(self.durations)], dtype=torch.float64)
        if trainer.world_size > 1:
            counts = trainer.strategy.reduce(counts.to(pl_module.device), reduce_op="sum")
        self.counts = [tuple(int(v) for v in row) for row in counts.cpu().tolist()]

    def result(self) -> dict[str, float]:
        """Median per-batch rates of the timed batches, the window's total rate, and FLOP/s
        (FLOPs per padded step times the median padded steps/s); NaN where nothing was
        timed."""
        timed = len(self.durations)
        counts = torch.tensor(self.counts[:timed], dtype=torch.float64).reshape(timed, 3)
        seconds = torch.tensor(self.durations, dtype=torch.float64)
        if timed:
            samples, steps, padded = torch.quantile(counts / seconds[:, None], 0.5, dim=0)
        else:
            samples = steps = padded = torch.tensor(math.nan)
        total = float(seconds.sum()) if timed else math.nan
        flops_per_step = self.flops_per_padded_step or math.nan
        return {
            "batches_timed": timed,
            "seconds": total,
            "samples_per_s": float(samples),
            "time_steps_per_s": float(steps),
            "padded_steps_per_s": float(padded),
            "mean_samples_per_s": float(counts[:, 0].sum()) / total,
            "flops_per_padded_step": flops_per_step,
            "achieved_flops_per_s": flops_per_step * float(padded),
        }
