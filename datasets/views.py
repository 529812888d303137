"""Views: which part of a piece a model generates, and so what its samples are scored against.

A melody model's samples are compared with the melody lines of the real pieces, a
polyphonic model's with the full pieces. The bench, ``musebench score`` and the real-data
reference rows all apply the same view (:mod:`musebench.experiments.scoring`), and the
leaderboard orders its columns by :data:`VIEWS`. :func:`first_beats` cuts pieces to the
length a track scores, so that samples of different lengths and the real pieces are
compared over the same span.
"""

from __future__ import annotations

from musebench.datasets.piece import Piece

#: Every view, in the leaderboard's column order (rows without a ``view`` are ``full``).
VIEWS: tuple[str, ...] = ("melody", "full")


def apply_view(pieces: list[Piece], view: str) -> list[Piece]:
    """``pieces`` as a model of that ``view`` generates them: ``"melody"`` gives each
    piece's melody line (:meth:`Piece.melody`), ``"full"`` the pieces unchanged.

    Raises:
        ValueError: an unknown view (named).
    """
    if view == "melody":
        return [p.melody() for p in pieces]
    if view == "full":
        return list(pieces)
    raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")


def first_beats(pieces: list[Piece], beats: int | None) -> list[Piece]:
    """``pieces`` cut to their first ``beats`` beats (:meth:`Piece.slice`; a shorter piece
    stays as it is). None: the pieces unchanged.

    Raises:
        ValueError: ``beats`` below 1.
    """
    if beats is None:
        return list(pieces)
    if beats < 1:
        raise ValueError(f"beats = {beats}: must be at least 1")
    return [p if p.n_steps <= beats * p.steps_per_beat else p.slice(0, beats * p.steps_per_beat)
            for p in pieces]
