"""Measurements that follow each other in one fit (perf/phases.py), and one model cell
measured that way (perf/throughput_cell.py): which phase sees which batch, the busy
context around its phase only, the fit stopped after the last; FLOPs counted once."""

from __future__ import annotations

import math
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import torch

from musebench.experiments.trainer import usable_cores
from musebench.perf.phases import Phases
from musebench.perf.throughput_cell import measure_cell, one_thread


class Counting:
    """A phase that is done after ``batches`` batches; records the batch indices it saw."""

    def __init__(self, batches: int) -> None:
        self.batches, self.seen, self.done = batches, [], False
        self.ended = False

    def on_train_batch_start(self, trainer, module, batch, index) -> None:
        self.seen.append(index)

    def on_train_batch_end(self, trainer, module, outputs, batch, index) -> None:
        self.done = len(self.seen) == self.batches

    def on_train_end(self, trainer, module) -> None:
        self.ended = True


def test_phases_take_the_batches_in_turn_and_stop_the_fit_after_the_last() -> None:
    log = []

    @contextmanager
    def busy():
        log.append("enter")
        yield
        log.append("leave")

    first, second, third = Counting(2), Counting(3), Counting(1)
    phases = Phases([(first, None), (second, busy), (third, None)])
    trainer = SimpleNamespace(should_stop=False)
    module = SimpleNamespace(device=torch.device("cpu"))
    index = 0
    while not trainer.should_stop:
        phases.on_train_batch_start(trainer, module, None, index)
        log.append(index)
        phases.on_train_batch_end(trainer, module, None, None, index)
        index += 1
    phases.on_train_end(trainer, module)
    assert (first.seen, second.seen, third.seen) == ([0, 1], [2, 3, 4], [5])
    assert log == [0, 1, "enter", 2, 3, 4, "leave", 5]
    assert len(phases.peak_memory) == 3 and all(m > 0 for m in phases.peak_memory)
    assert first.ended and third.ended
    with pytest.raises(ValueError, match="at least one phase"):
        Phases([])


@pytest.mark.slow
def test_a_cell_measures_idle_busy_and_profile_in_one_fit_per_precision(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cell = measure_cell("pianoroll_lstm", "smoke", ["32-true", "bf16-mixed"], warmup=0,
                        steps=20, busy=1, profile=1, sample_set=True, max_seconds=0.0)
    fp32, bf16 = cell["train"]["32-true"], cell["train"]["bf16-mixed"]
    assert fp32["batches_timed"] == bf16["batches_timed"] == 3  # max_seconds 0: the minimum
    assert cell["train_busy"]["busy_processes"] == 1
    assert cell["train_busy"]["batches_timed"] == 3
    assert set(cell["profile"]) == {"32-true", "bf16-mixed"}
    assert all(p["batches"] == 1 and p["top"] for p in cell["profile"].values())
    # FLOPs counted in the fp32 fit only, and reused for bf16's FLOP/s
    assert bf16["flops_per_padded_step"] == fp32["flops_per_padded_step"] > 0
    assert math.isclose(bf16["achieved_flops_per_s"],
                        bf16["flops_per_padded_step"] * bf16["padded_steps_per_s"])
    assert cell["generate_set"]["n"] == 8 and "generate" not in cell


def test_a_cell_with_a_time_step_budget_says_how_many_minutes_it_buys(monkeypatch) -> None:
    import musebench.perf.throughput_cell as throughput_cell
    from musebench.experiments.config import load_config
    from musebench.perf.throughput_cell import budget_minutes

    def with_budget(model: str, preset: str) -> dict:
        config = load_config(model, preset)
        config["train_timesteps"] = 5000
        return config

    monkeypatch.setattr(throughput_cell, "load_config", with_budget)
    cell = measure_cell("pianoroll_lstm", "smoke", ["32-true"], warmup=0, steps=3)
    budget, fp32 = cell["budget"], cell["train"]["32-true"]
    assert budget["train_timesteps"] == 5000 and budget["batches_per_epoch"] > 0
    assert budget["fp32_batches_per_s"] == pytest.approx(fp32["batches_timed"] / fp32["seconds"])
    assert budget["fp32_minutes"] == pytest.approx(budget_minutes(
        5000, budget["timesteps_per_epoch"], budget["batches_per_epoch"],
        budget["fp32_batches_per_s"]))


def test_one_thread_runs_the_block_on_one_thread_and_restores_the_count() -> None:
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_thread():
            raise RuntimeError("a failed window")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)


@pytest.mark.slow
@pytest.mark.skipif(usable_cores() < 2, reason="the one-thread windows need 2 cores")
def test_a_cell_on_two_threads_measures_one_thread_idle_and_busy_too() -> None:
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cell = measure_cell("pianoroll_lstm", "smoke", ["32-true"], warmup=0, steps=20,
                            busy=1, max_seconds=0.0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)
    assert cell["train"]["32-true"]["threads"] == 2
    alone, shared = cell["train_one_thread"], cell["train_one_thread_busy"]
    assert (alone["busy_processes"], shared["busy_processes"]) == (0, 1)
    assert alone["batches_timed"] == shared["batches_timed"] == 3
    assert alone["samples_per_s"] > 0 and shared["samples_per_s"] > 0
