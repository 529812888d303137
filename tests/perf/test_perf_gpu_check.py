"""The GPU check's CPU-side logic (perf/gpu_check.py): its plan, budget, summary and exit
codes. Nothing here needs or touches a GPU, and nothing is timed."""

from __future__ import annotations

import json

import pytest

from musebench.perf import gpu_check
from musebench.perf.gpu_check import Job, plan, run_jobs, summarise


def test_one_gpu_measures_both_precisions_and_no_ddp() -> None:
    jobs = plan(["a", "b"], "standard", gpus=1)
    assert jobs == [Job("a", "standard", ("32-true", "bf16-mixed"), 1, "auto"),
                    Job("b", "standard", ("32-true", "bf16-mixed"), 1, "auto")]
    assert {j.key for j in jobs} == {"single"}


def test_several_gpus_add_ddp_over_all_of_them_after_the_single_gpu_jobs() -> None:
    jobs = plan(["a", "b"], "smoke", gpus=4)
    assert [(j.model, j.key, j.devices) for j in jobs] == [
        ("a", "single", 1), ("b", "single", 1), ("a", "ddp", 4), ("b", "ddp", 4)]
    assert jobs[2].precisions == ("bf16-mixed",) and jobs[2].strategy == "ddp"


@pytest.mark.parametrize(("models", "gpus", "message"),
                         [(["a"], 0, "no GPU"), ([], 1, "no model")])
def test_nothing_to_plan_is_refused(models: list[str], gpus: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(models, "standard", gpus)


def test_jobs_past_the_budget_are_listed_not_run() -> None:
    figures = run_jobs(plan(["a"], "standard", 2), warmup=0, steps=1, budget_s=-1.0)
    assert set(figures["a"]) == {"single", "ddp"}
    assert all("not run" in cell["error"] for cell in figures["a"].values())


def test_summary_ratios_memory_and_errors() -> None:
    train = {"32-true": {"samples_per_s": 100.0, "peak_memory_bytes": 2**30},
             "bf16-mixed": {"samples_per_s": 250.0, "peak_memory_bytes": 2**29}}
    figures = {"a": {"single": {"train": train},
                     "ddp": {"train": {"bf16-mixed": {"samples_per_s": 450.0,
                                                      "peak_memory_bytes": 2**29}}}},
               "b": {"single": {"error": "boom"}}}
    summary = summarise(figures)
    assert summary["a"]["bf16_over_fp32"] == 2.5 and summary["a"]["ddp_over_single"] == 1.8
    assert summary["a"]["peak_memory_mib"] == 1024 and summary["a"]["errors"] is None
    assert summary["b"]["fp32_samples_per_s"] is None
    assert summary["b"]["errors"] == {"single": "boom"}


def test_without_a_gpu_it_says_so_and_exits_2(capsys: pytest.CaptureFixture) -> None:
    assert gpu_check.main(["--gpus", "0", "--models", "a"]) == 2
    assert "no GPU" in capsys.readouterr().err


def test_dry_run_prints_the_plan(capsys: pytest.CaptureFixture) -> None:
    assert gpu_check.main(["--gpus", "2", "--models", "a", "--dry-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["gpus"] == 2 and [j["devices"] for j in printed["plan"]] == [1, 2]
