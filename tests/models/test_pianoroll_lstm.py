"""Piano-roll sigmoid LSTM (models/pianoroll_lstm.py): likelihood, loss, sampling."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.datasets.piece import Piece, make_notes
from musebench.models.pianoroll_lstm import PianoRollLSTM


def tiny_model(**kwargs) -> PianoRollLSTM:
    torch.manual_seed(0)
    return PianoRollLSTM(embedding=8, hidden=12, steps=6, **kwargs)


def random_batch(lengths: list[int], seed: int = 0) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    roll = (torch.rand(len(lengths), max(lengths), 88, generator=rng) < 0.1).float()
    lengths_t = torch.tensor(lengths)
    roll *= (torch.arange(max(lengths))[None, :] < lengths_t[:, None])[..., None]
    return {"roll": roll, "lengths": lengths_t}


@pytest.fixture(scope="module")
def jsb_pieces() -> list[Piece]:
    root = os.environ.get("MUSEBENCH_DATA")
    if not root:
        pytest.skip("set MUSEBENCH_DATA=<path to shared/data> to run")
    from musebench.datasets.sources.boulanger import JSBChorales

    pieces = [p for p in JSBChorales().read(Path(root)) if isinstance(p, Piece)]
    return [p for p in pieces if p.split == "test"][:8]


def test_log_likelihood_has_one_step_per_frame_and_masks_padding():
    model = tiny_model()
    likelihood = model.log_likelihood(random_batch([7, 4]))
    assert likelihood.log_prob.shape == (2, 7)
    assert likelihood.note_probs.shape == likelihood.note_targets.shape == (2, 7, 88)
    assert likelihood.mask.tolist() == [[True] * 7, [True] * 4 + [False] * 3]
    assert likelihood.log_prob.dtype == torch.float32
    assert bool((likelihood.log_prob <= 0).all())


def test_loss_equals_hand_computed_bernoulli_nll_with_silent_first_input():
    model = tiny_model()
    batch = random_batch([3, 2], seed=1)
    roll = batch["roll"]
    hand = []
    for b, length in enumerate([3, 2]):
        previous = torch.zeros(88)
        for t in range(length):
            inputs = torch.cat([torch.zeros(1, 88), roll[b, :t]])[None]
            assert torch.equal(inputs[0, -1], previous)
            p = torch.sigmoid(model(inputs)[0][0, -1])
            y = roll[b, t]
            hand.append(-(y * p.log() + (1 - y) * (1 - p).log()).sum())
            previous = roll[b, t]
    expected = torch.stack(hand).mean()
    torch.testing.assert_close(model.loss(batch), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings(r"ignore:You are trying to `self.log\(\)`")
def test_log_likelihood_agrees_with_training_loss():
    model = tiny_model()
    batch = random_batch([5, 3, 2], seed=2)
    likelihood = model.log_likelihood(batch)
    loss = model.training_step(batch, 0)
    torch.testing.assert_close(-likelihood.log_prob[likelihood.mask].mean(), loss)


def test_prediction_of_a_frame_ignores_that_frame_and_later_ones():
    model = tiny_model()
    batch = random_batch([6], seed=3)
    changed = {"roll": batch["roll"].clone()}
    changed["roll"][0, 3:] = 1 - changed["roll"][0, 3:]
    probs = model.log_likelihood(batch).note_probs
    probs_changed = model.log_likelihood(changed).note_probs
    torch.testing.assert_close(probs[0, :4], probs_changed[0, :4])
    assert not torch.allclose(probs[0, 4:], probs_changed[0, 4:])


def test_bf16_autocast_keeps_float32_log_probabilities():
    model = tiny_model()
    batch = random_batch([4, 4], seed=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.dtype == torch.float32
    exact = model.log_likelihood(batch).log_prob
    torch.testing.assert_close(likelihood.log_prob, exact, rtol=0.05, atol=0.5)


def test_generation_is_deterministic_under_a_seed_and_keeps_the_source_grid():
    model = tiny_model()
    grid = Piece(make_notes([0], [1], [60]), steps_per_beat=1, meta={"id": "grid"})
    first = model.generate(3, conditions=[grid], seed=7)
    again = model.generate(3, conditions=[grid], seed=7)
    other = model.generate(3, conditions=[grid], seed=8)
    assert len(first) == 3
    assert all(p.n_steps == 6 and p.steps_per_beat == 1 for p in first)
    assert all(np.array_equal(a.pianoroll(), b.pianoroll()) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a.pianoroll(), b.pianoroll()) for a, b in zip(first, other, strict=True))
    pitches = np.concatenate([p.notes["pitch"] for p in first])
    assert pitches.min() >= 21 and pitches.max() <= 108


def test_training_steps_lower_the_loss():
    model = tiny_model(lr=0.02)
    batch = random_batch([8, 8], seed=5)
    optimizer = model.configure_optimizers()
    before = model.loss(batch).item()
    for _ in range(12):
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    assert model.loss(batch).item() < 0.8 * before


def test_frame_roll_round_trip_and_likelihood_on_jsb_test_pieces(jsb_pieces):
    model = tiny_model()
    encoded = [model.codec.encode(p) for p in jsb_pieces]
    for piece, arrays in zip(jsb_pieces, encoded, strict=True):
        assert arrays["roll"].shape == (piece.n_steps, 88)
        decoded = model.codec.decode(arrays)
        assert np.array_equal(decoded.pianoroll(21, 108), piece.pianoroll(21, 108))
    batch = model.codec.collate(encoded)
    likelihood = model.log_likelihood(batch)
    assert int(likelihood.mask.sum()) == sum(p.n_steps for p in jsb_pieces)
    assert torch.isfinite(likelihood.log_prob).all()
