"""``musebench leaderboard``: render the results store with its reference rows.

``musebench leaderboard [--dataset D] [--format md|html|csv] [--out FILE] [--official]
[--protocol FILE] [--wandb] [--perf FILE]`` reads the user's runs (``--results``, default
``$MUSEBENCH_RESULTS`` or ``runs/results.jsonl``; ``--official`` adds the checked-in
official results, kept apart from the user's rows and labelled), adds the real-data
reference row of each (dataset, view) shown and the published figures for it, and prints
(or writes atomically) the report; HTML written with ``--out`` keeps its audio and MIDI
files in ``<out stem>_files/`` beside the page. With ``--official`` (Markdown) the page
opens with one table per track and dataset of the tracks protocol: the real data, every
model of the track and each model's representation ceiling, with intervals over seeds; a
stale official row (its code or config changed since) is shown apart, as ``<model>
(stale)``. In the tables by dataset that follow, stale official rows are left out (a note
says how many).
``--wandb`` also logs it as a numeric ``wandb.Table`` (its run files under the output
folder, not the current one).
Markdown and HTML end with a Performance section when ``make perf``'s JSON is there
(``--perf``, default ``perf.json`` beside the results store), and a Listening section
holds the listening test's ranking when there are votes (``--arena DB``, default
``arena.sqlite`` beside the results store).
``musebench leaderboard --cards`` instead rewrites the official results in every model card
(``docs/models/*.md``) from the checked-in official store
(:mod:`musebench.experiments.model_cards`) and names the cards it changed.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``leaderboard``."""
    parser = subparsers.add_parser("leaderboard", help="render the leaderboard")
    parser.add_argument("--dataset", default=None, help="show only this dataset")
    parser.add_argument("--format", choices=("md", "html", "csv"), default="md",
                        help="Markdown tables, an HTML report, or tidy CSV")
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
                             "perf.json next to the first results store, if there is one; with "
                             "--official, else perf/previous.json, the kept last run)")
    parser.add_argument("--arena", default=None, metavar="DB",
                        help="the listening test's vote database for the Listening section "
                             "(md/html; default: arena.sqlite next to the first results store, "
                             "if there is one; see `musebench arena`)")
    parser.add_argument("--cards", action="store_true",
                        help="rewrite the official results of every model card "
                             "(docs/models/*.md) from the official store, and nothing else")
    parser.set_defaults(func=run)


def reference_row(dataset: str, data_root: Path | None, view: str,
                  beats: int | None = None) -> dict[str, Any] | None:
    """The real-data row of ``dataset`` in ``view`` over the first ``beats`` beats (None:
    whole pieces), or None, said on stderr, when it cannot be read (e.g. no
    ``MUSEBENCH_DATA``): the tables still show the runs without it."""
    from musebench.datasets.sources.base import SourceError
    from musebench.experiments.scoring import real_data_row

    try:
        return real_data_row(dataset, data_root, view=view, beats=beats)
    except (OSError, KeyError, ValueError, SourceError) as error:
        print(f"leaderboard: no {view} reference row for {dataset}: {error}", file=sys.stderr)
        return None


