"""``musebench arena``: blind pairwise listening tests of the runs (issue #20).

``musebench arena serve [--results STORE] [--db URL] [--host H] [--port P] …`` serves the
listening page for the systems of a results store and the real data;
``musebench arena ranking [--db URL] [--json] [--exclude-flagged]`` prints the Bradley–Terry ranking of the
votes with bootstrap intervals, votes per system, rater agreement and sanity pairs.
See :mod:`musebench.arena`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def default_db() -> str:
    """``sqlite:///<folder of the results store>/arena.sqlite``."""
    from musebench.leaderboard.store import default_results_path

    return f"sqlite:///{default_results_path().parent / 'arena.sqlite'}"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``arena serve`` and ``arena ranking``."""
    parser = subparsers.add_parser("arena", help="blind pairwise listening tests")
    commands = parser.add_subparsers(dest="arena_command", required=True)
    serve = commands.add_parser("serve", help="serve the listening page")
    serve.add_argument("--results", type=Path, default=None,
                       help="results store (default: $MUSEBENCH_RESULTS or runs/results.jsonl)")
    serve.add_argument("--dataset", default=None, help="only runs on this dataset")
    serve.add_argument("--model", action="append", default=None,
                       help="only these models (repeatable; default: all of the store)")
    serve.add_argument("--db", default=None, help="SQLAlchemy URL of the vote database "
                       "(default: sqlite:///arena.sqlite beside the results store)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (0.0.0.0 for a study on the LAN)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument("--question", default=None,
                       help='what listeners are asked (default: "Which is more musical?")')
    serve.add_argument("--bars", type=int, default=8, help="clip length in bars")
    serve.add_argument("--clips", type=int, default=24, help="at most this many clips per model")
    serve.add_argument("--sanity-system", default="random",
                       help="baseline set against the real data in hidden sanity pairs")
    serve.add_argument("--sanity-rate", type=float, default=0.1,
                       help="share of pairs that are sanity pairs")
    serve.set_defaults(func=run_serve)
    ranking = commands.add_parser("ranking", help="the ranking of the votes")
    ranking.add_argument("--db", default=None, help="SQLAlchemy URL of the vote database")
    ranking.add_argument("--json", action="store_true", help="print JSON")
    ranking.add_argument("--exclude-flagged", action="store_true",
                         help="leave out the votes of raters who failed half their sanity pairs")
    ranking.set_defaults(func=run_ranking)


def run_serve(args: argparse.Namespace) -> int:
    from musebench.arena.app import DEFAULT_QUESTION
    from musebench.arena.serve import build_study, serve
    from musebench.datasets.cache import cache_dir
    from musebench.leaderboard.store import default_results_path, read_rows

    store = args.results or default_results_path()
    rows = [row for row in read_rows(store)
            if row.get("kind", "run") == "run"
            and (args.dataset is None or row["dataset"] == args.dataset)
            and (args.model is None or row["model"] in args.model)]
    if not rows:
        raise ValueError(f"{store}: no runs to listen to"
                         + (f" on {args.dataset}" if args.dataset else "")
                         + (f" of {', '.join(args.model)}" if args.model else ""))
    study = build_study(rows, args.db or default_db(), cache_dir() / "arena", args.data_root,
                        args.question or DEFAULT_QUESTION, args.bars, args.clips,
                        args.sanity_system, args.sanity_rate)
    serve(study, args.host, args.port)
    return 0


def load_summary(url: str, exclude_flagged: bool = False) -> dict:
    """The summary of the votes at ``url``.

    Raises:
        FileNotFoundError: a SQLite database that does not exist.
        ValueError: not a database URL.
    """
    from musebench.arena.db import VoteStore, parse_url
    from musebench.arena.ranking import summarise

    parsed = parse_url(url)
    if (parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
            and not Path(parsed.database).is_file()):
        raise FileNotFoundError(f"--db {url}: no such database (run `musebench arena serve`)")
    return summarise(VoteStore(url).votes(), exclude_flagged=exclude_flagged)


def run_ranking(args: argparse.Namespace) -> int:
    from musebench.arena.ranking import to_text

    summary = load_summary(args.db or default_db(), args.exclude_flagged)
    sys.stdout.write(json.dumps(summary, indent=1) + "\n" if args.json else to_text(summary))
    return 0
