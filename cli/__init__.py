"""The ``musebench`` command: :func:`main` parses the arguments and runs one sub-command.

One module per sub-command (``data``, ``bench``, ``leaderboard``, ``score``), each with
``register(subparsers)``; :mod:`musebench.cli.main` lists them. ``python -m musebench``
and the ``musebench`` console script both land in :func:`main`.
"""

from musebench.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
