"""ThroughputMeter (perf/throughput.py): which batches it times and how it turns
them into rates; driven by hand with fake trainer objects, no training."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import torch

from musebench.datasets.codecs import FrameRollCodec
from musebench.perf.throughput import ThroughputMeter


def test_a_stalled_batch_moves_the_total_but_not_the_median_rate() -> None:
    meter = ThroughputMeter(FrameRollCodec(), warmup=0, steps=3, count_flops=False)
    meter.counts = [(4, 40, 48)] * 3
    meter.durations = [1.0, 1.0, 10.0]
    meter.flops_per_padded_step = 1000.0
    result = meter.result()
    assert result["samples_per_s"] == 4.0 and result["time_steps_per_s"] == 40.0
    assert result["mean_samples_per_s"] == 1.0  # 12 samples in 12 s
    assert result["achieved_flops_per_s"] == 48.0 * 1000.0
    assert result["batches_timed"] == 3 and result["seconds"] == 12.0


def test_warmup_and_flop_batches_are_untimed_and_the_fit_stops_after_the_timed_ones() -> None:
    codec = FrameRollCodec()
    meter = ThroughputMeter(codec, warmup=2, steps=2, count_flops=True)
    trainer = SimpleNamespace(should_stop=False, world_size=1)
    module = SimpleNamespace(device=torch.device("cpu"))
    layer = torch.nn.Linear(88, 88)
    batches = 0
    while not trainer.should_stop:
        batch = codec.collate([{"roll": np.ones((5, 88), np.float32)}] * 3)
        meter.on_train_batch_start(trainer, module, batch, batches)
        layer(batch["roll"]).sum().backward()
        meter.on_train_batch_end(trainer, module, None, batch, batches)
        batches += 1
    meter.on_train_end(trainer, module)
    assert batches == 2 + 1 + 2
    assert meter.counts == [(3, 15, 15)] * 2 and len(meter.durations) == 2
    # the counted batch: forward 2*15*88*88, weight gradient the same, over 15 padded steps
    assert meter.flops_per_padded_step == 2 * 2 * 88 * 88
    assert math.isfinite(meter.result()["samples_per_s"])


def test_without_warmup_the_first_batch_is_timed_from_its_own_start() -> None:
    """The busy window's meter has no warm-up or FLOP batch: its first duration once ran
    from the clock's zero (hours), so the window stopped after 3 batches and its total and
    mean rate were wrong."""
    codec = FrameRollCodec()
    meter = ThroughputMeter(codec, warmup=0, steps=3, count_flops=False)
    trainer = SimpleNamespace(should_stop=False, world_size=1)
    module = SimpleNamespace(device=torch.device("cpu"))
    started = time.perf_counter()
    batches = 0
    while not trainer.should_stop:
        batch = codec.collate([{"roll": np.ones((5, 88), np.float32)}] * 3)
        meter.on_train_batch_start(trainer, module, batch, batches)
        meter.on_train_batch_end(trainer, module, None, batch, batches)
        batches += 1
    assert batches == 3 and len(meter.durations) == 3 == len(meter.counts)
    assert 0 < sum(meter.durations) <= time.perf_counter() - started
