"""``musebench official``: the official grid of the tracks protocol (``make official``).

``musebench official [--tracks T ...] [--datasets D ...] [--models M ...] [--seeds S ...]
[--preset P] [--protocol FILE] [--results FILE] [--out DIR] [--dry-run] [--allow-dirty]
[--rehash]`` lists the (track, dataset,
model, seed) cells, skips those whose row is already in the store with the same config
and code hash, states the total estimated cost, and runs the rest
(:mod:`musebench.experiments.official`). Official rows need a clean git tree;
``--allow-dirty`` is for trials and refuses the checked-in official store. ``--rehash``
runs nothing: it recomputes the store's code hashes from the files at each row's commit
(after the hash's definition changed) and rewrites the store.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``official``."""
    parser = subparsers.add_parser("official", help="run the official grid (resumable)")
    parser.add_argument("--tracks", nargs="+", default=None, help="only these tracks")
    parser.add_argument("--datasets", nargs="+", default=None, help="only these datasets")
    parser.add_argument("--models", nargs="+", default=None, help="only these models")
    parser.add_argument("--seeds", nargs="+", type=int, default=None, help="only these seeds")
    parser.add_argument("--preset", default=None,
                        help="preset of every cell (default: the protocol's)")
    parser.add_argument("--protocol", type=Path, default=None,
                        help="tracks protocol (default: experiments/tracks.yaml)")
    parser.add_argument("--results", type=Path, default=None,
                        help="store (default: leaderboard/results/official.jsonl)")
    parser.add_argument("--out", type=Path, default=Path("runs/official"), help="run folders")
    parser.add_argument("--dry-run", action="store_true", help="state the plan, run nothing")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run from uncommitted code (rows marked clean_tree=false)")
    parser.add_argument("--rehash", action="store_true",
                        help="recompute the store's code hashes at each row's commit, run nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from musebench.experiments import official, tracks
    from musebench.leaderboard.store import OFFICIAL_RESULTS, check_store, read_rows, rewrite_rows

    protocol = tracks.load_protocol(args.protocol or tracks.PROTOCOL)
    if args.preset:
        protocol = dataclasses.replace(protocol, preset=args.preset)
    store = args.results or OFFICIAL_RESULTS
    if args.allow_dirty and store.resolve() == OFFICIAL_RESULTS.resolve():
        raise ValueError("--allow-dirty cannot write the official store; pass --results FILE")
    check_store(store)
    if args.rehash:
        rows = read_rows(store)
        changed = official.rehash(rows)
        rewrite_rows(rows, store)
        print(f"official: {changed} of {len(rows)} code hash(es) changed in {store}")
        return 0
    if not args.allow_dirty and not args.dry_run:
        official.check_clean_tree()
    caps = tracks.capabilities(protocol.preset)
    cells = tracks.cells(protocol, caps, args.tracks, args.seeds, args.datasets, args.models)
    todo, skipped = official.pending(cells, read_rows(store) if store.exists() else [],
                                     protocol)
    print(official.describe(todo, skipped, protocol.preset), flush=True)
    if args.dry_run:
        for cell in todo:
            print(f"  {cell.track} / {cell.dataset} / {cell.model} / seed {cell.seed}")
        return 0
    rows = official.run_grid(protocol, todo, store, args.out, args.data_root,
                             args.allow_dirty, say=lambda text: print(text, flush=True))
    print(f"official: {len(rows)} row(s) written to {store}", file=sys.stderr)
    return 0
