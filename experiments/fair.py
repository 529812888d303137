"""The fair-ground figures of one run, beside its samples' scores (issue #11).

- :func:`ceiling_metrics`: the representation ceiling, the test pieces encoded and decoded
  by the model's codec (:meth:`MusicGenerator.ceiling`), given the conditioning pieces'
  chords and scored exactly as the samples are (same view, same reference, same train);
- :func:`collapse_metrics`: ``K`` samples under one fixed condition (the first test
  piece; only the noise varies) for the within-condition diversity and the collapsed
  flag (:mod:`musebench.metrics.collapse`), and the whole-piece copy rate of the samples.
"""

from __future__ import annotations

from typing import Any

from musebench.datasets.piece import Piece
from musebench.datasets.views import apply_view, first_beats
from musebench.experiments.conditions import with_condition_chords
from musebench.experiments.scoring import score_in_view
from musebench.metrics.collapse import copy_rate_pieces, within_condition
from musebench.models.base import MusicGenerator

#: Samples drawn under the one fixed condition (at most ``generate.n``).
WITHIN_K = 16


def ceiling_metrics(model: MusicGenerator, test: list[Piece], train: list[Piece],
                    view: str, beats: int | None = None) -> dict[str, float]:
    """The representation ceiling of ``model`` on ``test``, scored in ``view`` over the
    first ``beats`` beats (None: whole pieces)."""
    pieces = first_beats(apply_view(with_condition_chords(model.ceiling(test), test), view),
                         beats)
    return score_in_view(pieces, test, train, view, beats=beats)


def collapse_metrics(model: MusicGenerator, samples: list[Piece], test: list[Piece],
                     train: list[Piece], view: str, seed: int,
                     generate: dict[str, Any], beats: int | None = None) -> dict[str, float]:
    """Within-condition diversity, the collapsed flag and ``copy_rate_pieces``.

    ``samples`` are the run's samples in ``view``, cut to ``beats``; ``generate`` the
    config's ``generate`` section (its ``n`` bounds ``K``). The fixed-condition samples
    and the test pieces are cut to ``beats`` as well, and so are the training pieces a
    sample is checked against for a whole-piece copy (a copied opening counts)."""
    k = max(2, min(WITHIN_K, int(generate.get("n", WITHIN_K))))
    kwargs = {key: value for key, value in generate.items() if key != "n"}
    fixed = model.generate(k, **kwargs, conditions=test[:1], seed=seed + 1)
    out = within_condition(first_beats(apply_view(fixed, view), beats),
                           first_beats(apply_view(test, view), beats), seed)
    out["copy_rate_pieces"] = copy_rate_pieces(samples,
                                               first_beats(apply_view(train, view), beats))
    return out
