"""Limits on one piece, so a hostile or broken file cannot blow up training or scoring.

A 55-byte MIDI file with one note at tick 537 million is a 4.5-million-step piece; a
data set holding it makes every model try to allocate gigabytes. A TheoryTab octave field
can put a note at pitch 667. Every source (through :func:`musebench.datasets.cache.build`)
and ``musebench score`` (through :func:`musebench.datasets.midi_files.read_one`) skip a
piece beyond these limits with the reason:

- ``max_steps`` (default :data:`MAX_STEPS` = 65,536 steps: 68 minutes of 4/4 at 120 bpm
  on a 16th grid), set by ``$MUSEBENCH_MAX_STEPS``;
- ``min_pitch`` .. ``max_pitch`` (default 0..127, MIDI's range), set by
  ``$MUSEBENCH_MIN_PITCH`` / ``$MUSEBENCH_MAX_PITCH`` (e.g. 21..108 for a piano's keys).

The limits in force are part of the cache key (:func:`current_limits`), so changing them
rebuilds the cache.
"""

from __future__ import annotations

import os

from musebench.datasets.piece import Piece

MAX_STEPS = 65_536
_SETTINGS = {"max_steps": ("MUSEBENCH_MAX_STEPS", MAX_STEPS, 1, None),
             "min_pitch": ("MUSEBENCH_MIN_PITCH", 0, 0, 127),
             "max_pitch": ("MUSEBENCH_MAX_PITCH", 127, 0, 127)}


class LimitError(ValueError):
    """A limit setting out of its range; the message names the variable."""


def current_limits() -> dict[str, int]:
    """``{"max_steps": …, "min_pitch": …, "max_pitch": …}`` from the environment or
    the defaults.

    Raises:
        LimitError: a variable that is not a whole number in its range, or a minimum
            pitch above the maximum.
    """
    limits = {}
    for name, (variable, default, low, high) in _SETTINGS.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            limits[name] = default
            continue
        allowed = f"a whole number >= {low}" + (f" and <= {high}" if high is not None else "")
        if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
            raise LimitError(f"{variable}={text!r}: expected {allowed} (default {default})")
        limits[name] = int(text)
    if limits["min_pitch"] > limits["max_pitch"]:
        raise LimitError(f"MUSEBENCH_MIN_PITCH={limits['min_pitch']} is above "
                         f"MUSEBENCH_MAX_PITCH={limits['max_pitch']}")
    return limits


def limit_violation(piece: Piece, limits: dict[str, int] | None = None) -> str | None:
    """Why ``piece`` is beyond the limits (a one-line reason), or None if it is within."""
    limits = limits or current_limits()
    if piece.n_steps > limits["max_steps"]:
        return (f"too long: {piece.n_steps} steps > the limit of {limits['max_steps']} "
                "(set MUSEBENCH_MAX_STEPS to allow more)")
    if len(piece.notes):
        low, high = int(piece.notes["pitch"].min()), int(piece.notes["pitch"].max())
        if low < limits["min_pitch"] or high > limits["max_pitch"]:
            return (f"pitches {low}..{high} outside the allowed {limits['min_pitch']}.."
                    f"{limits['max_pitch']} (MUSEBENCH_MIN_PITCH / MUSEBENCH_MAX_PITCH)")
    return None
