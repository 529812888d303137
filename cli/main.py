"""musebench: train, sample, score and compare symbolic-music generators.

The command has one sub-command module per job, registered below. Each module in
:data:`COMMAND_MODULES` defines ``register(subparsers)``, which adds its sub-command(s)
and sets ``func`` (called with the parsed arguments, returning an exit code). Every
parser shows each option's default in ``--help`` (:class:`HelpFormatter`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from musebench import __version__
from musebench.cli.noise import silence_known_noise

COMMAND_MODULES: tuple[str, ...] = (
    "musebench.cli.catalog",
    "musebench.cli.data",
    "musebench.cli.bench",
    "musebench.cli.leaderboard",
    "musebench.cli.score",
    "musebench.cli.regress",
    "musebench.cli.compare",
    "musebench.cli.arena",
    "musebench.cli.dashboard",
    "musebench.cli.official",
)
#: Errors that mean bad input or a state the user can fix: one line, exit code 2.
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, KeyError, RuntimeError)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: …)`` to an option's help, unless the help already says it or
    the default says nothing (None, an on/off flag, an empty list, a required option)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, [], argparse.SUPPRESS) \
                or isinstance(action.default, bool) or action.required \
                or not action.option_strings:
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help shows defaults; sub-command parsers inherit it."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="musebench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"musebench {__version__}")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder of the real data sets (default: $MUSEBENCH_DATA)")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser,
                                       metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def error_text(error: BaseException) -> str:
    """The message of ``error`` as the user should read it: a ``KeyError``'s text without
    the quotes that ``str(KeyError)`` adds."""
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


def main(argv: list[str] | None = None) -> int:
    silence_known_noise()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as error:
        print(f"musebench {args.command}: error: {error_text(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
