"""Every figure the scorer writes has a family, a direction and a meaning (the glossary)."""

from __future__ import annotations

import numpy as np

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import METRICS, score
from musebench.metrics.info import HEADLINE, heading, info, meaning


def pieces(offset: int, n: int = 6) -> list[Piece]:
    return [Piece(make_notes(np.arange(16) * 2, 2, 60 + (np.arange(16) * (i + offset)) % 12))
            for i in range(n)]


def test_every_scored_name_is_in_the_registry():
    names = [k for k in score(pieces(1), pieces(2), pieces(3), n_boot=20)
             if not k.endswith(("_ci_low", "_ci_high", "_undefined"))]
    unknown = [n for n in names if info(n).family == "other"]
    assert not unknown, f"add these to metrics/info.py: {unknown}"
    assert all(meaning(n) for n in names)


def test_meaning_comes_from_the_metric_docstring():
    assert meaning("pitch_class_entropy") == ("Entropy (bits) of the pitch-class distribution "
                                              "over note counts (0..log2 12).")
    assert "pitch_range" in meaning("oa_pitch_range")
    assert all(info(name).direction != "none" for name in HEADLINE)
    assert set(METRICS) >= {n for n in HEADLINE if info(n).family in ("pitch", "rhythm")}


def test_headings_show_the_direction():
    assert heading("kl_mean") == "kl_mean ↓"
    assert heading("oa_mean") == "oa_mean ↑"
    assert heading("pitch_entropy") == "pitch_entropy (≈ real)"
    assert heading("n_samples") == "n_samples"
