"""make perf's model section (perf/models.py) end to end on one tiny cell: the
JSON it returns and the table it prints. Figures are not asserted (timing belongs to make
perf), only that every figure is there, consistent and finite."""

from __future__ import annotations

import json
import math

import pytest

from musebench.perf import models as perf_models
from musebench.util import finite


@pytest.mark.slow
def test_one_model_cell_gives_every_figure_and_ratio(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    result = perf_models.run(models=["pianoroll_lstm"], presets=("smoke",),
                             steps={"smoke": (0, 2)}, generate=1, peak_size=128, ddp=True)
    json.dumps(result, allow_nan=False)  # strict JSON: no NaN left
    peak = result["machine_peak"]
    assert peak["peak_fp32"] > 0 and peak["peak_bf16"] > 0
    cell = result["models"]["pianoroll_lstm"]["smoke"]
    assert cell["dataset"] == "fixture" and cell["trains"]
    for precision in perf_models.PRECISIONS:
        figures = cell["train"][precision]
        assert figures["batches_timed"] == 2
        assert figures["time_steps_per_s"] >= figures["samples_per_s"] > 0
        assert figures["flops_per_padded_step"] > 0
        assert math.isclose(figures["fraction_of_peak"] * (
            max(peak["peak_bf16"], peak["peak_fp32"]) if precision == "bf16-mixed"
            else peak["peak_fp32"]),
            figures["achieved_flops_per_s"])
        assert figures["peak_memory_bytes"] > 2**20
    assert math.isclose(cell["bf16_over_fp32"], cell["train"]["bf16-mixed"]["samples_per_s"]
                        / cell["train"]["32-true"]["samples_per_s"])
    assert "train_length_grouped" not in cell  # windows of equal length: nothing padded
    assert cell["generate"]["n"] == 1 and cell["generate"]["bars_per_s"] > 0
    assert cell["cell_seconds"] > cell["generate"]["n"] / cell["generate"]["samples_per_s"]
    assert cell["ddp"]["world_size"] == 2
    assert math.isclose(cell["ddp"]["ddp_over_single"], cell["ddp"]["samples_per_s"]
                        / cell["train"]["32-true"]["samples_per_s"])
    table = capsys.readouterr().out.splitlines()
    row = next(line for line in table if line.startswith("pianoroll_lstm"))
    assert row.split()[:3] == ["pianoroll_lstm", "smoke", "fixture"]


def test_a_model_on_padded_whole_pieces_is_measured_on_length_grouped_batches_too(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from musebench.datasets.midi import write_midi
    from musebench.datasets.piece import Piece, make_notes
    from musebench.experiments.config import load_config
    from musebench.perf import throughput_cell

    for i in range(40):  # whole pieces of 8 to 125 frames
        length = 8 + (i * 37) % 118
        write_midi(Piece(make_notes([0], [length], [40 + i]), length=length),
                   tmp_path / "tunes" / f"t{i}.mid")
    monkeypatch.setattr(throughput_cell, "load_config", lambda model, preset: load_config(
        model, preset, [f"data.source=midi:{tmp_path / 'tunes'}"]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cell = throughput_cell.measure_cell("rnn_nade", "smoke", ["32-true"], warmup=0, steps=3)
    fp32, grouped = cell["train"]["32-true"], cell["train_length_grouped"]
    assert fp32["time_steps_per_s"] < 0.95 * fp32["padded_steps_per_s"]  # the fixture pads
    assert grouped["batches_timed"] == 3
    assert grouped["time_steps_per_s"] / grouped["padded_steps_per_s"] > \
        fp32["time_steps_per_s"] / fp32["padded_steps_per_s"]
    assert 0 < cell["padding"]["shuffle"] < cell["padding"]["length_grouped"] <= 1


def test_a_failed_or_skipped_cell_is_shown_with_its_reason() -> None:
    table = perf_models.table({"models": {
        "broken": {"smoke": {"error": "RuntimeError: boom"}},
        "needsdata": {"standard": {"dataset": "jsb", "skipped": "set MUSEBENCH_DATA"}},
    }}).splitlines()
    assert table[2].split() == ["broken", "smoke", "RuntimeError:", "boom"]
    assert table[3].split() == ["needsdata", "standard", "skipped:", "set", "MUSEBENCH_DATA"]


def test_ratios_and_strict_json_values() -> None:
    cell = {"train": {"32-true": {"samples_per_s": 10.0, "achieved_flops_per_s": 4e9},
                      "bf16-mixed": {"samples_per_s": 15.0, "achieved_flops_per_s": float("nan")}}}
    perf_models.add_ratios(cell, {"peak_fp32": 4e11, "peak_bf16": 8e11})
    assert cell["bf16_over_fp32"] == 1.5
    assert "length_grouped_over_shuffled" not in cell
    cell["train"]["32-true"]["time_steps_per_s"] = 400.0
    cell["train_length_grouped"] = {"time_steps_per_s": 600.0}
    perf_models.add_ratios(cell, {"peak_fp32": 4e11, "peak_bf16": 8e11})
    assert cell["length_grouped_over_shuffled"] == 1.5
    assert cell["train"]["32-true"]["fraction_of_peak"] == 0.01
    assert cell["train"]["bf16-mixed"]["fraction_of_peak"] is None
    assert finite({"a": [float("inf"), 1.0]}) == {"a": [None, 1.0]}


def test_the_peak_is_the_fastest_measurement_of_each_backend() -> None:
    slow = {"size": 8, "repeats": 1, "flops_per_s": {"fp32_a": 1.0, "bf16_a": 4.0},
            "peak_fp32": 1.0, "peak_bf16": 4.0}
    fast = {"size": 8, "repeats": 1, "flops_per_s": {"fp32_a": 3.0, "bf16_a": 2.0},
            "peak_fp32": 3.0, "peak_bf16": 2.0}
    peak = perf_models.best_peak([slow, fast])
    assert peak["flops_per_s"] == {"fp32_a": 3.0, "bf16_a": 4.0}
    assert (peak["peak_fp32"], peak["peak_bf16"]) == (3.0, 4.0)
    assert len(peak["measurements"]) == 2


def test_bf16_mixed_is_measured_against_the_faster_peak() -> None:
    """On a CPU without bf16 instructions the bf16 matmul peak is far below fp32's, and
    bf16-mixed work runs fp32 kernels too: its fraction is of the faster peak."""
    cell = {"train": {"bf16-mixed": {"samples_per_s": 1.0, "achieved_flops_per_s": 2e9}}}
    perf_models.add_ratios(cell, {"peak_fp32": 2e10, "peak_bf16": 5e8})
    assert cell["train"]["bf16-mixed"]["fraction_of_peak"] == 0.1


def test_a_timed_out_cell_is_killed_with_its_children(tmp_path) -> None:
    """run_group kills the cell's whole process group at the timeout: a child it started
    (a data-loader worker, a DDP rank) does not outlive it."""
    import os
    import sys
    import time

    pid_file = tmp_path / "child.pid"
    code = ("import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(600)\n")
    returncode, _ = perf_models.run_group([sys.executable, "-c", code], 15.0, dict(os.environ))
    assert returncode is None
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 30  # a bound on waiting for the kernel, not a speed check
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        with open(f"/proc/{child}/stat") as stat:
            if stat.read().split()[2] == "Z":
                break
        time.sleep(0.1)
    alive = os.path.exists(f"/proc/{child}")
    assert not alive or open(f"/proc/{child}/stat").read().split()[2] == "Z"


def test_a_finished_command_gives_its_status_and_stderr() -> None:
    import os
    import sys

    code = "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"
    assert perf_models.run_group([sys.executable, "-c", code], 60.0, dict(os.environ)) == (
        3, "boom\n")


@pytest.mark.slow
def test_one_process_measures_the_models_in_turn_and_a_failure_stays_in_its_cell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception is the model's own ``error``, the next model is still measured; a model
    past the timeout has its process killed and the models after it get a new one."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cells = perf_models.run_cells(["no_such_model", "pianoroll_lstm"], "smoke",
                                  ("32-true",), 0, 2, 1)
    assert "no config for model 'no_such_model'" in cells["no_such_model"]["error"]
    assert cells["pianoroll_lstm"]["train"]["32-true"]["batches_timed"] == 2
    late = perf_models.run_cells(["pianoroll_lstm", "markov"], "smoke", ("32-true",), 0, 2,
                                 1, timeout=0.0)
    assert all(cell["error"] == "timed out after 0 s" for cell in late.values())
