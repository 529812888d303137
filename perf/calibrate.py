"""Budgets as equal minutes (issue #11): ``python -m musebench.perf.calibrate``.

Each standard preset states its budget in time steps of training data (``train_timesteps``,
epoch-bounded so that a row does not depend on the machine's load), meant as the same
minutes of training for every model. This tool measures what each budget costs here, in
the condition the official grid runs in, and proposes the budget that takes ``--minutes``:

- the cells: every member of every track of ``experiments/tracks.yaml`` on the track's
  first data set, seed 0 (the models come from the protocol, never named here), each
  trained by ``musebench bench`` with the cell's official config (the track's view,
  ``max_length`` and budget) on two shares of its budget, ``--fractions`` (1/16 and 1/8),
  into a temporary folder;
- the condition: one torch thread a process, ``--jobs`` processes side by side (two on
  the two-core machine, as ``musebench official`` runs in two clones), under one load;
- the figures, from each run's ``train_seconds`` (statistics, the fit with its
  validation and checkpoints, sampling excluded), as a line ``t = c + b / r`` through the
  two runs (``b1`` time steps in ``t1`` seconds, ``b2`` in ``t2``): the marginal rate
  ``r = (b2 - b1) / (t2 - t1)`` time steps a second and the fixed cost ``c = t1 - b1 / r``
  (the set-up, the first validation, and what a model spends once whatever its budget,
  such as C-RNN-GAN's MLE pre-training); the minutes of the whole budget ``B``,
  ``(c + B / r) / 60``; the budget that takes ``M`` minutes, ``r (60 M - c)`` (none where
  the fixed cost alone takes longer), rounded to whole epochs where it is at least one (the bench trains whole epochs, each a share of
  its batches); flagged as unreliable (``warning``) where the longer run's extra seconds
  are under :data:`MIN_SPREAD` of the shorter run's.

Each entry of ``--out`` records how it was made (CPU, time, settings) and is written as its
cell's last run ends (a calibration stopped part-way keeps what it measured); a run
replaces the entries of the cells it measures and keeps the others, so the tracks can be calibrated in
parts (two parts side by side, ``--jobs 1`` each, is the grid's condition too).

One run gives the rate ``b / t`` only, which charges the fixed cost to a fraction of the
budget: C-RNN-GAN's 100 epochs, 16 of them cheap pre-training, predicted 8.9 minutes for
600 epochs, which trained 12.2 (under more load as well). Results go to ``--out`` (JSON, with the
machine) and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musebench.util import cpu_name, strict_json, write_atomically

OUT = Path(__file__).resolve().parent / "calibration.json"
FRACTIONS = (1 / 16, 1 / 8)
#: The longer run's extra seconds, as a share of the shorter run's, under which the rate
#: is flagged: the biaxial LSTM's classical cell (2026-12-03) measured 13,858 and 27,716
#: time steps (a few batches of up to 2,048-step pieces) in 112.4 and 121.0 s; the 8.5 s
#: between them gave 1,622 steps/s, and the 707,512 steps proposed from it trained for
#: 43.8 minutes in the official grid (269 steps/s, part of it beside other measurements)
#: instead of 9.
MIN_SPREAD = 0.25


@dataclass(frozen=True)
class Plan:
    """One calibration run: an official cell's config on ``measured`` of its ``budget``."""

    track: str
    dataset: str
    model: str
    view: str
    max_length: int | None
    budget: int
    measured: int
    score_beats: int | None = None

    @property
    def name(self) -> str:
        return f"{self.track}-{self.model}-{self.measured}"


def plans(fractions: tuple[float, ...] = FRACTIONS, models: list[str] | None = None,
          tracks: list[str] | None = None) -> list[Plan]:
    """A :class:`Plan` per fraction for each member of each chosen track on its first
    data set (models with a ``train_timesteps`` budget only: the others do not train)."""
    from musebench.experiments.official import cell_config
    from musebench.experiments.tracks import capabilities, cells, load_protocol

    protocol = load_protocol()
    firsts = {t.name: t.datasets[0] for t in protocol.tracks}
    out = []
    for cell in cells(protocol, capabilities(protocol.preset), tracks=tracks, seeds=[0],
                      models=models):
        if cell.dataset != firsts[cell.track]:
            continue
        config = cell_config(cell, protocol)
        budget = config.get("train_timesteps")
        if not budget:
            continue
        data = config["data"]
        out += [Plan(cell.track, cell.dataset, cell.model, data["view"],
                     data.get("max_length"), int(budget), max(1, round(budget * f)),
                     data.get("score_beats"))
                for f in fractions]
    return out


