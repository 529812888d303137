"""The LSTM with attention and the piano-roll LSTM against their sources (issue #12):
RMSprop's rho, the book's start tokens, the paper presets' settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.pitch_duration import SPECIALS, START, TokenCodec
from musebench.datasets.piece import Piece, make_notes
from musebench.experiments.config import load_config
from musebench.models.lstm_attention import LSTMAttention


def test_rmsprop_uses_the_books_rho_0_9() -> None:
    model = LSTMAttention(embedding=4, hidden=8, pitch_vocab=["60"], duration_vocab=["4"])
    optimiser = model.configure_optimizers()
    assert isinstance(optimiser, torch.optim.RMSprop)
    assert optimiser.param_groups[0]["alpha"] == 0.9 and optimiser.param_groups[0]["lr"] == 1e-3


def test_pieces_start_with_a_window_of_start_tokens() -> None:
    piece = Piece(make_notes([0, 4], 4, [60, 62]))
    codec = TokenCodec(start_tokens=32).fit([piece])
    encoded = codec.encode(piece)
    start = SPECIALS.index(START)
    assert encoded["pitch"].shape == (34,) and np.all(encoded["pitch"][:32] == start)
    assert np.all(encoded["duration"][:32] == start) and encoded["pitch"][32] != start
    np.testing.assert_array_equal(codec.decode(encoded).notes, piece.notes)
    assert TokenCodec().fit([piece]).encode(piece)["pitch"].shape == (3,)
    with pytest.raises(ValueError, match="start_tokens"):
        TokenCodec(start_tokens=0)


def test_paper_presets_of_the_book_and_of_huang_and_wu() -> None:
    book = load_config("lstm_attention", "paper")
    assert book["model"]["start_tokens"] == 32 and book["early_stopping"] == {"patience": 10}
    assert load_config("lstm_attention", "standard")["early_stopping"] is None
    huang = load_config("pianoroll_lstm", "paper")
    assert (huang["data"]["batch_size"], huang["data"]["window"]) == (50, 50)
    assert huang["model"]["dropout"] == 0.0 and huang["data"]["source"] == "musedata"


def test_attention_maps_of_samples_are_written_as_pngs(tmp_path) -> None:
    from musebench.datasets.cache import load
    from musebench.models.attention_figure import save_attention_map

    torch.manual_seed(0)
    pieces = load("fixture").pieces
    model = LSTMAttention(embedding=4, hidden=8, steps=6, seed_tokens=2)
    model.fit_statistics(pieces[:8])
    samples = model.generate(5, conditions=pieces[8:], seed=0)
    written = model.write_figures(samples, tmp_path / "figures")
    assert [p.name for p in written] == [f"attention-{i}.png" for i in range(4)]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    weights = model.attention_weights(samples[0])
    np.testing.assert_allclose(weights.sum(1), 1.0, rtol=1e-5)  # each row a distribution
    assert np.all(np.triu(weights, 1) == 0)  # causal: no weight on later tokens
    with pytest.raises(ValueError, match="square"):
        save_attention_map(np.ones((2, 3)), tmp_path / "x.png")
