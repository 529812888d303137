"""Boulanger-Lewandowski likelihood metrics, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.metrics.likelihood import (
    LikelihoodTotals,
    expected_frame_accuracy,
    nll_per_step,
)


def test_random_coin_per_note_row_is_minus_61_nats_per_step():
    steps, notes = 10, 88
    targets = (np.random.default_rng(0).random((2, steps, notes)) < 0.1).astype(float)
    probs = np.full_like(targets, 0.5)
    log_prob = (targets * np.log(probs) + (1 - targets) * np.log(1 - probs)).sum(-1)
    result = LikelihoodTotals().add(log_prob, np.ones((2, steps)), probs, targets).result()
    assert result["log_likelihood_per_step"] == pytest.approx(-61.00, abs=0.005)
    assert result["log_likelihood_per_step"] == pytest.approx(88 * np.log(0.5))


def test_nll_is_averaged_over_steps_not_sequences():
    log_prob = torch.tensor([[-1.0, -1.0, -1.0, 0.0], [-4.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    # (3 + 4) / 4 steps, not mean(1, 4) = 2.5
    assert nll_per_step(log_prob, mask) == pytest.approx(7 / 4)


def test_expected_frame_accuracy_by_hand():
    probs = np.array([[[0.9, 0.2, 0.0], [0.5, 0.5, 0.5]]])
    targets = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    # TP = .9 + .5 = 1.4; FP = .2 + .5 + .5 = 1.2; FN = .1 + .5 = .6
    accuracy = expected_frame_accuracy(probs, targets, np.ones((1, 2)))
    assert accuracy == pytest.approx(1.4 / 3.2)
    # masking the second step leaves TP .9, FP .2, FN .1
    assert expected_frame_accuracy(probs, targets, np.array([[1, 0]])) == pytest.approx(0.9 / 1.2)


def test_batches_accumulate_like_one_batch():
    rng = np.random.default_rng(1)
    probs, targets = rng.random((4, 5, 3)), (rng.random((4, 5, 3)) < 0.5).astype(float)
    log_prob, mask = -rng.random((4, 5)), np.ones((4, 5))
    whole = LikelihoodTotals().add(log_prob, mask, probs, targets).result()
    parts = LikelihoodTotals().add(log_prob[:2], mask[:2], probs[:2], targets[:2])
    parts = parts.add(log_prob[2:], mask[2:], probs[2:], targets[2:]).result()
    assert parts == pytest.approx(whole)


def test_bad_input_gives_a_clear_error():
    with pytest.raises(ValueError, match="empty mask"):
        nll_per_step(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        nll_per_step(np.array([[-np.inf]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="undefined"):
        expected_frame_accuracy(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), np.ones((1, 1)))
    with pytest.raises(ValueError, match="differ"):
        nll_per_step(np.zeros((1, 2)), np.ones((1, 3)))


def test_score_likelihoods_reads_step_likelihood_batches():
    from musebench.metrics.likelihood import score_likelihoods
    from musebench.models.base import StepLikelihood

    probs = torch.full((1, 2, 88), 0.5)
    targets = torch.zeros((1, 2, 88))
    batch = StepLikelihood(log_prob=torch.full((1, 2), 88 * np.log(0.5)),
                           mask=torch.ones((1, 2), dtype=torch.bool),
                           note_probs=probs, note_targets=targets)
    result = score_likelihoods([batch, batch])
    assert result["nll_per_step"] == pytest.approx(61.0, abs=0.005)
    assert result["frame_accuracy"] == 0.0  # TP = 0: every predicted note is a false positive
