"""make perf's busy machine (perf/contention.py), operator tables (perf/operators.py) and
the model section's busy/idle ratio and operator lines. Nothing is timed."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch

from musebench.perf import models as perf_models
from musebench.perf.contention import busy_processes
from musebench.perf.operators import (
    OperatorProfile,
    precision_change,
    self_times,
    top_operators,
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_busy_processes_run_during_the_block_and_are_gone_after() -> None:
    with busy_processes(2, settle_s=0.0) as pids:
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    assert not any(_alive(pid) for pid in pids)
    with busy_processes(0) as none:
        assert none == []
    with pytest.raises(ValueError, match="count"):
        with busy_processes(-1):
            pass


def test_top_operators_by_self_time_with_shares() -> None:
    times = {"aten::mm": (6_000_000, 4), "aten::add": (1_000_000, 9), "aten::empty": (0, 3),
             "aten::conv": (3_000_000, 2)}
    top = top_operators(times, top=2)
    assert [op["name"] for op in top] == ["aten::mm", "aten::conv"]
    assert top[0] == {"name": "aten::mm", "self_ms": 6.0, "share": 0.6, "calls": 4}


def _event(name: str, start: int, end: int, thread: int = 1) -> SimpleNamespace:
    return SimpleNamespace(name=lambda: name, start_ns=lambda: start,
                           duration_ns=lambda: end - start, start_thread_id=lambda: thread,
                           device_type=lambda: torch.autograd.DeviceType.CPU)


def test_self_time_is_duration_less_direct_children_worked_by_hand() -> None:
    """step [0, 100) holds mm [10, 40) and add [50, 70); that mm re-dispatches to mm
    [11, 38) (one call), which holds empty [12, 15); a second step [0, 30) on another
    thread is not inside the first."""
    events = [_event("add", 50, 70), _event("step", 0, 100), _event("empty", 12, 15),
              _event("mm", 10, 40), _event("mm", 11, 38), _event("step", 0, 30, thread=2)]
    assert self_times(events) == {"step": (100 - 30 - 20 + 30, 2), "mm": (30 - 3, 1),
                                  "empty": (3, 1), "add": (20, 1)}


def test_self_times_agree_with_the_profilers_key_averages() -> None:
    """One training batch of a small LSTM model: every operator's self time and calls
    equal ``key_averages()``'s (which this module no longer calls, for its cost)."""
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(8, 16, batch_first=True), torch.nn.Linear(16, 4)
    optimiser = torch.optim.Adam([*lstm.parameters(), *head.parameters()])
    with profile(activities=[ProfilerActivity.CPU]) as profiled:
        loss = head(lstm(torch.randn(3, 20, 8))[0]).square().mean()
        loss.backward()
        optimiser.step()
    times = self_times(profiled.profiler.kineto_results.events())
    reference = {e.key: (e.self_cpu_time_total, e.count) for e in profiled.key_averages()}
    assert set(times) == set(reference) and len(times) > 10
    for name, (ns, calls) in times.items():
        assert calls == reference[name][1], name
        assert ns / 1e3 == pytest.approx(reference[name][0], abs=1e-3), name


def test_precision_change_ranks_operators_by_how_far_their_time_moved() -> None:
    """fp32: mm 10, add 4, tanh 2 ms; bf16: mm 6, copy_ 5 (not in fp32's list: 0 there),
    add 4.5 (tanh not listed: 0): moves -4, +5, +0.5, -2 -> copy_, mm, tanh."""
    fp32 = {"total_self_ms": 16.0, "top": [{"name": "aten::mm", "self_ms": 10.0},
                                           {"name": "aten::add", "self_ms": 4.0},
                                           {"name": "aten::tanh", "self_ms": 2.0}]}
    bf16 = {"total_self_ms": 15.5, "top": [{"name": "aten::mm", "self_ms": 6.0},
                                           {"name": "aten::copy_", "self_ms": 5.0},
                                           {"name": "aten::add", "self_ms": 4.5}]}
    change = precision_change(fp32, bf16)
    assert change["base_ms"] == 16.0 and change["other_ms"] == 15.5
    assert change["operators"] == [
        {"name": "aten::copy_", "base_ms": 0.0, "other_ms": 5.0},
        {"name": "aten::mm", "base_ms": 10.0, "other_ms": 6.0},
        {"name": "aten::tanh", "base_ms": 2.0, "other_ms": 0.0}]


