"""musebench: train, sample, score and compare symbolic-music generators.

The command has one sub-command module per job, registered below. Each module in
:data:`COMMAND_MODULES` defines ``register(subparsers)``, which adds its sub-command(s)
and sets ``func`` (called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

COMMAND_MODULES: tuple[str, ...] = (
    "musebench.cli.data",
    "musebench.cli.bench",
    "musebench.cli.leaderboard",
    "musebench.cli.score",
    "musebench.cli.regress",
    "musebench.cli.compare",
    "musebench.cli.arena",
    "musebench.cli.official",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musebench", description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder of the real data sets (default: $MUSEBENCH_DATA)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as error:
        print(f"musebench {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
