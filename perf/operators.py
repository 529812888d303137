"""Where a training step's time goes: the operator table of a few batches, by self time.

:class:`OperatorProfile` is a Lightning callback: it lets ``warmup`` batches pass, records
the next ``batches`` batches under :func:`torch.profiler.profile` (CPU activity; CUDA too
where there is a GPU), stops the fit, and keeps the operators that took the most *self*
time (time in the operator itself, not in the operators it calls), so the table names the
kernels that cost the time (``aten::mm``, ``aten::mkldnn_rnn_layer``,
``aten::native_batch_norm``…) rather than the Python modules around them.

The profiler's own overhead (a few microseconds per operator) inflates small operators; the
table says where the time goes, never how fast the model trains: throughput is measured
without the profiler (:class:`~musebench.perf.throughput.ThroughputMeter`).
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch.profiler import ProfilerActivity, profile

#: Operators kept per profile.
TOP = 8


def top_operators(events: Any, top: int = TOP) -> list[dict[str, Any]]:
    """The ``top`` operators of ``events`` (a profiler's ``key_averages()``) by self time:
    each its ``name``, ``self_ms`` (summed over the profiled batches), ``share`` of the
    total self time and ``calls``."""
    rows = [e for e in events if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in rows) or 1.0
    rows.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"name": e.key, "self_ms": e.self_cpu_time_total / 1e3,
             "share": e.self_cpu_time_total / total, "calls": int(e.count)}
            for e in rows[:top]]


class OperatorProfile(pl.Callback):
    """Profiles ``batches`` training batches after ``warmup`` ones, then stops the fit.

    Args:
        warmup: batches run before the profiler starts.
        batches: batches recorded.
        top: operators kept (:func:`top_operators`).
        stop_fit: stop the fit when done (False: only set ``done``, for
            :class:`~musebench.perf.phases.Phases`).
    """

    def __init__(self, warmup: int, batches: int, top: int = TOP, stop_fit: bool = True) -> None:
        if batches < 1 or warmup < 0:
            raise ValueError(f"need batches >= 1 and warmup >= 0, got {batches} and {warmup}")
        self.warmup = warmup
        self.batches = batches
        self.top = top
        self.stop_fit = stop_fit
        self.done = False
        self.seen = 0
        self.operators: list[dict[str, Any]] = []
        self.total_self_ms = 0.0
        self._profiler: profile | None = None

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                             batch: Any, batch_idx: int) -> None:
        if self.seen == self.warmup:
            activities = [ProfilerActivity.CPU]
            if torch.cuda.is_available():
                activities.append(ProfilerActivity.CUDA)
            self._profiler = profile(activities=activities)
            self._profiler.__enter__()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        self.seen += 1
        if self._profiler is not None and self.seen == self.warmup + self.batches:
            self._profiler.__exit__(None, None, None)
            events = self._profiler.key_averages()
            self.operators = top_operators(events, self.top)
            self.total_self_ms = sum(e.self_cpu_time_total for e in events) / 1e3
            self._profiler = None
            self.done = True
            trainer.should_stop = trainer.should_stop or self.stop_fit

    def result(self) -> dict[str, Any]:
        """``{"batches", "total_self_ms", "top"}``: the recorded batches, all operators'
        self time summed (ms) and the top operators."""
        return {"batches": self.batches, "total_self_ms": self.total_self_ms,
                "top": self.operators}
