"""The biaxial LSTM: shapes, the loss against a hand computation, likelihood, sampling,
and the note axis seeing only the notes below."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.models import get_model
from musebench.models.biaxial import BiaxialLSTM

B, T, N = 2, 6, 78


@pytest.fixture
def model() -> BiaxialLSTM:
    torch.manual_seed(0)
    return BiaxialLSTM(time_sizes=[12, 10], note_sizes=[8, 6], dropout=0.5,
                       generate_steps=5).eval()


def make_batch(seed: int = 0, lengths: list[int] | None = None) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    play = (torch.rand(B, T, N, generator=rng) < 0.2).float()
    articulate = play * (torch.rand(B, T, N, generator=rng) < 0.5).float()
    batch = {"play": play, "articulate": articulate,
             "beat": (torch.arange(T) % 4).expand(B, T).clone()}
    if lengths is not None:
        batch["lengths"] = torch.tensor(lengths)
    return batch


def test_registered_as_biaxial() -> None:
    assert get_model("biaxial") is BiaxialLSTM


def test_forward_and_likelihood_shapes(model: BiaxialLSTM) -> None:
    batch = make_batch()
    assert model(batch).shape == (B, T, N, 2)
    likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.shape == likelihood.mask.shape == (B, T)
    assert likelihood.note_probs.shape == likelihood.note_targets.shape == (B, T, N)
    assert (likelihood.log_prob < 0).all()


def test_loss_equals_a_hand_computation_with_padding(model: BiaxialLSTM) -> None:
    batch = make_batch(lengths=[T, 4])
    logits = model(batch).double()
    p_play, p_artic = torch.sigmoid(logits[..., 0]), torch.sigmoid(logits[..., 1])
    y, a = batch["play"].double(), batch["articulate"].double()
    bernoulli = y * torch.log(p_play) + (1 - y) * torch.log(1 - p_play)
    artic = y * (a * torch.log(p_artic) + (1 - a) * torch.log(1 - p_artic))
    total = 0.0
    for b, length in enumerate([T, 4]):  # padded steps 4, 5 of example 1 do not count
        total -= (bernoulli[b, :length].sum() + artic[b, :length].sum()).item()
    expected = total / (T + 4)
    assert model.loss(batch)["loss"].item() == pytest.approx(expected, rel=1e-5)


def test_log_likelihood_agrees_with_the_training_loss(model: BiaxialLSTM) -> None:
    batch = make_batch(seed=3, lengths=[5, T])
    likelihood = model.log_likelihood(batch)
    parts = model.loss(batch)
    mask = likelihood.mask
    assert mask.sum() == 5 + T
    mean_nll = -(likelihood.log_prob * mask).sum() / mask.sum()
    assert mean_nll.item() == pytest.approx(parts["play_nll"].item(), rel=1e-6)
    assert parts["loss"].item() == pytest.approx(
        parts["play_nll"].item() + parts["articulate_nll"].item(), rel=1e-6)


def test_note_axis_at_note_k_depends_only_on_notes_below(model: BiaxialLSTM) -> None:
    batch = make_batch()
    t, j = 3, 40
    perturbed = {k: v.clone() for k, v in batch.items()}
    perturbed["play"][:, t, j] = 1 - perturbed["play"][:, t, j]
    perturbed["articulate"][:, t, j] = perturbed["play"][:, t, j]
    before, after = model.note_axis_input(batch), model.note_axis_input(perturbed)
    torch.testing.assert_close(before[:, t, : j + 1], after[:, t, : j + 1], rtol=0, atol=0)
    assert not torch.equal(before[:, t, j + 1], after[:, t, j + 1])
    logits_before, logits_after = model(batch), model(perturbed)
    torch.testing.assert_close(logits_before[:, : t + 1, : j + 1],
                               logits_after[:, : t + 1, : j + 1], rtol=0, atol=0)
    assert not torch.equal(logits_before[:, t, j + 1:], logits_after[:, t, j + 1:])
    assert not torch.equal(logits_before[:, t + 1], logits_after[:, t + 1])


def test_generation_is_deterministic_under_a_seed(model: BiaxialLSTM) -> None:
    first, again, other = (model.generate(2, seed=s) for s in (7, 7, 8))
    assert [p.n_steps for p in first] == [5, 5]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.notes, b.notes)
    assert any(not np.array_equal(a.notes, b.notes) for a, b in zip(first, other, strict=True))
    assert all(24 <= p.notes["pitch"].min() and p.notes["pitch"].max() <= 101 for p in first)


def test_a_few_adam_steps_lower_the_loss_on_one_batch() -> None:
    torch.manual_seed(0)
    model = BiaxialLSTM(time_sizes=[12], note_sizes=[8], dropout=0.0, lr=2e-2)
    batch = make_batch(seed=1)
    optimiser = model.configure_optimizers()
    start = model.loss(batch)["loss"].item()
    for _ in range(12):
        optimiser.zero_grad()
        model.loss(batch)["loss"].backward()
        optimiser.step()
    assert model.loss(batch)["loss"].item() < 0.9 * start
