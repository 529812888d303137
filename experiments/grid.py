"""The model × dataset × seed grid of ``musebench bench-all``: enumerate it, run it here a
few cells at a time, or hand it to a SLURM array.

The grid is the product models × datasets × seeds in that order (models outermost), so a
cell's index is stable: the same arguments give the same index → cell map on the machine
that writes a SLURM script and on every node that runs one of its tasks
(``bench-all … --task-index $SLURM_ARRAY_TASK_ID`` runs exactly that cell). Locally each
cell is one ``musebench bench`` subprocess, ``jobs`` at a time, each with
``cores // jobs`` threads; a failed cell is reported and the others go on. All cells
append to one results store, which is safe under concurrent writers (a file lock).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from musebench.util import usable_cores


@dataclass(frozen=True)
class Cell:
    """One run of the grid: a model on a dataset with a seed."""

    model: str
    dataset: str
    seed: int

    @property
    def label(self) -> str:
        """``model/dataset/seed``, for progress lines and log names."""
        return f"{self.model}/{self.dataset}/seed{self.seed}"


def grid_cells(models: list[str], datasets: dict[str, list[str]], seeds: list[int]) -> list[Cell]:
    """Every (model, dataset, seed), models outermost, then datasets, then seeds.

    Args:
        models: model names, in the order given (repeats dropped).
        datasets: each model's datasets, in order (repeats dropped).
        seeds: seeds, in order (repeats dropped).

    Returns:
        The cells; index ``i`` is the ``i``-th SLURM array task.
    """
    return [Cell(model, dataset, seed) for model in dict.fromkeys(models)
            for dataset in dict.fromkeys(datasets[model]) for seed in dict.fromkeys(seeds)]


def cell_at(cells: list[Cell], index: int) -> Cell:
    """The cell of a SLURM array task.

    Raises:
        ValueError: ``index`` is not in ``0 … len(cells) - 1``.
    """
    if not 0 <= index < len(cells):
        raise ValueError(f"task index {index} is outside the grid of {len(cells)} cell(s) "
                         f"(0..{len(cells) - 1})")
    return cells[index]


def bench_command(cell: Cell, options: list[str], data_root: Path | None = None) -> list[str]:
    """The ``musebench bench`` command line of ``cell`` (``options``: the shared flags)."""
    root = ["--data-root", str(data_root)] if data_root is not None else []
    return [sys.executable, "-m", "musebench", *root, "bench",
            "--model", cell.model, "--dataset", cell.dataset, "--seed", str(cell.seed),
            *options]


def run_local(cells: list[Cell], options: list[str], jobs: int, logs: Path,
              data_root: Path | None = None) -> list[Cell]:
    """Run every cell as a ``musebench bench`` subprocess, ``jobs`` at a time.

    Each subprocess gets ``OMP_NUM_THREADS = MKL_NUM_THREADS = max(1, cores // jobs)``
    (:func:`~musebench.util.usable_cores`) and writes its output to
    ``logs/<index>-<model>-<dataset>-seed<seed>.log``.

    Args:
        cells: the grid.
        options: flags every cell's ``musebench bench`` shares (preset, out, …).
        jobs: cells running at once.
        logs: folder of the per-cell logs.
        data_root: folder of the real data sets, if not ``$MUSEBENCH_DATA``.

    Returns:
        The cells that failed (non-zero exit), in grid order.
    """
    jobs = max(1, jobs)
    threads = str(max(1, usable_cores() // jobs))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    logs.mkdir(parents=True, exist_ok=True)

    def run(index: int, cell: Cell) -> bool:
        log = logs / f"{index}-{cell.label.replace('/', '-').replace(':', '_')}.log"
        print(f"[{index + 1}/{len(cells)}] {cell.label} started (log: {log})", flush=True)
        started = time.perf_counter()
        with log.open("w") as stream:
            code = subprocess.run(bench_command(cell, options, data_root), env=env,
                                  stdout=stream, stderr=subprocess.STDOUT).returncode
        status = "done" if code == 0 else f"FAILED (exit {code}, see {log})"
        print(f"[{index + 1}/{len(cells)}] {cell.label} {status} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        return code == 0

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        succeeded = list(pool.map(run, range(len(cells)), cells))
    return [cell for cell, ok in zip(cells, succeeded, strict=True) if not ok]


def sbatch_script(cells: list[Cell], task_command: list[str], jobs: int, logs: Path,
                  nodes: int = 1, tasks_per_node: int = 1,
                  extra: list[str] | None = None) -> str:
    """A SLURM batch script with one array task per cell, at most ``jobs`` running at once.

    Args:
        cells: the grid (listed in the script as comments, index by index).
        task_command: the command each task runs; it should end with ``--task-index`` so
            that the task's ``$SLURM_ARRAY_TASK_ID`` completes it.
        jobs: array tasks running at once (``%jobs``).
        logs: folder of the tasks' output (``%A_%a.out``); it must exist at submission.
        nodes: nodes per task (``--num-nodes`` of a multi-node run).
        tasks_per_node: processes per node, one per device (Lightning's SLURM launch).
        extra: further ``#SBATCH`` options, e.g. ``--gpus-per-node=4``, ``--partition=gpu``.

    Returns:
        The script's text.
    """
    lines = [
        "#!/bin/bash",
        f"# musebench grid: {len(cells)} cell(s) (model x dataset x seed), "
        f"one array task each, {jobs} at a time",
        "#SBATCH --job-name=musebench-grid",
        f"#SBATCH --array=0-{len(cells) - 1}%{max(1, jobs)}",
        f"#SBATCH --nodes={nodes}",
        f"#SBATCH --ntasks-per-node={tasks_per_node}",
        f"#SBATCH --output={logs}/%A_%a.out",
        *(f"#SBATCH {option}" for option in extra or []),
        "",
        *(f"# task {index}: {cell.label}" for index, cell in enumerate(cells)),
        "",
        f'srun {shlex.join(task_command)} "$SLURM_ARRAY_TASK_ID"',
        "",
    ]
    return "\n".join(lines)
