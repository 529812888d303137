"""Training throughput measured inside a real Lightning fit, and peak memory.

:class:`ThroughputMeter` is a callback: it lets ``warmup`` batches pass, counts the FLOPs of
the next batch (:func:`~musebench.experiments.flops.counting_flops`, untimed), then times
``steps`` batches from the end of the last untimed batch to the end of the last timed one and
stops the fit. Everything a real run does per batch is inside the window: the data loader and
collate, ``training_step`` with the GANs' manual optimisation or the optimiser closure,
backward, gradient clipping, precision plugins and DDP's gradient all-reduce.

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
from musebench.experiments.flops import counting_flops

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
    real = int(batch["lengths"].sum()) if "lengths" in batch else samples * length
    return samples, real * codec.steps_per_index, samples * length * codec.steps_per_index


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

    Args:
        codec: the model's codec (time steps of a batch).
        warmup: batches run before anything is measured.
        steps: batches timed.
        count_flops: count the FLOPs of one batch between the warm-up and the timed ones.
    """

    def __init__(self, codec: Codec, warmup: int, steps: int, count_flops: bool = True) -> None:
        if steps < 1 or warmup < 0:
            raise ValueError(f"need steps >= 1 and warmup >= 0, got {steps} and {warmup}")
        self.codec = codec
        self.warmup = warmup
        self.steps = steps
        self.count_flops = count_flops
        self.batches = 0
        self.totals = torch.zeros(3, dtype=torch.float64)  # samples, steps, padded steps
        self.flops_per_padded_step: float | None = None
        self.seconds = math.nan
        self._counter: Any = None
        self._counted_padded = 0
        self._started = 0.0

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
            self.totals += torch.tensor(counts, dtype=torch.float64)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self.flops_per_padded_step = self._counter.get_total_flops() / self._counted_padded
            self._counter = None
        self.batches += 1
        if self.batches == self._first_timed:
            synchronize(pl_module.device)
            self._started = time.perf_counter()
        elif self.batches == self._first_timed + self.steps:
            synchronize(pl_module.device)
            self.seconds = time.perf_counter() - self._started
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Sum the counts over every rank (DDP: each rank saw its own batches)."""
        if trainer.world_size > 1:
            self.totals = trainer.strategy.reduce(self.totals.to(pl_module.device),
                                                  reduce_op="sum").cpu()

    def result(self) -> dict[str, float]:
        """Per-second figures of the timed batches (NaN if the fit ended before them)."""
        samples, steps, padded = (float(v) for v in self.totals)
        seconds = self.seconds
        flops = (self.flops_per_padded_step or math.nan) * padded / seconds
        return {
            "batches_timed": self.steps if math.isfinite(seconds) else 0,
            "seconds": seconds,
            "samples_per_s": samples / seconds,
            "time_steps_per_s": steps / seconds,
            "padded_steps_per_s": padded / seconds,
            "flops_per_padded_step": self.flops_per_padded_step or math.nan,
            "achieved_flops_per_s": flops,
        }