def bench_command(plan: Plan, folder: Path) -> list[str]:
    """The ``musebench bench`` command of ``plan`` (the grid's,
    :func:`~musebench.experiments.grid.bench_command`), writing into ``folder``."""
    from musebench.experiments.grid import Cell
    from musebench.experiments.grid import bench_command as grid_command

    length = [] if plan.max_length is None else ["--max-length", str(plan.max_length)]
    scored = [] if plan.score_beats is None else ["--score-beats", str(plan.score_beats)]
    return grid_command(Cell(plan.model, plan.dataset, 0), [
        "--view", plan.view, *length, *scored, "--track", plan.track, "--set", f"train_timesteps={plan.measured}",
        "--out", str(folder / "runs"), "--results", str(folder / f"{plan.name}.jsonl"),
        "--no-audio"])


def figures(points: list[tuple[int, float]], budget: int, per_epoch: int | None,
            minutes: float) -> dict[str, Any]:
    """The line through two ``(time steps, train seconds)`` runs of one cell, and what it
    says of ``budget`` and of a budget of ``minutes`` (module docstring)."""
    (b1, t1), (b2, t2) = sorted(points)
    if b2 <= b1 or t2 <= t1:
        return {"error": f"the longer run ({b2:,} steps, {t2:.1f} s) was not slower than the "
                         f"shorter ({b1:,}, {t1:.1f} s): measure larger fractions"}
    rate = (b2 - b1) / (t2 - t1)
    fixed = t1 - b1 / rate
    steps = rate * (60 * minutes - fixed)
    if per_epoch and steps >= per_epoch:
        steps = round(steps / per_epoch) * per_epoch
    weak = t2 - t1 < MIN_SPREAD * t1
    warning = {"warning": f"the longer run's {b2 - b1:,} more steps took {t2 - t1:.1f} s, under "
                          f"{MIN_SPREAD:.0%} of the shorter run's {t1:.1f} s: the rate rests on "
                          "a few batches beside the fixed cost; calibrate this cell again "
                          "with larger --fractions"} if weak else {}
    return {**warning, "points": [[b1, t1], [b2, t2]], "timesteps_per_s": rate,
            "fixed_seconds": fixed,
            "timesteps_per_epoch": per_epoch, "budget": budget,
            "budget_minutes": (fixed + budget / rate) / 60,
            # none where the fixed cost alone takes the target's minutes
            "proposed": int(round(steps)) if steps >= 1 else None,
            "proposed_minutes": minutes}


def run_plans(plan_list: list[Plan], jobs: int, log: Any = sys.stderr,
              on_done: Callable[[Plan, dict[str, Any]], None] | None = None
              ) -> dict[Plan, dict[str, Any]]:
    """Run the plans ``jobs`` at a time (one torch thread each): each plan's result row,
    or ``{"error": ...}`` for a run that failed (the others go on); ``on_done(plan, row)``
    is called as each run ends."""
    env = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               PYTHONWARNINGS="ignore")

    def run(plan: Plan, folder: Path) -> dict[str, Any]:
        print(f"calibrate: {plan.track} / {plan.dataset} / {plan.model}: "
              f"{plan.measured:,} of {plan.budget:,} time steps", file=log, flush=True)
        log_file = folder / f"{plan.name}.log"
        with log_file.open("w") as stderr:  # a file, not a pipe: the log never blocks
            code = subprocess.run(bench_command(plan, folder), env=env,
                                  stdout=subprocess.DEVNULL, stderr=stderr).returncode
        store = folder / f"{plan.name}.jsonl"
        rows = store.read_text().splitlines() if store.exists() else []
        if code == 0 and rows:
            return json.loads(rows[-1])
        lines = [x for x in log_file.read_text(errors="replace").splitlines() if x.strip()]
        return {"error": lines[-1] if lines else "no result row"}

    done: dict[Plan, dict[str, Any]] = {}
    with (tempfile.TemporaryDirectory(prefix="musebench-calibrate-") as tmp,
          ThreadPoolExecutor(max_workers=jobs) as pool):
        futures = {pool.submit(run, plan, Path(tmp)): plan for plan in plan_list}
        for future in as_completed(futures):
            plan = futures[future]
            done[plan] = future.result()
            if on_done is not None:
                on_done(plan, done[plan])
    return done


