"""Validation of every numeric TheoryTab field, shared by the XML and event-JSON readers.

Hostile or broken sections carry infinite or NaN measure counts, negative or huge start
beats, 0 beats per measure, an octave that puts a note at pitch 667, or mode 9. Each
field is read through :func:`number` with its allowed range; a value outside it raises
:class:`FieldError` naming the field, the value and the range, and the reader skips that
section with the reason (never a traceback, never a whole source lost).
"""

from __future__ import annotations

import math
from typing import Any

#: Beats from the start of a section to any event: 2**20 (the piece limits of
#: :mod:`musebench.datasets.limits` then apply to what is kept).
MAX_BEATS = float(2**20)

#: ``field name -> (low, high, whole number)``.
RANGES: dict[str, tuple[float, float, bool]] = {
    "mode": (1, 7, True),
    "beats_in_measure": (1, 64, True),
    "numMeasures": (0, MAX_BEATS, False),
    "num_measures": (0, MAX_BEATS, False),
    "start_beat_abs": (0, MAX_BEATS, False),
    "note_length": (0, MAX_BEATS, False),
    "chord_duration": (0, MAX_BEATS, False),
    "event_on": (0, MAX_BEATS, False),
    "event_off": (0, MAX_BEATS, False),
    "octave": (-5, 5, True),
    "pitch": (-60, 67, True),
    "root": (-1000, 1000, True),
    "sd": (1, 7, True),
    "sec": (1, 7, True),
    "borrowed": (-5, 1, True),
}


class FieldError(ValueError):
    """A TheoryTab field that is missing, not a number, or out of its range."""


def number(value: Any, field: str) -> float:
    """``value`` of ``field`` as a float within :data:`RANGES` (a whole number where the
    field is one).

    Raises:
        FieldError: missing, not a number, infinite, NaN, out of range, or fractional
            where a whole number is required; the message names the field and the value.
    """
    low, high, whole = RANGES[field]
    if value is None or isinstance(value, bool):
        raise FieldError(f"{field} is missing")
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise FieldError(f"{field}={value!r} is not a number") from None
    if not math.isfinite(result) or not low <= result <= high:
        raise FieldError(f"{field}={value!r} is outside {low:g}..{high:g}")
    if whole and result != int(result):
        raise FieldError(f"{field}={value!r} is not a whole number")
    return result


def whole(value: Any, field: str) -> int:
    """:func:`number` of a whole-number field, as an int."""
    return int(number(value, field))


def midi_pitch(pitch: int, where: str) -> int:
    """``pitch`` if it is a MIDI pitch (0..127).

    Raises:
        FieldError: outside 0..127; names ``where`` the pitch came from.
    """
    if not 0 <= pitch <= 127:
        raise FieldError(f"{where} gives pitch {pitch}, outside MIDI's 0..127")
    return pitch
