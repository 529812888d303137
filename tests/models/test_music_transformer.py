"""Music Transformer (models/music_transformer.py, models/relative_attention.py): skewed
relative attention against a naive O(L^2 D) reference, causal masking, cached decoding,
per-event -> per-step likelihood, seeded sampling, and a smoke bench row."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from musebench.datasets.codecs.event_tokens import TIME_SHIFT
from musebench.datasets.piece import Piece, make_notes
from musebench.models.music_transformer import MusicTransformer
from musebench.models.relative_attention import RelativeSelfAttention, skew


def naive_attention(layer: RelativeSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Relative attention written out position by position: O(L^2 D), no skewing."""
    batch, length, _ = x.shape
    q, k, v = (t.reshape(batch, length, layer.heads, layer.head_dim).transpose(1, 2)
               for t in layer.qkv(x).chunk(3, dim=-1))
    logits = torch.full((batch, layer.heads, length, length), float("-inf"), dtype=x.dtype)
    for i in range(length):
        for j in range(i + 1):
            rel = layer.relative[:, min(i - j, layer.max_relative - 1)]  # (H, Dh)
            logits[:, :, i, j] = ((q[:, :, i] * k[:, :, j]).sum(-1)
                                  + (q[:, :, i] * rel).sum(-1)) / math.sqrt(layer.head_dim)
    out = torch.softmax(logits, dim=-1) @ v
    return layer.out(out.transpose(1, 2).reshape(batch, length, -1))


@pytest.mark.parametrize("max_relative", [16, 5])  # 5: distances beyond 4 are clipped
def test_skewed_relative_attention_equals_the_naive_reference(max_relative):
    torch.manual_seed(0)
    layer = RelativeSelfAttention(d_model=12, heads=3, max_relative=max_relative).double()
    x = torch.randn(2, 11, 12, dtype=torch.float64)
    fast, _ = layer(x)
    assert (fast - naive_attention(layer, x)).abs().max().item() < 1e-5


def test_skew_puts_distance_i_minus_j_at_row_i_column_j():
    length = 4
    # column c holds distance L-1-c in every row; encode (row, distance) as 10*row + distance
    rel = torch.tensor([[10.0 * i + (length - 1 - c) for c in range(length)]
                        for i in range(length)])
    skewed = skew(rel)
    for i in range(length):
        for j in range(i + 1):
            assert skewed[i, j].item() == 10 * i + (i - j)


def test_cached_decoding_equals_the_full_pass():
    torch.manual_seed(0)
    layer = RelativeSelfAttention(d_model=8, heads=2, max_relative=4).double().eval()
    x = torch.randn(1, 7, 8, dtype=torch.float64)
    full, _ = layer(x)
    cache, steps = None, []
    for t in range(7):
        out, cache = layer(x[:, t:t + 1], cache)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), full)


def tiny_model(**kwargs) -> MusicTransformer:
    torch.manual_seed(0)
    options = dict(d_model=16, heads=2, layers=2, ff=32, dropout=0.0, max_relative=8,
                   max_shift=4, steps=12, max_tokens=200)
    return MusicTransformer(**{**options, **kwargs}).eval()


def test_causal_masking_a_token_never_sees_later_tokens():
    model = tiny_model()
    tokens = torch.randint(1, model.codec.vocab_size, (1, 10),
                           generator=torch.Generator().manual_seed(0))
    changed = tokens.clone()
    changed[0, 6:] = (changed[0, 6:] + 7) % model.codec.vocab_size
    logits, _ = model(tokens)
    logits_changed, _ = model(changed)
    torch.testing.assert_close(logits[0, :6], logits_changed[0, :6])
    assert not torch.allclose(logits[0, 6:], logits_changed[0, 6:])


def encoded_batch(model: MusicTransformer) -> tuple[list[Piece], dict[str, torch.Tensor]]:
    pieces = [Piece(make_notes([0, 0, 2, 6], [2, 4, 1, 3], [60, 64, 67, 62]), length=10),
              Piece(make_notes([1, 3], [2, 1], [48, 50]), length=5)]
    return pieces, model.codec.collate([model.codec.encode(p) for p in pieces])


