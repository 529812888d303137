"""Melody RNN (Magenta basic_rnn / lookback_rnn): sizes, hand-computed losses, generation,
learning."""

from __future__ import annotations

import math

import numpy as np
import torch

from musebench.datasets.piece import Piece, make_notes
from musebench.models.melody_rnn import MelodyRNN

LOOKBACK = [16, 32]


def model(**hparams: object) -> MelodyRNN:
    torch.manual_seed(0)
    return MelodyRNN(**{"hidden": 16, **hparams})


def batch_of(net: MelodyRNN, *pieces: Piece) -> dict[str, torch.Tensor]:
    return net.codec.collate([net.codec.encode(p) for p in pieces])


def fixed_logits(net: MelodyRNN, boosts: dict[int, float]) -> None:
    """Make the output ignore the input: zero weights, bias ``log(weight)`` per class."""
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
        for index, weight in boosts.items():
            net.head.bias[index] = math.log(weight)
    net.eval()


def held_then_repeated() -> Piece:
    """C4 held for a bar, then C4 again on the first step of bar 2 (17 steps)."""
    return Piece(make_notes([0, 16], [16, 1], [60, 60]), length=17)


def test_sizes_are_magentas() -> None:
    basic, lookback = model(), model(lookback_distances=LOOKBACK)
    assert (basic.input_size, basic.codec.n_classes) == (38, 38)
    # Magenta's lookback encoder: 38 + 2 x 38 + 5 counter bits + 2 repeat flags = 121 in, 40 out
    assert (lookback.input_size, lookback.codec.n_classes) == (121, 40)
    assert basic.capabilities == {"notes", "likelihood", "conditional"}


def test_shapes_of_likelihood_and_loss_with_padding() -> None:
    net = model(lookback_distances=LOOKBACK)
    short = Piece(make_notes([0, 4], 4, [60, 62]), length=8)
    batch = batch_of(net, held_then_repeated(), short)
    likelihood = net.log_likelihood(batch)
    assert likelihood.log_prob.shape == likelihood.mask.shape == (2, 16)
    assert likelihood.mask.sum(1).tolist() == [16, 7]  # every step after the first is scored
    assert net.loss(batch).ndim == 0


def test_basic_loss_and_likelihood_equal_hand_computed_values() -> None:
    net = model(transpose_to_key=None)
    fixed_logits(net, {0: 3.0, 1: 2.0})  # NO_EVENT 3/41, NOTE_OFF 2/41, each note-on 1/41
    piece = Piece(make_notes([0], [3], [60]), length=4)  # events: on(60), -, -, NOTE_OFF
    batch = batch_of(net, piece)
    expected = [math.log(3 / 41), math.log(3 / 41), math.log(2 / 41)]
    assert torch.allclose(net.log_likelihood(batch).log_prob[0], torch.tensor(expected))
    assert math.isclose(float(net.loss(batch).detach()), -sum(expected) / 3, rel_tol=1e-5)


def test_lookback_likelihood_sums_every_class_that_gives_the_event() -> None:
    net = model(transpose_to_key=None, lookback_distances=LOOKBACK)
    fixed_logits(net, {0: 3.0, 38: 2.0})  # NO_EVENT 3/43, repeat-1-bar 2/43, others 1/43
    batch = batch_of(net, held_then_repeated())
    log_prob = net.log_likelihood(batch).log_prob[0].detach()
    # a held step in bar 1: NO_EVENT, or either repeat class (nothing before the start)
    assert torch.allclose(log_prob[:15], torch.full((15,), math.log(6 / 43)))
    # C4 again at step 16: its note-on class or "repeat 1 bar" (step 0 was C4's note-on)
    assert math.isclose(float(log_prob[15]), math.log(3 / 43), rel_tol=1e-5)
    # Magenta's loss scores only the canonical labels: 15 x "repeat 2 bars", 1 x "repeat 1 bar"
    expected_loss = -(15 * math.log(1 / 43) + math.log(2 / 43)) / 16
    assert math.isclose(float(net.loss(batch).detach()), expected_loss, rel_tol=1e-5)


