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

Self times are summed from the profiler's raw events (:func:`self_times`), not from
``key_averages()``: the two agree to the nanosecond (a test pins it), but ``key_averages``
builds a Python object per event with its memory and stack records. For a model made of
many small operators (the attention Melody RNN: a per-step attention loop) that made the
profile the longest part of its cell: its two profiled batches (fp32, bf16) cost 46 s of
the cell with ``key_averages`` and 12 s with :func:`self_times`, measured side by side on
the 2-core AMD EPYC (loaded by two grid runs; 101 s and 67 s the whole cell).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytorch_lightning as pl
import torch
from torch.profiler import ProfilerActivity, profile

#: Operators kept per profile: enough that an operator's time can be followed from one
#: precision's profile to the other's (:func:`precision_change`).
TOP = 25


def self_times(events: Iterable[Any]) -> dict[str, tuple[int, int]]:
    """``name -> (self time in ns, calls)`` of the CPU events of a finished profile
    (``profile.profiler.kineto_results.events()``).

    An event's self time is its duration less that of the events directly inside it:
    on each thread, events are nested intervals, so walking them by start time (the
    longer first on a tie) with a stack of the open ones finds each event's parent. An
    event directly inside one of the same name (an operator re-dispatching to itself) is
    not counted as a call of its own.
    """
    by_thread: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for event in events:
        if event.device_type() == torch.autograd.DeviceType.CPU:
            start = event.start_ns()
            by_thread[event.start_thread_id()].append(
                (start, start + event.duration_ns(), event.name()))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for intervals in by_thread.values():
        intervals.sort(key=lambda i: (i[0], -i[1]))
        open_events: list[list[Any]] = []  # [end, name, start, time of direct children]
        for start, end, name in intervals:
            while open_events and open_events[-1][0] <= start:
                _close(open_events, totals)
            open_events.append([end, name, start, 0])
        while open_events:
            _close(open_events, totals)
    return {name: (ns, calls) for name, (ns, calls) in totals.items()}


def _close(open_events: list[list[Any]], totals: dict[str, list[int]]) -> None:
    """Close the innermost open event: add its self time and call to ``totals`` and its
    duration to its parent's children."""
    end, name, start, children = open_events.pop()
    totals[name][0] += end - start - children
    # an operator that re-dispatches to itself is one call (as key_averages counts)
    totals[name][1] += not (open_events and open_events[-1][1] == name)
    if open_events:
        open_events[-1][3] += end - start


def top_operators(times: dict[str, tuple[int, int]], top: int = TOP) -> list[dict[str, Any]]:
    """The ``top`` operators of ``times`` (:func:`self_times`) by self time: each its
    ``name``, ``self_ms`` (summed over the profiled batches), ``share`` of the total self
    time and ``calls``."""
    rows = [(name, ns, calls) for name, (ns, calls) in times.items() if ns > 0]
    total = sum(ns for _, ns, _ in rows) or 1
    rows.sort(key=lambda row: row[1], reverse=True)
    return [{"name": name, "self_ms": ns / 1e6, "share": ns / total, "calls": calls}
            for name, ns, calls in rows[:top]]


def precision_change(base: dict[str, Any], other: dict[str, Any],
                     shown: int = 3) -> dict[str, Any]:
    """Where one profiled batch's time moved from ``base`` to ``other`` (two
    :meth:`OperatorProfile.result` of the same batch size, e.g. fp32 and bf16-mixed): the
    total self ms of each and the ``shown`` operators whose self ms changed most, each as
    ``{"name", "base_ms", "other_ms"}`` (an operator missing from one profile's top
    operators counts 0 ms there). This is why bf16-mixed gains or loses on a machine:
    casts (``aten::copy_``) added, a kernel that runs slower or faster in bf16."""
    before = {op["name"]: op["self_ms"] for op in base.get("top", [])}
    after = {op["name"]: op["self_ms"] for op in other.get("top", [])}
    moved = sorted(before.keys() | after.keys(),
                   key=lambda name: (-abs(after.get(name, 0.0) - before.get(name, 0.0)), name))
    return {"base_ms": base.get("total_self_ms"), "other_ms": other.get("total_self_ms"),
            "operators": [{"name": name, "base_ms": before.get(name, 0.0),
                           "other_ms": after.get(name, 0.0)} for name in moved[:shown]]}


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
            times = self_times(self._profiler.profiler.kineto_results.events())
            self.operators = top_operators(times, self.top)
            self.total_self_ms = sum(ns for ns, _ in times.values()) / 1e6
            self._profiler = None
            self.done = True
            trainer.should_stop = trainer.should_stop or self.stop_fit

    def result(self) -> dict[str, Any]:
        """``{"batches", "total_self_ms", "top"}``: the recorded batches, all operators'
        self time summed (ms) and the top operators."""
        return {"batches": self.batches, "total_self_ms": self.total_self_ms,
                "top": self.operators}