def collect_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run rows of the chosen stores plus the reference rows of their datasets."""
    from musebench.leaderboard.reference import published_rows
    from musebench.leaderboard.render import view_rank
    from musebench.leaderboard.store import OFFICIAL_RESULTS, default_results_path, read_rows

    stores = list(args.results or [default_results_path()])
    if args.official:
        stores.append(OFFICIAL_RESULTS)
    rows = []
    for store in stores:
        official = Path(store).resolve() == OFFICIAL_RESULTS.resolve()
        rows += [dict(row, store_dir=str(Path(store).resolve().parent), official=official)
                 for row in read_rows(store)]
    # --dataset shows one data set: the others' reference rows would be built and dropped
    datasets = [args.dataset] if args.dataset else sorted({r["dataset"] for r in rows})
    if not args.no_reference:
        for dataset in datasets:
            # one reference per view and scored length of the runs shown (rows before
            # views were full-piece, rows before scored lengths whole)
            kinds = {(r.get("view", "full"), r.get("score_beats")) for r in rows
                     if r["dataset"] == dataset} or {("full", None)}
            for view, beats in sorted(kinds, key=lambda k: (view_rank(k[0]), k[1] or 0)):
                reference = reference_row(dataset, args.data_root, view, beats)
                if reference is not None:
                    rows.append(reference)
    rows += [r for r in published_rows() if r["dataset"] in datasets]
    return rows


LEADERBOARD_COLUMNS = ("model", "dataset", "preset", "view", "kind", "official", "seeds",
                       "metric", "mean", "ci_low", "ci_high")


def leaderboard_table_rows(entries: list) -> list[list[Any]]:
    """The W&B leaderboard table's rows: numbers, one per (entry, metric), the interval's
    bounds in their own columns (W&B sorts and plots numbers, not ``a ± b`` strings)."""
    from musebench.leaderboard.render import metric_names

    return [[e.model, e.dataset, e.preset, e.view, e.kind, e.official, e.seeds, name,
             *e.stats[name]] for e in entries for name in metric_names([e])]


def push_wandb(entries: list, folder: Path) -> None:
    """Log the leaderboard as a numeric ``wandb.Table`` (:data:`LEADERBOARD_COLUMNS`;
    offline unless configured otherwise); the run's files go under ``folder``."""
    import wandb

    from musebench.experiments.tracking import PROJECT, wandb_mode

    table = wandb.Table(columns=list(LEADERBOARD_COLUMNS), data=leaderboard_table_rows(entries))
    folder.mkdir(parents=True, exist_ok=True)
    run = wandb.init(project=PROJECT, job_type="leaderboard", mode=wandb_mode(), dir=str(folder))
    try:
        run.log({"leaderboard": table})
    finally:
        run.finish()


def load_performance(args: argparse.Namespace) -> dict[str, Any] | None:
    """The perf JSON named by ``--perf``, else ``perf.json`` beside the first results store
    when it exists, else, for ``--official``, the figures the repository keeps from the
    last ``make perf`` (``perf/previous.json``, so the official report renders the same
    from a fresh clone); None when there is none.

    Raises:
        FileNotFoundError: ``--perf`` names a file that does not exist.
    """
    import json

    from musebench.leaderboard.store import default_results_path
    from musebench.perf.previous import PREVIOUS

    path = args.perf
    if path is None:
        path = Path(list(args.results or [default_results_path()])[0]).parent / "perf.json"
        if not path.is_file():
            if not (args.official and PREVIOUS.is_file()):
                return None
            path = PREVIOUS
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


def without_stale(args: argparse.Namespace, rows: list[dict[str, Any]],
                  hasher: Callable[[str, str, str], str]) -> tuple[list[dict[str, Any]], int]:
    """``rows`` less the stale official ones (their code or config changed since:
    :func:`musebench.experiments.official.stale_rows`, code hashes from ``hasher``), and
    how many were left out."""
    from musebench.experiments.official import stale_rows
    from musebench.experiments.tracks import PROTOCOL, load_protocol

    if not args.official:
        return rows, 0
    flags = stale_rows(rows, load_protocol(args.protocol or PROTOCOL), hasher)
    kept = [r for r, flag in zip(rows, flags, strict=True) if not (flag and r.get("official"))]
    return kept, len(rows) - len(kept)


def official_note(args: argparse.Namespace, entries: list, stale: int = 0) -> list[str]:
    """Sentences saying where the rows come from, when official and own rows are mixed,
    and how many stale official rows were left out."""
    if not args.official:
        return []
    own = sum(e.kind == "run" and not e.official for e in entries)
    stores = ", ".join(str(s) for s in args.results or [default_store()])
    left_out = (f" {stale} stale official row(s) (made by code or a config that has changed "
                "since; `musebench official --dry-run` lists their cells) are left out."
                if stale else "")
    return ["Rows marked 'official' are the checked-in official results "
            "(leaderboard/results/official.jsonl). "
            + (f"The {own} other run rows are your own, from {stores}; they are never averaged "
               "with the official ones." if own else "No rows of your own are shown.")
            + left_out]


