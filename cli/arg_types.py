"""Argument types for the command line: a bad flag value is a usage error (exit code 2,
one line naming the flag, the value and what is allowed), never a traceback or a failure
after minutes of work.

argparse calls these on the raw string; an ``argparse.ArgumentTypeError`` becomes
``musebench bench: error: argument --devices: 0 is not allowed: expected …``.
"""

from __future__ import annotations

import argparse

#: The Trainer precisions musebench supports (README, "mixed precision").
PRECISIONS: tuple[str, ...] = ("32-true", "bf16-mixed", "16-mixed")


def whole(text: str) -> int:
    """A whole number (a grid task index)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number >= 1 (devices, nodes, bootstrap resamples, steps per beat, jobs)."""
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: expected a whole number "
                                         ">= 1")
    return value


def seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2**32 - 1 (what NumPy and Lightning accept)."""
    value = whole(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: a seed is a whole number "
                                         "from 0 to 4294967295")
    return value


def precision(text: str) -> str:
    """One of :data:`PRECISIONS`."""
    if text not in PRECISIONS:
        raise argparse.ArgumentTypeError(f"{text} is not allowed: expected one of "
                                         f"{', '.join(PRECISIONS)}")
    return text
