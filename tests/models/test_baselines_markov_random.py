"""The count baselines: tokens round-trip, order chosen on validation, seeded sampling,
training marginals, masked likelihoods, and samples carrying the condition's chords."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.melody_tokens import REST, MelodyTokenCodec
from musebench.datasets.piece import Chord, Piece, make_chords, make_notes
from musebench.models import MODELS, get_model

SCALE = np.array([60, 62, 64, 65, 67, 69, 71, 72])


def scale_piece(i: int, repeats: int = 4) -> Piece:
    """A C-major scale run up, as quarter notes with an eighth rest between runs."""
    pitches = np.tile(SCALE, repeats)
    starts = np.arange(len(pitches)) * 4 + np.repeat(np.arange(repeats) * 2, len(SCALE))
    chords = make_chords([Chord(0, 64, 0, "maj"), Chord(64, 64, 7, "maj")])
    return Piece(make_notes(starts, 4, pitches), chords=chords, key=(0, "major"),
                 meta={"id": f"scale{i}"})


def random_piece(rng: np.random.Generator, i: int) -> Piece:
    return Piece(make_notes(np.arange(32) * 2, 2, rng.integers(55, 80, 32)),
                 meta={"id": f"rand{i}"})


def test_melody_tokens_round_trip_notes_and_rests():
    codec = MelodyTokenCodec(max_duration=16)
    piece = scale_piece(0)
    tokens = codec.encode(piece)["tokens"]
    symbol, duration = codec.split_tokens(tokens)
    assert (symbol == REST).sum() == 3  # the gaps between the four runs
    decoded = codec.decode({"tokens": tokens})
    np.testing.assert_array_equal(decoded.notes, piece.notes)


def test_unknown_model_error_lists_valid_names():
    with pytest.raises(ValueError, match="valid models: .*markov.*random"):
        get_model("no-such-model")
    assert {"markov", "random"} <= set(MODELS)


def test_markov_prefers_a_context_on_sequential_data():
    model = get_model("markov")(max_order=3)
    model.fit_statistics([scale_piece(i) for i in range(6)], [scale_piece(9)])
    assert model.order >= 1
    assert model.validation_nll[model.order] < model.validation_nll[0]


def test_markov_continues_a_memorised_scale():
    model = get_model("markov")(max_order=2, sample_steps=64)
    model.fit_statistics([scale_piece(i) for i in range(6)], [scale_piece(9)])
    sample = model.generate(1, seed=3)[0]
    steps = np.diff(sample.notes["pitch"].astype(int))
    legal = np.isin(steps, [1, 2, -12])  # scale steps, or back to the bottom after the top
    assert legal.mean() > 0.9


def test_markov_order_falls_to_zero_on_independent_data():
    rng = np.random.default_rng(0)
    model = get_model("markov")(max_order=3)
    model.fit_statistics([random_piece(rng, i) for i in range(10)],
                         [random_piece(rng, 99)])
    assert model.order <= 1


@pytest.mark.parametrize("name", ["markov", "random"])
def test_sampling_is_seeded(name):
    rng = np.random.default_rng(0)
    model = get_model(name)()
    model.fit_statistics([random_piece(rng, i) for i in range(4)], [random_piece(rng, 5)])
    first = model.generate(3, seed=1)
    again = model.generate(3, seed=1)
    other = model.generate(3, seed=2)
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a.notes, b.notes) for a, b in zip(first, other, strict=True))


def test_random_samples_follow_training_pitch_marginals():
    rng = np.random.default_rng(1)
    train = [random_piece(rng, i) for i in range(10)]
    model = get_model("random")(sample_steps=512)
    model.fit_statistics(train)
    samples = model.generate(20, seed=0)
    pitches = np.concatenate([s.notes["pitch"] for s in samples])
    outside = (pitches < 55) | (pitches >= 80)  # the training range is 55..79
    assert outside.mean() < 0.02  # only the add-p prior reaches outside it
    train_hist = np.bincount(np.concatenate([p.notes["pitch"] for p in train]), minlength=128)
    sample_hist = np.bincount(pitches, minlength=128)
    tv = 0.5 * np.abs(train_hist / train_hist.sum() - sample_hist / sample_hist.sum()).sum()
    assert tv < 0.15


@pytest.mark.parametrize("name", ["markov", "random"])
def test_samples_carry_condition_chords_and_length(name):
    model = get_model(name)(sample_steps=200)
    model.fit_statistics([scale_piece(i) for i in range(3)])
    condition = scale_piece(7)
    sample = model.generate(2, conditions=[condition], seed=0)[1]
    assert sample.n_steps == condition.n_steps
    np.testing.assert_array_equal(sample.chords, condition.chords)
    assert sample.key == condition.key and sample.meta["condition"] == condition.id


@pytest.mark.parametrize("name", ["markov", "random"])
def test_log_likelihood_ignores_padding(name):
    model = get_model(name)()
    pieces = [scale_piece(i) for i in range(3)]
    model.fit_statistics(pieces, pieces[:1])
    short = {"tokens": model.codec.encode(pieces[0])["tokens"][:10]}
    alone = model.log_likelihood(model.codec.collate([short]))
    batch = model.codec.collate([short, model.codec.encode(pieces[1])])
    padded = model.log_likelihood(batch)
    assert model.has_likelihood
    assert padded.mask[0].sum() == 10 and not padded.mask[0, 10:].any()
    torch.testing.assert_close(padded.log_prob[0, :10], alone.log_prob[0])
    assert (padded.log_prob[padded.mask] < 0).all()


def test_generate_before_fit_is_a_clear_error():
    with pytest.raises(RuntimeError, match="before fit_statistics"):
        get_model("markov")().generate(1)
