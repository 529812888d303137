"""The data side of musebench: the shared Piece, sources, cache, splits, codecs, datamodule."""

from musebench.datasets.cache import PreparedData, load
from musebench.datasets.piece import Chord, Piece

__all__ = ["Chord", "Piece", "PreparedData", "load"]
