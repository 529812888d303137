"""FLOP counting of make perf (perf/flops.py) on modules whose FLOPs are worked out by
hand: a Linear layer and LSTMs, whose fused CPU kernel the stock counter misses."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from musebench.perf.flops import counting_flops, matmul_peak


def test_linear_forward_and_weight_gradient_are_two_batch_in_out_each() -> None:
    batch, n_in, n_out = 3, 10, 20
    layer = torch.nn.Linear(n_in, n_out)
    with counting_flops() as counter:
        layer(torch.randn(batch, n_in)).sum().backward()
    # forward x @ W^T, backward dW = dy^T @ x (the input needs no gradient)
    assert counter.get_total_flops() == 2 * (2 * batch * n_in * n_out)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN LSTM kernel")
def test_stock_counter_misses_the_fused_cpu_lstm() -> None:
    lstm = torch.nn.LSTM(10, 20, batch_first=True)
    with FlopCounterMode(display=False) as counter:
        lstm(torch.randn(3, 7, 10))
    assert counter.get_total_flops() == 0  # why counting_flops adds formulas


def test_lstm_layers_count_input_and_recurrent_matmuls_per_position() -> None:
    batch, steps, n_in, hidden = 3, 7, 10, 20
    lstm = torch.nn.LSTM(n_in, hidden, num_layers=2, batch_first=True)
    positions = batch * steps
    gates = 4 * hidden
    forward = (2 * positions * gates * (n_in + hidden)      # layer 1
               + 2 * positions * gates * (hidden + hidden))  # layer 2
    with counting_flops() as counter:
        lstm(torch.randn(batch, steps, n_in))
    assert counter.get_total_flops() == forward
    with counting_flops() as counter:
        lstm(torch.randn(batch, steps, n_in))[0].sum().backward()
    assert counter.get_total_flops() == 3 * forward  # backward is twice the forward


def test_bidirectional_gru_counts_both_directions_with_three_gates() -> None:
    gru = torch.nn.GRU(10, 20, batch_first=True, bidirectional=True)
    with counting_flops() as counter:
        gru(torch.randn(3, 7, 10))
    assert counter.get_total_flops() == 2 * (2 * 21 * (3 * 20) * (10 + 20))


def test_matmul_peak_reports_each_backend_and_the_best_per_dtype() -> None:
    peak = matmul_peak("cpu", size=64, repeats=1)
    fp32 = [v for k, v in peak["flops_per_s"].items() if k.startswith("fp32")]
    assert peak["peak_fp32"] == max(fp32) > 0
    assert peak["peak_bf16"] == peak["flops_per_s"]["bf16_torch_mm"] > 0


def test_a_slow_backend_is_measured_on_a_product_that_fits_the_time() -> None:
    """fitting_size: the side whose product takes about ``seconds``, a multiple of 64 kept
    between the probe and the requested size (bf16 on an AVX2-only CPU runs at ~0.3
    GFLOP/s: a 2048 product would take a minute)."""
    from musebench.perf.flops import fitting_size

    assert fitting_size(1e12, 2048, seconds=0.5) == 2048  # fast: the full size
    assert fitting_size(0.3e9, 2048, seconds=0.5) == 384  # (0.3e9 * 0.5 / 2) ** (1/3) = 421
    assert fitting_size(1e3, 2048, seconds=0.5, probe=256) == 256  # never below the probe
    assert fitting_size(1e12, 128, seconds=0.5, probe=256) == 128  # never above the size


def test_a_step_with_the_gradient_of_a_gradient_is_counted() -> None:
    """WGAN-GP's penalty (MuseGAN): autograd.grad with create_graph on an interpolate that
    is a leaf. FlopCounterMode's module tracker raised here; the totals need none."""
    critic = torch.nn.Linear(8, 1)
    mixed = torch.rand(4, 8, requires_grad=True)
    with counting_flops() as counter:
        score = critic(mixed).sum()
        (gradient,) = torch.autograd.grad(score, mixed, create_graph=True)
        (gradient.norm(dim=1) - 1).pow(2).mean().backward()
    assert counter.get_total_flops() >= 2 * 4 * 8  # at least the forward's product
