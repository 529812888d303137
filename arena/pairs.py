"""Drawing blind pairs: which two systems, which clips, which order.

Each draw picks two different systems uniformly among the pairs that can be compared,
a clip of each, and a random order (A or B). Where a conditional model meets another
conditional model or the real data, both clips share one condition (the real data's
clip of a condition is the conditioning piece), so the listener compares two answers to
the same question. With probability ``sanity_rate`` the draw is instead a hidden sanity
pair: the real data against the baseline named by ``sanity_system``, which any attentive
listener should tell apart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from musebench.arena.systems import Clip, System


@dataclass(frozen=True)
class Pair:
    """Clips ``a`` and ``b`` as the listener meets them; ``sanity_winner`` names the
    system an attentive listener prefers in a sanity pair (else None)."""

    a: Clip
    b: Clip
    sanity_winner: str | None = None


def needs_match(x: System, y: System) -> bool:
    """Whether a pair of ``x`` and ``y`` must share a condition."""
    return (x.conditional and (y.conditional or y.real)) or (y.conditional and x.real)


def candidates(x: System, y: System) -> list[tuple[Clip, Clip]] | None:
    """The clip pairs of ``x`` and ``y`` that may be played together (None: any pair)."""
    if not needs_match(x, y):
        return None
    by_condition: dict[str, list[Clip]] = {}
    for clip in y.clips:
        by_condition.setdefault(clip.condition, []).append(clip)
    return [(a, b) for a in x.clips for b in by_condition.get(a.condition, [])
            if a.condition is not None]


class PairSampler:
    """Draws pairs of ``systems`` (see the module docstring).

    Raises:
        ValueError: fewer than two systems can be compared.
    """

    def __init__(self, systems: list[System], sanity_system: str | None = None,
                 sanity_rate: float = 0.1, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.sanity_rate = sanity_rate
        self.options: list[tuple[System, System, list[tuple[Clip, Clip]] | None]] = []
        for x, y in itertools.combinations(systems, 2):
            matched = candidates(x, y)
            if matched is None or matched:
                self.options.append((x, y, matched))
        if not self.options:
            raise ValueError("fewer than two systems with clips that can be compared "
                             f"(systems: {', '.join(s.name for s in systems) or 'none'})")
        self.sanity = next(((x, y, m) for x, y, m in self.options
                            if {x.name, y.name} == {s.name for s in systems if s.real}
                            | {sanity_system}), None)

    def _clips(self, option: tuple[System, System, list[tuple[Clip, Clip]] | None]
               ) -> tuple[Clip, Clip]:
        x, y, matched = option
        if matched is not None:
            return matched[self.rng.integers(len(matched))]
        return x.clips[self.rng.integers(len(x.clips))], y.clips[self.rng.integers(len(y.clips))]

    def draw(self) -> Pair:
        """One pair, in random order."""
        sanity = self.sanity is not None and self.rng.random() < self.sanity_rate
        option = self.sanity if sanity else self.options[self.rng.integers(len(self.options))]
        first, second = self._clips(option)
        if self.rng.random() < 0.5:
            first, second = second, first
        real = next((s.name for s in option[:2] if s.real), None)
        return Pair(first, second, real if sanity else None)
