"""``musebench bench`` (one run) and ``musebench bench-all`` (a model × dataset × seed grid,
run here ``--jobs`` at a time, written as a SLURM array script, or one cell of it by
``--task-index``; see :mod:`musebench.experiments.grid`).

``make bench MODEL=… DATASET=… PRESET=… SEED=… DEVICES=… STRATEGY=… NODES=… PRECISION=…`` and
``make bench-all PRESET=… MODELS=… DATASETS=… SEEDS=… JOBS=…`` wrap these.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from musebench.cli import arg_types
from musebench.cli.names import choice
from musebench.cli.summary import format_summary
from musebench.datasets.views import VIEWS
from musebench.experiments.config import PRESETS
from musebench.experiments.grid import Cell


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", type=choice("preset", PRESETS), default="standard",
                        metavar="{" + ",".join(PRESETS) + "}",
                        help="config preset: smoke (seconds, on the fixture), standard, paper")
    parser.add_argument("--seed", type=arg_types.seed, default=0,
                        help="seeds Python, NumPy, torch and sampling")
    parser.add_argument("--devices", type=arg_types.positive_int, default=None,
                        help="Trainer devices (default: the config's, else Lightning's)")
    parser.add_argument("--precision", type=arg_types.precision, default=None,
                        help=f"Trainer precision: {', '.join(arg_types.PRECISIONS)} "
                             "(default: the config's, else 32-true)")
    parser.add_argument("--strategy", default=None,
                        help="Trainer strategy, e.g. ddp (default: the config's / Lightning's)")
    parser.add_argument("--num-nodes", type=arg_types.positive_int, default=None,
                        help="nodes of a multi-node run (launched by torchrun or SLURM)")
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="root folder of the run folders")
    parser.add_argument("--results", type=Path, default=None,
                        help="results store (default: $MUSEBENCH_RESULTS or <out>/results.jsonl)")
    parser.add_argument("--no-audio", dest="audio", action="store_false",
                        help="skip WAV rendering even where fluidsynth is installed")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override, e.g. model.hidden=64")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` and ``bench-all``."""
    one = subparsers.add_parser("bench", help="train, sample, score and record one model")
    one.add_argument("--model", required=True, help="a name from `musebench models`")
    one.add_argument("--dataset", default=None, help="data source (default: the config's)")
    one.add_argument("--resume", action="store_true",
                     help="continue from the last checkpoint of the same settings")
    one.add_argument("--view", type=choice("view", VIEWS), default=None,
                     help="learn and score the data in this view (an official track's: "
                          f"{', '.join(VIEWS)}; default: the model's own)")
    one.add_argument("--max-length", type=int, default=None,
                     help="cut whole pieces into examples of at most this many time steps "
                          "(an official track's max_length; default: whole pieces)")
    one.add_argument("--score-beats", type=int, default=None,
                     help="score samples, test pieces and ceilings over their first this "
                          "many beats (an official track's score_beats; default: whole)")
    one.add_argument("--track", default=None,
                     help="apply the model config's track_settings for this official track "
                          "(its budget and generation length there)")
    _common(one)
    one.set_defaults(func=run_one)
    every = subparsers.add_parser(
        "bench-all", help="bench a model x dataset x seed grid (here, or as a SLURM array)")
    every.add_argument("--models", nargs="+", default=None,
                       help="default: every registered model")
    every.add_argument("--datasets", nargs="+", default=None,
                       help="default: each model's config dataset")
    every.add_argument("--seeds", nargs="+", type=arg_types.seed, default=None,
                       help="default: --seed")
    every.add_argument("--jobs", type=arg_types.positive_int, default=1,
                       help="cells running at once (here: processes; SLURM: array tasks)")
    every.add_argument("--slurm", type=Path, default=None, metavar="FILE",
                       help="write an sbatch array script (one task per cell) instead of running")
    every.add_argument("--sbatch", action="append", default=[], metavar="OPTION",
                       help="extra #SBATCH option for --slurm, e.g. --sbatch=--gpus-per-node=4")
    every.add_argument("--task-index", type=arg_types.whole, default=None,
                       help="run only this cell of the grid (a SLURM array task)")
    _common(every)
    every.set_defaults(func=run_all)


def _results(args: argparse.Namespace) -> Path | None:
    if args.results is not None:
        return args.results
    return Path(os.environ["MUSEBENCH_RESULTS"]) if "MUSEBENCH_RESULTS" in os.environ else None


