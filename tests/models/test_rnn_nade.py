"""RNN-NADE (models/rnn_nade.py): exact normalisation, hand-computed NADE conditionals,
causality, seeded sampling, and a smoke bench that lands a row."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.datasets.piece import Piece, make_notes
from musebench.models.rnn_nade import RNNNADE


def three_note_model(**kwargs) -> RNNNADE:
    torch.manual_seed(0)
    model = RNNNADE(rnn_hidden=4, nade_hidden=2, lowest=60, highest=62, steps=5, **kwargs)
    with torch.no_grad():  # weights large enough that the conditionals differ clearly
        for parameter in model.parameters():
            parameter.normal_(0.0, 1.0)
    return model


def all_frames(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)))


def test_the_eight_frames_of_a_three_note_nade_sum_to_one():
    model = three_note_model().double()
    history = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    frames = all_frames(3).double()  # 2^3 candidate third frames after the same history
    rolls = torch.cat([history.expand(8, 2, 3), frames[:, None]], dim=1)
    log_prob, _ = model.frame_log_probs(rolls)
    assert torch.allclose(log_prob[:, :2], log_prob[:1, :2].expand(8, 2))
    assert abs(torch.logsumexp(log_prob[:, 2], 0).exp().item() - 1.0) < 1e-6
    # the first frame too (conditioned on the silent start)
    first, _ = model.frame_log_probs(frames[:, None])
    assert abs(torch.logsumexp(first[:, 0], 0).exp().item() - 1.0) < 1e-6


def test_nade_conditionals_match_a_hand_computation():
    model = RNNNADE(rnn_hidden=2, nade_hidden=1, lowest=60, highest=62)
    with torch.no_grad():
        model.W.copy_(torch.tensor([[2.0], [-1.0], [0.5]]))
        model.V.copy_(torch.tensor([[1.0], [3.0], [-2.0]]))
    hidden_bias = torch.tensor([0.0])
    visible_bias = torch.tensor([0.5, -1.0, 0.0])
    frame = torch.tensor([1.0, 0.0, 1.0])
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    # note 0: h = sig(0) = 0.5, logit = 0.5 + 1*0.5 = 1.0
    # note 1: h = sig(0 + 2*1) = sig(2), logit = -1 + 3*sig(2)
    # note 2: h = sig(2 + -1*0) = sig(2), logit = 0 - 2*sig(2)
    expected = torch.tensor([1.0, -1 + 3 * sig(2), -2 * sig(2)])
    logits = model.nade_logits(frame, hidden_bias, visible_bias)
    torch.testing.assert_close(logits, expected)
    p = [sig(v) for v in expected.tolist()]
    hand_log_prob = math.log(p[0]) + math.log(1 - p[1]) + math.log(p[2])
    assert abs(hand_log_prob - (-4.0527)) < 1e-3  # by hand: log(0.7311 * 0.1621 * 0.1466)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, frame, reduction="sum")
    assert abs(-bce.item() - hand_log_prob) < 1e-5


def test_log_likelihood_shapes_mask_and_training_loss_agree():
    model = three_note_model()
    roll = (torch.rand(2, 6, 3, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    roll[1, 4:] = 0
    batch = {"roll": roll, "lengths": torch.tensor([6, 4])}
    likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.shape == (2, 6) and likelihood.note_probs.shape == (2, 6, 3)
    assert likelihood.mask.tolist() == [[True] * 6, [True] * 4 + [False] * 2]
    torch.testing.assert_close(model.loss(batch),
                               -likelihood.log_prob[likelihood.mask].mean())


def test_a_frame_depends_only_on_earlier_frames_and_lower_notes():
    model = three_note_model()
    roll = torch.zeros(1, 5, 3)
    changed = roll.clone()
    changed[0, 2, 1] = 1.0  # frame 2, middle note
    probs = model.log_likelihood({"roll": roll}).note_probs
    probs_changed = model.log_likelihood({"roll": changed}).note_probs
    torch.testing.assert_close(probs[0, :2], probs_changed[0, :2])
    torch.testing.assert_close(probs[0, 2, :2], probs_changed[0, 2, :2])  # notes 0 and 1
    assert not torch.allclose(probs[0, 2, 2], probs_changed[0, 2, 2])
    assert not torch.allclose(probs[0, 3:], probs_changed[0, 3:])


def test_sampled_frames_follow_the_nade_distribution():
    model = three_note_model()
    hidden_bias, visible_bias, _ = model.biases(torch.zeros(1, 1, 3))
    draws = model.sample_frame(hidden_bias[:, 0].expand(4000, -1),
                               visible_bias[:, 0].expand(4000, -1),
                               torch.Generator().manual_seed(0))
    codes = (draws * torch.tensor([4.0, 2.0, 1.0])).sum(1).long()
    empirical = torch.bincount(codes, minlength=8).float() / 4000
    exact, _ = model.frame_log_probs(all_frames(3)[:, None])
    torch.testing.assert_close(empirical, exact[:, 0].exp(), atol=0.03, rtol=0)


def test_generation_is_deterministic_under_a_seed_and_keeps_the_source_grid():
    model = RNNNADE(rnn_hidden=8, nade_hidden=8, steps=6)
    grid = Piece(make_notes([0], [1], [60]), steps_per_beat=1, meta={"id": "grid"})
    first = model.generate(3, conditions=[grid], seed=7)
    again = model.generate(3, conditions=[grid], seed=7)
    other = model.generate(3, conditions=[grid], seed=8)
    assert all(p.n_steps <= 6 and p.steps_per_beat == 1 for p in first)
    assert all(np.array_equal(a.pianoroll(), b.pianoroll()) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a.pianoroll(), b.pianoroll())
               for a, b in zip(first, other, strict=True))


def test_training_steps_lower_the_loss():
    torch.manual_seed(0)
    model = RNNNADE(rnn_hidden=16, nade_hidden=16, lr=0.02)
    roll = torch.zeros(2, 8, 88)
    roll[:, ::2, [39, 43, 46]] = 1.0  # a C major triad every other frame
    batch = {"roll": roll}
    optimizer = model.configure_optimizers()
    before = model.loss(batch).item()
    for _ in range(15):
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    assert model.loss(batch).item() < 0.5 * before


@pytest.mark.slow
def test_smoke_bench_lands_a_row_with_an_exact_likelihood(tmp_path: Path, session_cache: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    from musebench.experiments.bench import bench
    from musebench.leaderboard.store import read_rows

    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    bench("rnn_nade", preset="smoke", seed=0, out=tmp_path / "runs",
          results=tmp_path / "results.jsonl", audio=False)
    rows = read_rows(tmp_path / "results.jsonl")
    assert [r["model"] for r in rows] == ["rnn_nade"]
    metrics = rows[0]["metrics"]
    assert np.isfinite(metrics["nll_per_step"]) and metrics["nll_per_step"] > 0
    assert 0 < metrics["frame_accuracy"] < 1


def test_ceiling_keeps_the_pieces_grid() -> None:
    # A quarter-note piece in 3/4 (the Boulanger sets are on a grid of one step a beat):
    # the frame roll counts steps, so the round trip must keep the piece's grid. On the
    # default 16th grid its bars would last 3/4 of a beat, and the per-beat chords of the
    # piece that conditions it would no longer line up with its notes (the ceiling rows
    # of the polyphonic track were scored so before the fix).
    piece = Piece(make_notes([0, 0, 0, 3], [3, 3, 3, 3], [60, 64, 67, 62], [80] * 4),
                  steps_per_beat=1, beats_per_bar=3)
    (ceiling,) = RNNNADE(rnn_hidden=4, nade_hidden=4).ceiling([piece])
    assert (ceiling.steps_per_beat, ceiling.beats_per_bar) == (1, 3)
    np.testing.assert_array_equal(ceiling.notes, piece.notes)
