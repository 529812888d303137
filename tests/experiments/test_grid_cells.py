"""The bench-all grid: a stable model x dataset x seed order, task index -> cell, a clear
error outside the grid, the SLURM array script, and local runs that report failed cells
without stopping the others."""

from __future__ import annotations

import sys

import pytest

from musebench.cli import main
from musebench.experiments import grid
from musebench.experiments.grid import Cell, cell_at, grid_cells
from musebench.util import usable_cores

DATASETS = {"markov": ["bach", "essen"], "random": ["bach", "essen"]}


def test_cells_run_models_then_datasets_then_seeds_in_the_order_given():
    cells = grid_cells(["random", "markov"], DATASETS, [2, 0])
    assert [(c.model, c.dataset, c.seed) for c in cells] == [
        ("random", "bach", 2), ("random", "bach", 0), ("random", "essen", 2),
        ("random", "essen", 0), ("markov", "bach", 2), ("markov", "bach", 0),
        ("markov", "essen", 2), ("markov", "essen", 0)]
    assert grid_cells(["random", "markov"], DATASETS, [2, 0]) == cells


def test_repeated_names_and_seeds_count_once():
    assert len(grid_cells(["markov", "markov"], {"markov": ["bach", "bach"]}, [1, 1])) == 1


def test_a_task_index_names_its_cell_and_one_outside_is_a_clear_error():
    cells = grid_cells(["markov", "random"], DATASETS, [0, 1, 2])
    assert cell_at(cells, 0) == Cell("markov", "bach", 0)
    assert cell_at(cells, 11) == Cell("random", "essen", 2)
    for index in (12, -1):
        with pytest.raises(ValueError, match=rf"task index {index} is outside the grid of 12"):
            cell_at(cells, index)


def test_cli_task_index_outside_the_grid_exits_with_the_error(capsys):
    assert main(["bench-all", "--models", "markov", "--seeds", "0", "1", "--preset", "smoke",
                 "--task-index", "2"]) == 2
    assert "task index 2 is outside the grid of 2 cell(s) (0..1)" in capsys.readouterr().err


def test_slurm_script_is_one_array_task_per_cell_running_that_cell(tmp_path):
    script = tmp_path / "grid.sbatch"
    assert main(["--data-root", str(tmp_path), "bench-all", "--models", "markov", "random",
                 "--seeds", "0", "1", "2", "--preset", "smoke", "--jobs", "4", "--devices", "4",
                 "--num-nodes", "2", "--strategy", "ddp", "--precision", "bf16-mixed",
                 "--out", str(tmp_path / "runs"), "--slurm", str(script),
                 "--sbatch=--gpus-per-node=4", "--set", "generate.n=4"]) == 0
    text = script.read_text()
    lines = text.splitlines()
    assert lines[0] == "#!/bin/bash"
    for line in ("#SBATCH --array=0-5%4", "#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=4",
                 "#SBATCH --gpus-per-node=4", f"#SBATCH --output={tmp_path}/runs/slurm/%A_%a.out",
                 "# task 0: markov/fixture/seed0", "# task 5: random/fixture/seed2"):
        assert line in lines, line
    assert (tmp_path / "runs" / "slurm").is_dir()  # SLURM cannot create the output folder
    command = lines[-1]
    assert command.startswith(f"srun musebench --data-root {tmp_path} bench-all "
                              "--models markov random --seeds 0 1 2 --preset smoke ")
    for flags in ("--devices 4", "--strategy ddp", "--num-nodes 2", "--precision bf16-mixed",
                  "--set generate.n=4", f"--out {tmp_path}/runs"):
        assert flags in command, flags
    assert command.endswith('--task-index "$SLURM_ARRAY_TASK_ID"')


def test_local_run_reports_failed_cells_and_finishes_the_rest(tmp_path, monkeypatch, capsys):
    def fake_bench(cell, options, data_root=None):
        code = "import os; print(os.environ['OMP_NUM_THREADS']); raise SystemExit({})"
        return [sys.executable, "-c", code.format(3 if cell.seed == 1 else 0)]

    monkeypatch.setattr(grid, "bench_command", fake_bench)
    cells = grid_cells(["markov"], {"markov": ["bach"]}, [0, 1, 2])
    failed = grid.run_local(cells, [], jobs=2, logs=tmp_path)
    assert failed == [cells[1]]
    logs = sorted(tmp_path.glob("*.log"))
    assert [log.name for log in logs] == [f"{i}-markov-bach-seed{i}.log" for i in range(3)]
    threads = max(1, usable_cores() // 2)
    assert all(log.read_text().strip() == str(threads) for log in logs)
    assert "markov/bach/seed1 FAILED (exit 3" in capsys.readouterr().out