def run_one(args: argparse.Namespace) -> int:
    from musebench.experiments.bench import bench

    result = bench(args.model, dataset=args.dataset, preset=args.preset, seed=args.seed,
                   devices=args.devices, precision=args.precision,
                   strategy=args.strategy, num_nodes=args.num_nodes, out=args.out,
                   overrides=args.overrides, resume=args.resume, data_root=args.data_root,
                   results=_results(args), audio=args.audio, view=args.view,
                   max_length=args.max_length, score_beats=args.score_beats,
                   track=args.track)
    if result is not None:
        print(format_summary(result.row, _reference(result.row, args.data_root),
                             _results(args) or args.out / "results.jsonl"))
    return 0


def _reference(row: dict, data_root: Path | None) -> dict | None:
    """The real data's metrics in the run's view, or None (with the reason) if they
    cannot be computed; the run itself is done and recorded either way."""
    from musebench.experiments.scoring import real_data_row

    try:
        return real_data_row(row["dataset"], data_root, view=row["view"],
                             beats=row.get("score_beats"))["metrics"]
    except (ValueError, KeyError, FileNotFoundError, OSError) as error:
        print(f"(no real-data reference: {error})", file=sys.stderr)
        return None


def run_all(args: argparse.Namespace) -> int:
    """The grid: one cell (``--task-index``), a SLURM script (``--slurm``), or every cell
    here, ``--jobs`` at a time; a failed cell is reported, not fatal to the others."""
    from musebench.experiments import grid

    cells = _grid(args)
    if args.task_index is not None:
        cell = grid.cell_at(cells, args.task_index)
        print(f"== task {args.task_index}: {cell.label} ({args.preset})", flush=True)
        return run_one(argparse.Namespace(**{**vars(args), "model": cell.model,
                                             "dataset": cell.dataset, "seed": cell.seed,
                                             "resume": False}))
    if args.slurm is not None:
        logs = args.out.resolve() / "slurm"
        logs.mkdir(parents=True, exist_ok=True)
        args.slurm.write_text(grid.sbatch_script(
            cells, _task_command(args, cells), args.jobs, logs, nodes=args.num_nodes or 1,
            tasks_per_node=args.devices or 1, extra=args.sbatch))
        print(f"{args.slurm}: {len(cells)} array task(s); submit with: sbatch {args.slurm}")
        return 0
    failed = grid.run_local(cells, _bench_options(args), args.jobs, args.out / "grid-logs",
                            args.data_root)
    if failed:
        print(f"bench-all: {len(failed)} of {len(cells)} cell(s) failed: "
              f"{', '.join(cell.label for cell in failed)}", file=sys.stderr)
    return 1 if failed else 0


def _grid(args: argparse.Namespace) -> list[Cell]:
    """The cells named by ``--models``, ``--datasets`` (default: each model's config
    dataset) and ``--seeds`` (default: ``--seed``)."""
    from musebench.experiments.config import load_config
    from musebench.experiments.grid import grid_cells
    from musebench.models import MODELS, get_model

    models = args.models or sorted(MODELS)
    for name in models:
        get_model(name)  # an unknown name is a clear error before anything runs
    datasets = {name: args.datasets or [load_config(name, args.preset, args.overrides)
                                        ["data"]["source"]] for name in models}
    return grid_cells(models, datasets, args.seeds or [args.seed])


def _bench_options(args: argparse.Namespace) -> list[str]:
    """The ``musebench bench`` flags every cell shares."""
    options = ["--preset", args.preset, "--out", str(args.out.resolve())]
    for flag, value in (("--devices", args.devices), ("--precision", args.precision),
                        ("--strategy", args.strategy), ("--num-nodes", args.num_nodes),
                        ("--results", _results(args))):
        if value is not None:
            options += [flag, str(value)]
    if not args.audio:
        options.append("--no-audio")
    for override in args.overrides:
        options += ["--set", override]
    return options


def _task_command(args: argparse.Namespace, cells: list[Cell]) -> list[str]:
    """``musebench bench-all`` over the same grid, ending in ``--task-index``."""
    root = ["--data-root", str(args.data_root.resolve())] if args.data_root else []
    models = list(dict.fromkeys(cell.model for cell in cells))
    seeds = [str(seed) for seed in dict.fromkeys(cell.seed for cell in cells)]
    datasets = ["--datasets", *args.datasets] if args.datasets else []
    return ["musebench", *root, "bench-all", "--models", *models, *datasets,
            "--seeds", *seeds, *_bench_options(args), "--task-index"]