def test_log_likelihood_is_per_time_step_and_keeps_the_total():
    model = tiny_model()
    pieces, batch = encoded_batch(model)
    likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.shape == (2, 10)
    assert likelihood.mask.sum(1).tolist() == [p.n_steps for p in pieces]
    token_log_prob, token_mask = model.token_log_probs(batch)
    assert token_mask.sum(1).tolist() == [len(model.codec.encode(p)["tokens"]) - 1
                                          for p in pieces]
    torch.testing.assert_close((likelihood.log_prob * likelihood.mask).sum(1),
                               (token_log_prob * token_mask).sum(1))
    # by hand for the second piece: each token's log-softmax, put on its step
    tokens = batch["tokens"][1, :int(batch["lengths"][1])]
    logits, _ = model(tokens[None, :-1])
    hand = F.log_softmax(logits[0], -1).gather(1, tokens[1:, None])[:, 0]
    steps = batch["step"][1, 1:len(tokens)]
    expected = torch.zeros(5).index_add_(0, steps, hand)
    torch.testing.assert_close(likelihood.log_prob[1, :5], expected)


def test_bf16_autocast_keeps_float32_per_step_log_probabilities():
    model = tiny_model()
    _, batch = encoded_batch(model)
    exact = model.log_likelihood(batch).log_prob
    with torch.autocast("cpu", dtype=torch.bfloat16):
        likelihood = model.log_likelihood(batch)
    assert likelihood.log_prob.dtype == torch.float32
    torch.testing.assert_close(likelihood.log_prob, exact, rtol=0.05, atol=0.1)


def test_loss_is_nats_per_event_and_training_lowers_it():
    model = tiny_model(lr=0.01, warmup=1).train()
    _, batch = encoded_batch(model)
    log_prob, mask = model.token_log_probs(batch)
    torch.testing.assert_close(model.loss(batch), -log_prob[mask].mean())
    optimizer = model.configure_optimizers()["optimizer"]
    before = model.loss(batch).item()
    for _ in range(30):
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    assert model.loss(batch).item() < 0.5 * before


def test_generation_is_deterministic_under_a_seed_and_covers_the_steps():
    model = tiny_model()
    with torch.no_grad():  # make time shifts likely, so that 12 steps are soon covered
        model.output.bias[TIME_SHIFT:model.codec.velocity_offset] += 4.0
    grid = Piece(make_notes([0], [1], [60]), steps_per_beat=1, meta={"id": "grid"})
    first = model.generate(3, conditions=[grid], seed=7)
    again = model.generate(3, conditions=[grid], seed=7)
    other = model.generate(3, conditions=[grid], seed=8)
    assert len(first) == 3 and all(p.steps_per_beat == 1 for p in first)
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a.notes, b.notes) for a, b in zip(first, other, strict=True))
    assert all(12 <= p.n_steps < 12 + 4 for p in first)  # stops once 12 steps are covered
    capped = tiny_model(max_tokens=5).generate(2, seed=0)  # untrained: few time shifts
    assert all(p.n_steps <= 5 * 4 for p in capped)


@pytest.mark.slow
def test_smoke_bench_lands_a_row_with_a_per_step_likelihood(tmp_path: Path,
                                                            session_cache: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    from musebench.experiments.bench import bench
    from musebench.leaderboard.store import read_rows

    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    bench("music_transformer", preset="smoke", seed=0, out=tmp_path / "runs",
          results=tmp_path / "results.jsonl", audio=False)
    rows = read_rows(tmp_path / "results.jsonl")
    assert [r["model"] for r in rows] == ["music_transformer"]
    assert np.isfinite(rows[0]["metrics"]["nll_per_step"])
    assert rows[0]["metrics"]["nll_per_step"] > 0
