"""``musebench leaderboard``: render the results store with its reference rows.

``musebench leaderboard [--dataset D] [--format md|html|csv] [--out FILE] [--official]
[--protocol FILE] [--wandb] [--perf FILE]`` reads the user's runs (``--results``, default
``$MUSEBENCH_RESULTS`` or ``runs/results.jsonl``; ``--official`` adds the checked-in
official results), adds the real-data reference row of each (dataset, view) shown and the
published figures for it, and prints (or writes atomically) the table. With ``--official``
(Markdown) it first prints one table per track and dataset of the tracks protocol: the
real data, every model of the track and each model's representation ceiling, with
intervals over seeds. ``--wandb`` also logs the table as a ``wandb.Table``.
Markdown and HTML end with a Performance section when ``make perf``'s JSON is there
(``--perf``, default ``perf.json`` beside the results store), and a Listening section
holds the listening test's ranking when there are votes (``--arena DB``, default
``arena.sqlite`` beside the results store).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``leaderboard``."""
    parser = subparsers.add_parser("leaderboard", help="render the leaderboard")
    parser.add_argument("--dataset", default=None, help="show only this dataset")
    parser.add_argument("--format", choices=("md", "html", "csv"), default="md")
    parser.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    parser.add_argument("--results", type=Path, action="append", default=None,
                        help="results store(s) (default: $MUSEBENCH_RESULTS or runs/results.jsonl)")
    parser.add_argument("--official", action="store_true",
                        help="include leaderboard/results/official.jsonl")
    parser.add_argument("--protocol", type=Path, default=None,
                        help="tracks protocol of the --official tables (default: "
                             "experiments/tracks.yaml)")
    parser.add_argument("--no-reference", action="store_true",
                        help="leave out the real-data reference rows (no data loading)")
    parser.add_argument("--wandb", action="store_true", help="log the table to W&B as well")
    parser.add_argument("--perf", type=Path, default=None,
                        help="`make perf` JSON for the Performance section (md/html; default: "
                             "perf.json next to the first results store, if there is one)")
    parser.add_argument("--arena", default=None, metavar="DB",
                        help="the listening test's vote database for the Listening section "
                             "(md/html; default: arena.sqlite next to the first results store, "
                             "if there is one; see `musebench arena`)")
    parser.set_defaults(func=run)


def collect_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run rows of the chosen stores plus the reference rows of their datasets."""
    from musebench.experiments.scoring import real_data_row
    from musebench.leaderboard.reference import published_rows
    from musebench.leaderboard.render import view_rank
    from musebench.leaderboard.store import OFFICIAL_RESULTS, default_results_path, read_rows

    stores = list(args.results or [default_results_path()])
    if args.official:
        stores.append(OFFICIAL_RESULTS)
    rows = [row for store in stores for row in read_rows(store)]
    datasets = sorted({r["dataset"] for r in rows} | ({args.dataset} if args.dataset else set()))
    if not args.no_reference:
        for dataset in datasets:
            # one reference per view of the runs shown (rows before views were full-piece)
            views = {r.get("view", "full") for r in rows if r["dataset"] == dataset} or {"full"}
            for view in sorted(views, key=view_rank):
                try:
                    rows.append(real_data_row(dataset, args.data_root, view=view))
                except (OSError, KeyError, ValueError) as error:
                    print(f"leaderboard: no {view} reference row for {dataset}: {error}",
                          file=sys.stderr)
    rows += [r for r in published_rows() if r["dataset"] in datasets]
    return rows


def push_wandb(entries: list, names: list[str]) -> None:
    """Log the leaderboard as a ``wandb.Table`` (offline unless configured otherwise)."""
    import wandb

    from musebench.experiments.tracking import PROJECT, wandb_mode
    from musebench.leaderboard.render import cell

    table = wandb.Table(columns=["model", "dataset", "preset", "kind", *names])
    for e in entries:
        table.add_data(e.model, e.dataset, e.preset, e.kind,
                       *[cell(e.stats.get(n)) for n in names])
    run = wandb.init(project=PROJECT, job_type="leaderboard", mode=wandb_mode())
    try:
        run.log({"leaderboard": table})
    finally:
        run.finish()


def load_performance(args: argparse.Namespace) -> dict[str, Any] | None:
    """The perf JSON named by ``--perf``, else ``perf.json`` beside the first results store
    when it exists; None when there is none.

    Raises:
        FileNotFoundError: ``--perf`` names a file that does not exist.
    """
    import json

    from musebench.leaderboard.store import default_results_path

    path = args.perf
    if path is None:
        path = Path(list(args.results or [default_results_path()])[0]).parent / "perf.json"
        if not path.is_file():
            return None
    return json.loads(Path(path).read_text())


def load_listening(args: argparse.Namespace) -> dict[str, Any] | None:
    """The listening test's ranking from ``--arena``, else from ``arena.sqlite`` beside the
    first results store when it exists (where ``musebench arena serve`` puts it); None
    when there is none."""
    from musebench.cli.arena import load_summary
    from musebench.leaderboard.store import default_results_path

    url = args.arena
    if url is None:
        path = Path(list(args.results or [default_results_path()])[0]).parent / "arena.sqlite"
        if not path.is_file():
            return None
        url = f"sqlite:///{path}"
    return load_summary(url)


def official_tables(args: argparse.Namespace) -> str:
    """Markdown: per track of the protocol and per dataset, the real data, every model of
    the track and each model's ceiling (:func:`musebench.leaderboard.tracks.track_table`)."""
    from musebench.experiments.scoring import real_data_row
    from musebench.experiments.tracks import PROTOCOL, load_protocol
    from musebench.leaderboard.reference import published_rows
    from musebench.leaderboard.store import OFFICIAL_RESULTS, read_rows
    from musebench.leaderboard.tracks import markdown, track_table

    rows = [r for store in [OFFICIAL_RESULTS, *(args.results or [])] if Path(store).exists()
            for r in read_rows(store) if r.get("track")]
    parts = ["## Official tracks\n"]
    for track in load_protocol(args.protocol or PROTOCOL).tracks:
        for dataset in track.datasets:
            if args.dataset and dataset != args.dataset:
                continue
            reference = None
            if not args.no_reference:
                try:
                    reference = real_data_row(dataset, args.data_root, view=track.view)
                except (OSError, KeyError, ValueError) as error:
                    print(f"leaderboard: no {track.view} reference row for {dataset}: {error}",
                          file=sys.stderr)
            table = track_table(rows, track.name, dataset, list(track.headline), reference,
                                published_rows() if track.published else None)
            parts.append(markdown(table, list(track.headline), f"{track.title}: {dataset}"))
    return "\n".join(parts) + "\n"


def run(args: argparse.Namespace) -> int:
    from musebench.leaderboard.render import RENDERERS, aggregate, metric_names
    from musebench.util import write_atomically

    if args.official and args.format == "md":
        sys.stdout.write(official_tables(args))
    entries = aggregate(collect_rows(args), args.dataset)
    if not any(e.kind == "run" for e in entries):
        print("leaderboard: no runs yet (run `make bench` first)", file=sys.stderr)
    render = RENDERERS[args.format]
    listening = load_listening(args)
    text = (render(entries) if args.format == "csv"
            else render(entries, performance=load_performance(args), listening=listening))
    if args.out:
        write_atomically(args.out, text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    if args.wandb:
        push_wandb(entries, metric_names(entries))
    return 0
