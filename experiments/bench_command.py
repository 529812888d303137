"""``musebench bench`` (one run) and ``musebench bench-all`` (every model, one preset).

``make bench MODEL=… DATASET=… PRESET=… SEED=… DEVICES=… STRATEGY=… NODES=… PRECISION=…`` and
``make bench-all PRESET=…`` wrap these.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from musebench.experiments.config import PRESETS


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=PRESETS, default="standard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--devices", type=int, default=None)
    parser.add_argument("--precision", default=None,
                        help="Trainer precision, e.g. 32-true, bf16-mixed, 16-mixed")
    parser.add_argument("--strategy", default=None,
                        help="Trainer strategy, e.g. ddp (default: the config's / Lightning's)")
    parser.add_argument("--num-nodes", type=int, default=None,
                        help="nodes of a multi-node run (launched by torchrun or SLURM)")
    parser.add_argument("--out", type=Path, default=Path("runs"))
    parser.add_argument("--results", type=Path, default=None,
                        help="results store (default: $MUSEBENCH_RESULTS or <out>/results.jsonl)")
    parser.add_argument("--no-audio", dest="audio", action="store_false",
                        help="skip WAV rendering even where fluidsynth is installed")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override, e.g. model.hidden=64")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` and ``bench-all``."""
    one = subparsers.add_parser("bench", help="train, sample, score and record one model")
    one.add_argument("--model", required=True)
    one.add_argument("--dataset", default=None, help="data source (default: the config's)")
    one.add_argument("--resume", action="store_true",
                     help="continue from the last checkpoint of the same settings")
    _common(one)
    one.set_defaults(func=run_one)
    every = subparsers.add_parser("bench-all", help="bench every registered model")
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
                   results=_results(args), audio=args.audio)
    if result is not None:
        print(f"run {result.row['run_id']}: samples in {result.samples}")
        for key, value in sorted(result.row["metrics"].items()):
            print(f"  {key:40s} {value:.4g}")
    return 0


def run_all(args: argparse.Namespace) -> int:
    """Every registered model on its default dataset; failures are reported, not fatal."""
    from musebench.experiments.bench import bench
    from musebench.models import MODELS

    failed = []
    for name in sorted(MODELS):
        print(f"== {name} ({args.preset})", flush=True)
        try:
            bench(name, preset=args.preset, seed=args.seed, devices=args.devices,
                  precision=args.precision, strategy=args.strategy, num_nodes=args.num_nodes,
                  out=args.out, overrides=args.overrides,
                  data_root=args.data_root, results=_results(args), audio=args.audio)
        except Exception as error:  # noqa: BLE001 - one model's failure must not stop the rest
            print(f"   {name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"bench-all: {len(failed)} model(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
