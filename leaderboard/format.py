"""Numbers as a reader wants them: a mean and its interval to sensible significant figures.

The half-width of the 95% interval is shown to two significant figures and the mean to the
same decimal place, so the digits shown are the digits that mean something (``0.536 ±
0.058``, not ``0.5363 ± 0.058``). A half-width that is float noise beside the mean (below
1e-9 of it, or below 1e-12) is no interval: ``0``, not ``0 ± 6.6e-17``.
"""

from __future__ import annotations

import math

Stat = tuple[float, float, float]  # (mean, ci low, ci high)

NOISE = 1e-9


def half_width(stat: Stat) -> float:
    """Half the interval's width, 0 when it is a point or float noise beside the mean."""
    mean, low, high = stat
    half = (high - low) / 2
    if not math.isfinite(half) or half <= max(abs(mean) * NOISE, 1e-12):
        return 0.0
    return half


def _decimals(value: float, figures: int) -> int:
    """Decimal places that show ``value`` to ``figures`` significant figures (≥ 0)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(figures - 1 - math.floor(math.log10(abs(value))), 0)


def number(value: float, figures: int = 4) -> str:
    """``value`` to ``figures`` significant figures, plain notation for 1e-4..1e6."""
    if not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    if not 1e-4 <= abs(value) < 1e6:
        return f"{value:.{figures - 1}e}"
    text = f"{value:.{_decimals(value, figures)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cell(stat: Stat | None) -> str:
    """``mean ± half-width`` to the interval's precision; the mean alone when the interval
    is a point; ``–`` when absent."""
    if stat is None or not math.isfinite(stat[0]):
        return "–"
    half = half_width(stat)
    if half == 0:
        return number(stat[0])
    places = _decimals(half, 2)
    if not 1e-4 <= abs(half) < 1e6 or places > 8:
        return f"{number(stat[0])} ± {half:.1e}"
    return f"{stat[0]:.{places}f} ± {half:.{places}f}"


def signed(value: float) -> str:
    """A difference with its sign, to three significant figures (``+0.12``, ``−3``)."""
    if not math.isfinite(value):
        return "–"
    text = number(abs(value), 3)
    return ("−" if value < 0 else "+") + text
