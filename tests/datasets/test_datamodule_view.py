"""The data module's ``view``: a track's models learn, are conditioned on and are scored
against the same part of each piece (issue #11, item 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.codecs import FrameRollCodec
from musebench.datasets.datamodule import MusicDataModule


def test_melody_view_gives_the_melody_lines_with_their_chords(data_root: Path) -> None:
    full = MusicDataModule("fixture", codec=FrameRollCodec(), data_root=data_root)
    melody = MusicDataModule("fixture", codec=FrameRollCodec(), data_root=data_root,
                             view="melody")
    for whole, line in zip(full.pieces("test"), melody.pieces("test"), strict=True):
        assert np.array_equal(line.notes, whole.melody().notes)
        assert np.array_equal(line.chords, whole.chords)
        assert len(line.notes) < len(whole.notes)


def test_an_unknown_view_is_refused_before_loading() -> None:
    with pytest.raises(ValueError, match="unknown view 'drums'"):
        MusicDataModule("fixture", codec=FrameRollCodec(), view="drums")
