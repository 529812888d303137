"""The torch thread count of a CPU training run, measured on its first batches.

How many intra-op threads train a model fastest depends on the model and the machine.
``make perf`` on a 2-vCPU AMD EPYC Zen 4 (docs/performance.md) measured one thread
training the piano-roll LSTM 4.2x, the Melody RNNs 2.0-5.2x, MidiNet 2.1-2.2x and
C-RNN-GAN 2.1x faster than two, while the biaxial LSTM, the Music Transformer and jamming
MuseGAN were faster at two; on the Intel Xeon before it the same models ran faster beside
a competing process than alone at two threads. Small kernels at small batches spend more
in the threads' hand-offs than they gain from the second core. No fixed count (all cores,
or one) is right for every model, nor a per-model setting for every machine, so a run
measures: :class:`ThreadChoice` times its first training batches at each candidate count
(:func:`candidate_threads`) in turn and trains the rest at the fastest
(:func:`fastest_threads`).

The candidate batches are ordinary training steps (none is repeated or dropped). The
count changes how fast a run trains and, as on any machine with another core count, the
rounding of some sums (a full reduction, a convolution's weight gradient: torch splits them
between the threads): a row's ``hardware`` names the count its run ended at. A user who
pins the count (``OMP_NUM_THREADS``, which :class:`~musebench.experiments.trainer.ThreadsPerProcess`
honours too) gets exactly that count and nothing is chosen; a run already at one thread
(the official grid, the calibration and the tests run one a process) has nothing to
choose; a run of several processes (DDP) keeps its share of the cores, so that every rank
runs alike.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

#: The environment variable by which a user pins the thread count (no choice is made then).
PINNED = "OMP_NUM_THREADS"

#: Timed rounds: each round trains one batch at every candidate count, in turn, so that a
#: change of load during the measurement falls on every candidate alike.
ROUNDS = 3

#: A candidate within this share of the fastest counts as fast: the smallest such count is
#: chosen, leaving cores to other work (a busy machine slows fewer threads less).
TOLERANCE = 0.05


def candidate_threads(share: int) -> list[int]:
    """The thread counts a run with ``share`` threads tries: ``share``, then halved down to
    one (``8 -> [8, 4, 2, 1]``, ``6 -> [6, 3, 1]``); ``[share]`` alone when it is one."""
    counts = [max(1, share)]
    while counts[-1] > 1:
        counts.append(max(1, counts[-1] // 2))
    return counts


def fastest_threads(seconds_per_item: dict[int, list[float]],
                    tolerance: float = TOLERANCE) -> int:
    """The smallest thread count whose median time per item is within ``tolerance`` of the
    fastest median.

    Args:
        seconds_per_item: for each thread count, its timed batches' seconds per batch item.
    """
    medians = {threads: statistics.median(times) for threads, times in seconds_per_item.items()}
    best = min(medians.values())
    return min(threads for threads, median in medians.items() if median <= best * (1 + tolerance))


def batch_items(batch: Any) -> int:
    """The work in a batch: the elements of all its tensors (padded steps included), so that
    batches of different lengths compare by time per element."""
    if isinstance(batch, torch.Tensor):
        return batch.numel()
    if isinstance(batch, dict):
        return sum(batch_items(value) for value in batch.values())
    if isinstance(batch, list | tuple):
        return sum(batch_items(value) for value in batch)
    return 0


class ThreadChoice(pl.Callback):
    """Times a CPU run's first training batches at each candidate thread count and keeps
    the fastest for the rest of the fit (module docstring).

    The first round warms every count up (its batches are not timed: the first call of an
    operator at a new thread count builds its kernels), then :data:`ROUNDS` rounds are timed,
    each batch's seconds divided by its :func:`batch_items`. A fit shorter than that keeps
    the count it started with. ``clock`` is for the tests.
    """

    def __init__(self, rounds: int = ROUNDS, clock: Callable[[], float] = time.perf_counter) -> None:
        self.rounds = rounds
        self.clock = clock
        self.candidates: list[int] = []
        self.times: dict[int, list[float]] = {}
        self.chosen: int | None = None
        self._batch = 0
        self._started = 0.0
        self._start_threads = torch.get_num_threads()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start_threads = torch.get_num_threads()
        self.chosen = None
        self._batch = 0
        self.times = {}
        measurable = (trainer.world_size == 1 and pl_module.device.type == "cpu"
                      and PINNED not in os.environ)
        self.candidates = candidate_threads(self._start_threads) if measurable else []
        if len(self.candidates) < 2:
            self.candidates = []

    def _measuring(self) -> bool:
        return bool(self.candidates) and self.chosen is None

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                             batch: Any, batch_idx: int) -> None:
        if not self._measuring():
            return
        torch.set_num_threads(self.candidates[self._batch % len(self.candidates)])
        self._started = self.clock()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        if not self._measuring():
            return
        seconds = self.clock() - self._started
        threads = self.candidates[self._batch % len(self.candidates)]
        if self._batch >= len(self.candidates):  # the first round only warms up
            self.times.setdefault(threads, []).append(seconds / max(1, batch_items(batch)))
        self._batch += 1
        if self._batch == len(self.candidates) * (1 + self.rounds):
            self.chosen = fastest_threads(self.times)
            torch.set_num_threads(self.chosen)
            per_element = ", ".join(f"{count} -> {1e9 * statistics.median(times):.1f}"
                                  for count, times in self.times.items())
            rank_zero_info(f"threads: training at {self.chosen} (median ns per batch "
                           f"element at each count tried: {per_element})")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._measuring():
            torch.set_num_threads(self._start_threads)