def default_store() -> Path:
    from musebench.leaderboard.store import default_results_path

    return default_results_path()


def render(args: argparse.Namespace, entries: list, stale: int = 0) -> str:
    """The page in ``args.format``; HTML with ``--out`` puts its audio and MIDI in
    ``<out stem>_files/`` beside it; ``stale``: official rows left out, said in a note."""
    from musebench.leaderboard.html_report import to_html
    from musebench.leaderboard.render import to_csv, to_markdown

    if args.format == "csv":
        return to_csv(entries)
    extra = dict(performance=load_performance(args), listening=load_listening(args))
    if args.format == "md":
        return to_markdown(entries, notes=official_note(args, entries, stale), **extra)
    assets = args.out.with_name(args.out.stem + "_files") if args.out else None
    if assets is not None and assets.is_dir():
        shutil.rmtree(assets)
    return to_html(entries, assets=assets, notes=official_note(args, entries, stale), **extra)


def official_tables(args: argparse.Namespace, hasher: Callable[[str, str, str], str]) -> str:
    """Markdown: per track of the protocol and per dataset, the real data, every model of
    the track and each model's ceiling (:func:`musebench.leaderboard.tracks.track_table`);
    stale rows found with the code hashes of ``hasher``."""
    from musebench.experiments.official import stale_rows
    from musebench.experiments.tracks import PROTOCOL, load_protocol
    from musebench.leaderboard.reference import published_rows
    from musebench.leaderboard.store import OFFICIAL_RESULTS, read_rows
    from musebench.leaderboard.tracks import markdown, track_table

    rows = [r for store in [OFFICIAL_RESULTS, *(args.results or [])] if Path(store).exists()
            for r in read_rows(store) if r.get("track")]
    protocol = load_protocol(args.protocol or PROTOCOL)
    stale = stale_rows(rows, protocol, hasher)
    parts = ["## Official tracks\n"]
    if any(stale):
        parts.append(f"{sum(stale)} row(s) are stale (their code or config changed since they "
                     "were made): shown apart as `<model> (stale)`, never averaged with current "
                     "rows; `musebench official` re-runs their cells.\n")
    for track in protocol.tracks:
        for dataset in track.datasets:
            if args.dataset and dataset != args.dataset:
                continue
            reference = (None if args.no_reference
                         else reference_row(dataset, args.data_root, track.view,
                                            track.score_beats))
            table = track_table(rows, track.name, dataset, list(track.headline), reference,
                                published_rows() if track.published else None, stale)
            parts.append(markdown(table, list(track.headline), f"{track.title}: {dataset}"))
    return "\n".join(parts) + "\n"


def write_cards(args: argparse.Namespace) -> int:
    """``--cards``: every model card's official results from the official store."""
    from musebench.experiments.model_cards import update_cards
    from musebench.experiments.tracks import PROTOCOL, load_protocol
    from musebench.leaderboard.store import OFFICIAL_RESULTS, read_rows

    changed = update_cards(read_rows(OFFICIAL_RESULTS), load_protocol(args.protocol or PROTOCOL))
    print("\n".join(f"wrote {card}" for card in changed) or "model cards: already up to date")
    return 0


def run(args: argparse.Namespace) -> int:
    from musebench.experiments.official import code_hash
    from musebench.leaderboard.render import aggregate
    from musebench.util import write_atomically

    if args.cards:
        return write_cards(args)

    # One code hash per (model, dataset, preset) for both the track tables and the
    # tables by dataset: hashing reads each model's files.
    hasher = functools.cache(code_hash)
    tables = official_tables(args, hasher) if args.official and args.format == "md" else ""
    rows, stale = without_stale(args, collect_rows(args), hasher)
    entries = aggregate(rows, args.dataset)
    if not any(e.kind == "run" for e in entries):
        print("leaderboard: no runs yet (run `make bench` first)", file=sys.stderr)
    text = tables + render(args, entries, stale)
    if args.out:
        write_atomically(args.out, text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    if args.wandb:
        push_wandb(entries, Path(args.out).parent if args.out else
                   Path(list(args.results or [default_store()])[0]).parent)
    return 0
