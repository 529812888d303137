"""Budgets as equal minutes (issue #11): ``python -m musebench.perf.calibrate``.

Each standard preset states its budget in time steps of training data (``train_timesteps``,
epoch-bounded so that a row does not depend on the machine's load), meant as the same
minutes of training for every model. This tool measures what each budget costs here, in
the condition the official grid runs in, and proposes the budget that takes ``--minutes``:

- the cells: every member of every track of ``experiments/tracks.yaml`` on the track's
  first data set, seed 0 (the models come from the protocol, never named here); each
  trained by ``musebench bench`` with the cell's official config (the track's view and
  ``max_length``) on ``--fraction`` of its budget, into a temporary folder;
- the condition: one torch thread a process, ``--jobs`` processes side by side (two on
  the two-core machine, as ``musebench official`` runs in two clones), under one load;
- the figures, from each run's ``train_seconds`` (statistics, the fit with its
  validation and checkpoints, sampling excluded): time steps per second ``r = b / t``
  for ``b`` time steps trained in ``t`` seconds; the minutes of the whole budget ``B``,
  ``B / r / 60``; the budget that takes ``M`` minutes, ``r M 60``, rounded to whole
  epochs where it is at least one (the bench trains whole epochs, each a share of its
  batches).

A run's fixed costs (the first validation, the statistics) are charged to its fraction,
so a small fraction under-states the rate; the default eighth of a budget is about a
minute a cell. Results go to ``--out`` (JSON, with the machine) and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musebench.util import cpu_name, strict_json, write_atomically

OUT = Path(__file__).resolve().parent / "calibration.json"


@dataclass(frozen=True)
class Plan:
    """One calibration run: an official cell's config on a fraction of its budget."""

    track: str
    dataset: str
    model: str
    view: str
    max_length: int | None
    budget: int
    measured: int


def plans(fraction: float, models: list[str] | None = None,
          tracks: list[str] | None = None) -> list[Plan]:
    """One :class:`Plan` per member of each chosen track on its first data set (models with
    a ``train_timesteps`` budget only: the others do not train)."""
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
        out.append(Plan(cell.track, cell.dataset, cell.model, data["view"],
                        data.get("max_length"), int(budget),
                        max(1, round(budget * fraction))))
    return out


def bench_command(plan: Plan, folder: Path) -> list[str]:
    """The ``musebench bench`` command of ``plan``, writing into ``folder``."""
    command = [sys.executable, "-m", "musebench", "bench", "--model", plan.model,
               "--dataset", plan.dataset, "--view", plan.view, "--seed", "0",
               "--set", f"train_timesteps={plan.measured}", "--out", str(folder / "runs"),
               "--results", str(folder / f"{plan.track}-{plan.model}.jsonl"), "--no-audio"]
    if plan.max_length is not None:
        command += ["--max-length", str(plan.max_length)]
    return command


def figures(plan: Plan, row: dict[str, Any], minutes: float) -> dict[str, Any]:
    """What ``plan``'s result ``row`` says of its budget (module docstring)."""
    seconds = float(row["train_seconds"])
    rate = plan.measured / seconds
    per_epoch = int(row.get("budget", {}).get("timesteps_per_epoch") or 0)
    proposed = rate * minutes * 60
    if per_epoch and proposed >= per_epoch:
        proposed = round(proposed / per_epoch) * per_epoch
    return {"track": plan.track, "dataset": plan.dataset, "model": plan.model,
            "measured_timesteps": plan.measured, "train_seconds": seconds,
            "timesteps_per_s": rate, "timesteps_per_epoch": per_epoch or None,
            "budget": plan.budget, "budget_minutes": plan.budget / rate / 60,
            "proposed": int(round(proposed)), "proposed_minutes": minutes}


def run(plan_list: list[Plan], jobs: int, minutes: float,
        log: Any = sys.stderr) -> list[dict[str, Any]]:
    """Run the plans ``jobs`` at a time (one torch thread each); their figures, or an
    ``error`` entry for a run that failed (the others go on)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               PYTHONWARNINGS="ignore")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="musebench-calibrate-") as tmp:
        folder = Path(tmp)
        waiting = list(plan_list)
        running: list[tuple[Plan, subprocess.Popen]] = []
        while waiting or running:
            while waiting and len(running) < jobs:
                plan = waiting.pop(0)
                print(f"calibrate: {plan.track} / {plan.dataset} / {plan.model}: "
                      f"{plan.measured:,} of {plan.budget:,} time steps", file=log, flush=True)
                with open(folder / f"{plan.track}-{plan.model}.log", "w") as stderr:
                    running.append((plan, subprocess.Popen(  # a file, not a pipe: the
                        bench_command(plan, folder), env=env,   # log never blocks the run
                        stdout=subprocess.DEVNULL, stderr=stderr)))
            time.sleep(1.0)
            for plan, process in [(p, q) for p, q in running if q.poll() is not None]:
                running.remove((plan, process))
                store = folder / f"{plan.track}-{plan.model}.jsonl"
                rows = store.read_text().splitlines() if store.exists() else []
                if process.returncode != 0 or not rows:
                    log_text = (folder / f"{plan.track}-{plan.model}.log").read_text(
                        errors="replace")
                    lines = [x for x in log_text.splitlines() if x.strip()]
                    results.append({"track": plan.track, "dataset": plan.dataset,
                                    "model": plan.model,
                                    "error": lines[-1] if lines else "no result row"})
                else:
                    results.append(figures(plan, json.loads(rows[-1]), minutes))
    order = {(p.track, p.model): i for i, p in enumerate(plan_list)}
    return sorted(results, key=lambda r: order[(r["track"], r["model"])])


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = ["| track | data set | model | steps/s | budget | its minutes | for the target |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['track']} | {r['dataset']} | {r['model']} | "
                         f"failed: {r['error']} | | | |")
            continue
        lines.append(f"| {r['track']} | {r['dataset']} | {r['model']} | "
                     f"{r['timesteps_per_s']:,.0f} | {r['budget']:,} | "
                     f"{r['budget_minutes']:.1f} | {r['proposed']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musebench.perf.calibrate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=9.0,
                        help="training minutes a budget should take (default 9: the "
                             "protocol's 8-10)")
    parser.add_argument("--fraction", type=float, default=0.125,
                        help="share of each budget trained to measure it (default 1/8)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="runs side by side, one thread each (default 2, as the grid)")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--tracks", nargs="+", default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1 or args.jobs < 1 or args.minutes <= 0:
        parser.error("need 0 < --fraction <= 1, --jobs >= 1 and --minutes > 0")
    plan_list = plans(args.fraction, args.models, args.tracks)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results = run(plan_list, args.jobs, args.minutes)
    report = {"machine": {"cpu": cpu_name(), "cpus": os.cpu_count()}, "started": started,
              "minutes": args.minutes, "fraction": args.fraction, "jobs": args.jobs,
              "threads": 1, "results": results}
    write_atomically(args.out, strict_json(report, indent=1) + "\n")
    print(table(results))
    failed = sum("error" in r for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