def cell_figures(runs: list[Plan], rows: dict[Plan, dict[str, Any]],
                 minutes: float) -> dict[str, Any]:
    """One cell's entry from the result ``rows`` of its ``runs`` (:func:`figures`)."""
    head = {"track": runs[0].track, "dataset": runs[0].dataset, "model": runs[0].model}
    errors = [rows[p]["error"] for p in runs if "error" in rows[p]]
    if errors:
        return {**head, "error": errors[0]}
    per_epoch = rows[runs[0]].get("budget", {}).get("timesteps_per_epoch")
    points = [(p.measured, float(rows[p]["train_seconds"])) for p in runs]
    return {**head, **figures(points, runs[0].budget, per_epoch, minutes)}


def calibrate(plan_list: list[Plan], jobs: int, minutes: float,
              on_cell: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every cell's figures (:func:`cell_figures`), in the plans' order; ``on_cell(entry)``
    is called as each cell's last run ends, so a calibration stopped part-way keeps what
    it measured."""
    cells: dict[tuple[str, str, str], list[Plan]] = {}
    for plan in plan_list:
        cells.setdefault((plan.track, plan.dataset, plan.model), []).append(plan)
    rows: dict[Plan, dict[str, Any]] = {}

    def done(plan: Plan, row: dict[str, Any]) -> None:
        rows[plan] = row
        runs = cells[(plan.track, plan.dataset, plan.model)]
        if on_cell is not None and all(p in rows for p in runs):
            on_cell(cell_figures(runs, rows, minutes))

    run_plans(plan_list, jobs, on_done=done)
    return [cell_figures(runs, rows, minutes) for runs in cells.values()]


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = ["| track | data set | model | steps/s | fixed s | budget | its minutes | "
             "for the target |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        head = f"| {r['track']} | {r['dataset']} | {r['model']} |"
        if "error" in r:
            lines.append(f"{head} failed: {r['error']} | | | | |")
            continue
        proposed = ("none: its fixed cost alone is longer" if r["proposed"] is None
                    else f"{r['proposed']:,}")
        if "warning" in r:
            proposed += f" (unreliable: {r['warning']})"
        lines.append(f"{head} {r['timesteps_per_s']:,.0f} | {r['fixed_seconds']:.0f} | "
                     f"{r['budget']:,} | {r['budget_minutes']:.1f} | {proposed} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musebench.perf.calibrate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=9.0,
                        help="training minutes a budget should take (default 9: the "
                             "protocol's 8-10)")
    parser.add_argument("--fractions", type=float, nargs=2, default=list(FRACTIONS),
                        help="the two shares of each budget trained (default 1/16 1/8)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="runs side by side, one thread each (default 2, as the grid)")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--tracks", nargs="+", default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    low, high = sorted(args.fractions)
    if not 0 < low < high <= 1 or args.jobs < 1 or args.minutes <= 0:
        parser.error("need 0 < two different --fractions <= 1, --jobs >= 1, --minutes > 0")
    plan_list = plans((low, high), args.models, args.tracks)
    how = {"cpu": cpu_name(), "cpus": os.cpu_count(), "started": time.strftime(
        "%Y-%m-%dT%H:%M:%S%z"), "minutes": args.minutes, "fractions": [low, high],
        "jobs": args.jobs, "threads": 1}
    def keep(entries: list[dict[str, Any]]) -> None:
        write_atomically(args.out, strict_json(
            {"results": merged(args.out, [{**e, "how": how} for e in entries])},
            indent=1) + "\n")

    results = calibrate(plan_list, args.jobs, args.minutes, lambda e: keep([e]))
    keep(results)
    print(table(results))
    return 1 if any("error" in r for r in results) else 0


def merged(path: Path, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` with the entries of the file at ``path`` for the cells they do not
    measure, so the tracks can be calibrated in parts (each entry says how it was made)."""
    key = ("track", "dataset", "model")
    new = {tuple(r[k] for k in key) for r in results}
    old = json.loads(path.read_text()).get("results", []) if path.exists() else []
    return [r for r in old if tuple(r.get(k) for k in key) not in new] + results


if __name__ == "__main__":
    sys.exit(main())
