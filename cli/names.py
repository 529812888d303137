"""Names typed on the command line, checked with a "did you mean" suggestion.

argparse's ``choices`` answers a typo with the whole list; :func:`choice` answers
``--preset standrd`` with ``'standrd' is not a preset; did you mean standard? (choose from
smoke, standard, paper)``, a usage error (exit code 2) before any work starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

from musebench.util import did_you_mean


def choice(kind: str, names: Iterable[str]) -> Callable[[str], str]:
    """An argparse ``type`` that accepts one of ``names`` and suggests the closest."""
    known = tuple(names)

    def check(text: str) -> str:
        if text not in known:
            raise argparse.ArgumentTypeError(
                f"{text} is not a {kind}{did_you_mean(text, known)} "
                f"(choose from {', '.join(known)})")
        return text

    check.__name__ = kind  # argparse names the type in some messages
    return check
