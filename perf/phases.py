"""Several measurements in one training fit, one after another: :class:`Phases`.

``make perf`` measures each model's training idle, beside a competing busy process, and
under the profiler. Each of those as its own ``Trainer.fit`` pays the Trainer's set-up, the
data loader's start and the warm-up batches again; in one fit they follow each other on
the same warmed-up model, and the model section stays within its minutes. A later phase
measures a model a few batches further trained than the first did, which costs the same
per batch.

Each phase is a callback with a ``done`` attribute (:class:`~musebench.perf.throughput.
ThroughputMeter`, :class:`~musebench.perf.operators.OperatorProfile`, built with
``stop_fit=False``), optionally inside a context (``busy_processes(1)``) entered at the
phase's first batch and left after its last. :class:`Phases` passes the batch hooks to the
current phase only, records the peak memory at the end of each phase, and stops the fit
after the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytorch_lightning as pl

from musebench.perf.throughput import peak_memory_bytes


class Phases(pl.Callback):
    """Runs ``phases`` in turn in one fit: each ``(callback, context)`` pair, ``context``
    a factory of a context manager around the phase (or None).

    Attributes:
        peak_memory: peak memory (bytes, :func:`peak_memory_bytes`) at each finished
            phase's end, since the fit's start.
    """

    def __init__(self, phases: list[tuple[pl.Callback, Callable[[], AbstractContextManager]
                                          | None]]) -> None:
        if not phases:
            raise ValueError("Phases needs at least one phase")
        self.phases = phases
        self.current = 0
        self.peak_memory: list[int] = []
        self._context: AbstractContextManager | None = None

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                             batch: Any, batch_idx: int) -> None:
        callback, context = self.phases[self.current]
        if self._context is None and context is not None:
            self._context = context()
            self._context.__enter__()
        callback.on_train_batch_start(trainer, pl_module, batch, batch_idx)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        callback, _ = self.phases[self.current]
        callback.on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if not callback.done:
            return
        self._leave()
        self.peak_memory.append(peak_memory_bytes(pl_module.device))
        self.current += 1
        if self.current == len(self.phases):
            self.current -= 1
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._leave()
        for callback, _ in self.phases:
            callback.on_train_end(trainer, pl_module)

    def _leave(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