def test_seeded_generation_is_reproducible_and_keys_to_its_condition() -> None:
    net = model(lookback_distances=LOOKBACK, steps=48)
    condition = Piece(make_notes(np.arange(8) * 4, 4, [67, 69, 71, 72, 74, 72, 71, 69]),
                      meta={"id": "g-major"})
    first = net.generate(3, conditions=[condition], seed=5)
    again = net.generate(3, conditions=[condition], seed=5)
    other = net.generate(3, conditions=[condition], seed=6)
    assert [p.notes.tolist() for p in first] == [p.notes.tolist() for p in again]
    assert [p.notes.tolist() for p in first] != [p.notes.tolist() for p in other]
    for piece in first:
        assert piece.n_steps == 48 and piece.meta["condition"] == "g-major"


def test_the_primer_primes_but_is_not_returned_as_the_models_melody() -> None:
    """The primer is the condition's real first bar: a model that only ever holds (class
    NO_EVENT) returns a silent melody, not the primer's notes scored as its own."""
    net = model(lookback_distances=LOOKBACK, steps=32)
    fixed_logits(net, {0: 1e6})
    condition = Piece(make_notes(np.arange(4) * 4, 4, [67, 69, 71, 72]), meta={"id": "g"})
    piece = net.generate(1, conditions=[condition], seed=0)[0]
    assert piece.n_steps == 32 and len(piece.notes) == 0


def test_repeat_class_copies_the_bar_before_when_generating() -> None:
    net = model(lookback_distances=LOOKBACK, steps=32)
    fixed_logits(net, {38: 1e6})  # always "repeat the event 1 bar ago"
    condition = Piece(make_notes([0, 2, 6, 12], [2, 4, 2, 4], [60, 64, 67, 72]))
    piece = net.generate(1, conditions=[condition], seed=0)[0]
    bar1, bar2 = piece.notes[piece.notes["start"] < 16], piece.notes[piece.notes["start"] >= 16]
    assert bar1["pitch"].tolist() == bar2["pitch"].tolist() == [60, 64, 67, 72]
    assert (bar2["start"] - 16).tolist() == bar1["start"].tolist() == [0, 2, 6, 12]


def test_a_tiny_training_run_learns_a_melody() -> None:
    net = model(hidden=32, dropout=0.0, lr=0.02)
    pitches = [60, 62, 64, 65, 67, 69, 71, 72] * 2  # a C major scale, twice
    piece = Piece(make_notes(np.arange(16) * 2, 1, pitches), length=32)  # note, NOTE_OFF
    batch = batch_of(net, piece)
    optimiser = net.configure_optimizers()
    net.train()
    first = float(net.loss(batch).detach())
    for _ in range(100):
        optimiser.zero_grad()
        loss = net.loss(batch)
        loss.backward()
        optimiser.step()
    net.eval()
    nll = -float(net.log_likelihood(batch).log_prob.mean().detach())
    uniform = math.log(38)
    assert first > 0.9 * uniform  # starts near the uniform-class baseline (3.64 nats)
    assert nll < 0.25 * uniform  # and learns the scale: well below it


ATTENTION = {"lookback_distances": LOOKBACK, "key_inputs": True, "counter_bits": 7,
             "attention_length": 40}


def test_attention_configuration_has_magentas_sizes_and_scores_every_step() -> None:
    net = model(**ATTENTION)
    assert (net.input_size, net.codec.n_classes) == (74, 40)
    batch = batch_of(net, held_then_repeated())
    assert batch["inputs"].shape == (1, 17, 74)
    likelihood = net.log_likelihood(batch)
    assert likelihood.log_prob.shape == (1, 16) and likelihood.mask.all()


def test_attention_layer_carries_its_state_across_calls() -> None:
    net = model(**ATTENTION).eval()
    x = torch.randn(2, 50, 74)
    whole, _ = net.attention(x)
    first, state = net.attention(x[:, :30])
    rest, _ = net.attention(x[:, 30:], state)
    assert torch.allclose(whole, torch.cat([first, rest], 1), atol=1e-6)
    # the window keeps the last 40 outputs (Magenta's attn_length)
    assert state[3].shape == (2, 40, 16)


def test_attention_generation_is_seeded() -> None:
    net = model(**ATTENTION, steps=24)
    condition = Piece(make_notes(np.arange(4) * 4, 4, [60, 62, 64, 65]), meta={"id": "c"})
    first = net.generate(2, conditions=[condition], seed=3)
    again = net.generate(2, conditions=[condition], seed=3)
    assert [p.notes.tolist() for p in first] == [p.notes.tolist() for p in again]
    assert all(p.n_steps == 24 for p in first)