def test_operator_profile_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="batches"):
        OperatorProfile(warmup=1, batches=0)


def test_busy_over_idle_ratio_and_operator_lines() -> None:
    cell = {"train": {"32-true": {"samples_per_s": 20.0}},
            "train_busy": {"busy_processes": 1, "samples_per_s": 9.0},
            "train_one_thread": {"busy_processes": 0, "samples_per_s": 16.0},
            "train_one_thread_busy": {"busy_processes": 1, "samples_per_s": 15.0},
            "profile": {"32-true": {"top": [{"name": "aten::mm", "share": 0.5},
                                            {"name": "aten::add", "share": 0.25}]}}}
    cell["profile"]["bf16-mixed"] = {"total_self_ms": 9.0, "top": [
        {"name": "aten::mm", "share": 0.5, "self_ms": 4.5}]}
    cell["profile"]["32-true"]["total_self_ms"] = 8.0
    for op, ms in zip(cell["profile"]["32-true"]["top"], (4.0, 2.0), strict=True):
        op["self_ms"] = ms
    perf_models.add_ratios(cell, {"peak_fp32": 1.0, "peak_bf16": 1.0})
    assert cell["busy_over_idle"] == 0.45
    assert (cell["one_thread_over_idle"], cell["one_thread_busy_over_idle"]) == (0.8, 0.75)
    lines = perf_models.operators_table({"models": {"m": {"standard": cell}}}).splitlines()
    assert lines[1].split() == ["m", "standard", "32-true", "aten::mm", "50%,", "aten::add",
                                "25%"]
    assert lines[2].endswith("aten::mm 50%; vs fp32: total 8 -> 9 ms: aten::add -2.0, "
                             "aten::mm +0.5")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_spinner_ends_when_the_process_that_started_it_is_killed() -> None:
    """A measuring cell killed on its timeout (SIGKILL: no ``finally``) leaves no spinner."""
    import signal
    import subprocess
    import sys
    import time

    code = ("from musebench.perf.contention import busy_processes\n"
            "import time\n"
            "with busy_processes(1, settle_s=0.0) as pids:\n"
            "    print(pids[0], flush=True)\n"
            "    time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    spinner = int(parent.stdout.readline())
    assert _alive(spinner)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30  # a bound on waiting, not a speed assertion
    while _alive(spinner) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(spinner)


@pytest.mark.parametrize(("one_thread", "threads", "fraction"), [
    (30.0, 1, 0.15),      # one thread 1.5x faster: 0.1 of the peak becomes 0.15
    (19.5, 1, 0.0975),    # 2.5 % slower, within the choice's 5 %: one thread, 0.1 x 19.5/20
    (15.0, 2, 0.1),       # 25 % slower: both threads, the idle figure
])
def test_the_thread_count_a_bench_run_would_choose_and_its_share_of_the_peak(
        one_thread, threads, fraction) -> None:
    cell = {"train": {"32-true": {"samples_per_s": 20.0, "threads": 2,
                                  "achieved_flops_per_s": 10.0}},
            "train_one_thread": {"busy_processes": 0, "samples_per_s": one_thread}}
    perf_models.add_ratios(cell, {"peak_fp32": 100.0, "peak_bf16": 100.0})
    assert cell["bench_threads"] == threads
    assert cell["bench_fraction_of_peak"] == pytest.approx(fraction)
