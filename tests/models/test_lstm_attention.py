"""LSTM with attention (models/lstm_attention.py) and its pitch/duration token codec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.pitch_duration import SPECIALS, TokenCodec, events
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources.fixture import Fixture
from musebench.models.lstm_attention import LSTMAttention


@pytest.fixture(scope="module")
def fixture_pieces() -> dict[str, list[Piece]]:
    pieces = [p for p in Fixture().read(None) if isinstance(p, Piece)]
    return {s: [p for p in pieces if p.split == s] for s in ("train", "valid", "test")}


def toy_pieces() -> list[Piece]:
    return [
        Piece(make_notes([0, 4, 6, 8, 8, 8, 16], [4, 2, 2, 4, 4, 4, 4],
                         [60, 62, 64, 60, 64, 67, 65]), meta={"id": "a"}),
        Piece(make_notes([2, 4, 12], [2, 4, 2], [72, 71, 69]), meta={"id": "b"}),
    ]


def onset_pitch_pairs(piece: Piece) -> set[tuple[int, int]]:
    return set(map(tuple, np.stack([piece.notes["start"], piece.notes["pitch"]], 1).tolist()))


def tiny_model(train: list[Piece], **kwargs) -> LSTMAttention:
    torch.manual_seed(0)
    model = LSTMAttention(embedding=6, hidden=10, steps=12, **kwargs)
    model.fit_statistics(train)
    return model


def test_events_write_chords_rests_and_duration_classes():
    pitch, duration = events(toy_pieces()[1])
    assert pitch == ["rest", "C5", "B4", "rest", "A4"]
    assert duration == ["2", "2", "4", "4", "2"]
    pitch, duration = events(toy_pieces()[0])
    assert pitch[3:] == ["C4.E4.G4", "rest", "F4"]
    assert duration[3:] == ["4", "4", "4"]


def test_vocabulary_comes_from_the_training_split_only_and_unknowns_map_to_unk():
    train, other = toy_pieces()
    codec = TokenCodec().fit([train])
    assert "C5" not in codec.pitch_vocab and "C4.E4.G4" in codec.pitch_vocab
    encoded = codec.encode(other)
    unk = SPECIALS.index("<unk>")
    assert encoded["pitch"][0] == SPECIALS.index("<start>")
    assert (encoded["pitch"][1:] == unk).sum() == 3  # C5, B4, A4 were never seen in training
    assert encoded["duration"].tolist()[1:] == [codec.duration_tokens.index(d)
                                               for d in ["2", "2", "4", "4", "2"]]


def test_encode_before_fit_is_a_clear_error():
    with pytest.raises(RuntimeError, match="fit"):
        TokenCodec().encode(toy_pieces()[0])


def test_token_round_trip_is_lossless_on_real_melodies(fixture_pieces):
    melodies = [p.melody() for p in fixture_pieces["train"] + fixture_pieces["test"]]
    codec = TokenCodec().fit(melodies)
    for melody in melodies:
        decoded = codec.decode(codec.encode(melody))
        for field in ("start", "duration", "pitch"):
            assert np.array_equal(decoded.notes[field], melody.notes[field]), melody.id


def test_token_round_trip_keeps_onsets_and_pitch_sets_of_real_chorales(fixture_pieces):
    pieces = fixture_pieces["train"]
    codec = TokenCodec().fit(pieces)
    for piece in pieces:
        decoded = codec.decode(codec.encode(piece))
        assert onset_pitch_pairs(decoded) == onset_pitch_pairs(piece), piece.id


def test_vocabularies_are_hyperparameters_so_a_checkpoint_rebuilds_the_same_network():
    model = tiny_model(toy_pieces())
    clone = LSTMAttention(**model.hparams)
    clone.load_state_dict(model.state_dict())
    assert clone.codec.pitch_tokens == model.codec.pitch_tokens
    assert clone.pitch_head.out_features == len(model.codec.pitch_tokens)


def test_forward_shapes_and_attention_rows_are_causal_distributions():
    model = tiny_model(toy_pieces())
    pitch = torch.tensor([[1, 4, 5, 6], [1, 3, 4, 4]])
    pitch_logits, duration_logits, weights = model(pitch, pitch.clamp(max=4))
    assert pitch_logits.shape == (2, 4, len(model.codec.pitch_tokens))
    assert duration_logits.shape == (2, 4, len(model.codec.duration_tokens))
    assert weights.shape == (2, 4, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4))
    assert bool((weights.triu(1) == 0).all())


def test_loss_equals_hand_computed_cross_entropies_on_a_tiny_batch():
    model = tiny_model(toy_pieces())
    batch = model.codec.collate([model.codec.encode(p) for p in toy_pieces()])
    pitch, duration, lengths = batch["pitch"], batch["duration"], batch["lengths"]
    terms = []
    for b in range(2):
        for t in range(int(lengths[b]) - 1):
            p_logits, d_logits, _ = model(pitch[b:b + 1, :t + 1], duration[b:b + 1, :t + 1])
            terms.append(
                torch.nn.functional.cross_entropy(p_logits[0, -1:], pitch[b, t + 1:t + 2])
                + torch.nn.functional.cross_entropy(d_logits[0, -1:], duration[b, t + 1:t + 2]))
    torch.testing.assert_close(model.loss(batch), torch.stack(terms).mean(), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_log_likelihood_agrees_with_training_loss():
    model = tiny_model(toy_pieces())
    batch = model.codec.collate([model.codec.encode(p) for p in toy_pieces()])
    likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.shape == likelihood.mask.shape == (2, 6)
    assert likelihood.mask.sum() == int((batch["lengths"] - 1).sum())
    torch.testing.assert_close(-likelihood.log_prob[likelihood.mask].mean(),
                               model.training_step(batch, 0))


def test_generation_is_deterministic_under_a_seed_and_never_emits_special_tokens(fixture_pieces):
    model = tiny_model(fixture_pieces["train"])
    test = fixture_pieces["test"]
    first = model.generate(3, conditions=test, seed=11)
    again = model.generate(3, conditions=test, seed=11)
    other = model.generate(3, conditions=test, seed=12)
    assert [p.meta["seed_id"] for p in first] == [test[0].id, test[1].id, test[0].id]
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a.notes, b.notes) for a, b in zip(first, other, strict=True))
    for piece in first:
        tokens = model.codec.encode(piece)
        assert len(tokens["pitch"]) == 1 + 12  # start token + every generated event
        assert (tokens["pitch"][1:] >= len(SPECIALS)).all()


def test_attention_weights_of_a_generated_piece_cover_its_tokens(fixture_pieces):
    model = tiny_model(fixture_pieces["train"])
    piece = model.generate(1, seed=0)[0]
    weights = model.attention_weights(piece)
    assert weights.shape == (13, 13)
    np.testing.assert_allclose(weights.sum(1), 1.0, rtol=1e-5)


def test_training_steps_lower_the_loss(fixture_pieces):
    model = tiny_model(fixture_pieces["train"], lr=0.01)
    encoded = [model.codec.encode(p.melody()) for p in fixture_pieces["train"][:2]]
    batch = model.codec.collate([w for e in encoded for w in model.codec.windows(e, 9, 16)])
    optimizer = model.configure_optimizers()
    before = model.loss(batch).item()
    for _ in range(10):
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    assert model.loss(batch).item() < 0.8 * before
