"""``make perf`` GAN section: the fast formulations MidiNet and C-RNN-GAN use, against the
straightforward ones, on this machine's CPU (forward + backward, best of ``REPEATS``).

- MidiNet: the full-pitch-width maps as reshape + matmul
  (:class:`~musebench.models.midinet_layers.FullPitchConv`,
  :class:`~musebench.models.midinet_layers.FullPitchDeconv`) against ``F.conv2d`` /
  ``F.conv_transpose2d`` with the same weights, at the paper's sizes, batch 72.
- C-RNN-GAN: free-running generation as ``torch.lstm_cell`` steps on the ``nn.LSTM``'s
  weights (the model's formulation) against ``nn.LSTM`` called once per step, and the fused
  whole-sequence pass used for teacher forcing; 350 units, batch 20, 100 steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from musebench.models.crnngan_layers import EventGenerator, shift_right
from musebench.models.midinet_layers import FullPitchConv, FullPitchDeconv

REPEATS = 5


def best_time(fn: Callable[[], torch.Tensor]) -> float:
    """Best wall time of ``fn() .sum().backward()`` over ``REPEATS`` runs (after a warm-up)."""
    fn().sum().backward()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn().sum().backward()
        times.append(time.perf_counter() - started)
    return min(times)


def midinet_layers(batch: int = 72) -> dict[str, float]:
    """Seconds of the discriminator's (2 x 128) conv and the generator's (1 x 128) deconv."""
    conv, deconv = FullPitchConv(14, 14, 2), FullPitchDeconv(157, 1)
    bars = torch.rand(batch, 14, 16, 128, requires_grad=True)
    steps = torch.rand(batch, 157, 16, 1, requires_grad=True)
    return {
        "conv_matmul_s": best_time(lambda: conv(bars)),
        "conv_conv2d_s": best_time(lambda: F.conv2d(bars, conv.weight, conv.bias, stride=(2, 1))),
        "deconv_matmul_s": best_time(lambda: deconv(steps)),
        "deconv_conv_transpose2d_s": best_time(
            lambda: F.conv_transpose2d(steps, deconv.weight, deconv.bias)),
    }


def lstm_per_step(net: EventGenerator, noise: torch.Tensor) -> torch.Tensor:
    """The generator with ``nn.LSTM`` called once per step with its ``(h, c)`` state."""
    state = None
    output = noise.new_zeros(noise.shape[0], net.n_features)
    outputs = []
    for t in range(noise.shape[1]):
        x = F.relu(net.input_layer(torch.cat([noise[:, t], output], -1)))
        hidden, state = net.lstm(x.unsqueeze(1), state)
        output = net.output_layer(hidden[:, 0])
        outputs.append(output)
    return torch.stack(outputs, 1)


def crnngan_generator(batch: int = 20, steps: int = 100, hidden: int = 350) -> dict[str, float]:
    """Seconds of one generator pass three ways, plus the max difference of the two loops."""
    net = EventGenerator(4, 4, hidden)
    noise = torch.rand(batch, steps, 4)
    with torch.no_grad():
        difference = float((net(noise) - lstm_per_step(net, noise)).abs().max())
    previous = torch.rand(batch, steps, 4)
    return {
        "lstm_cell_steps_s": best_time(lambda: net(noise)),
        "nn_lstm_per_step_s": best_time(lambda: lstm_per_step(net, noise)),
        "lstm_fused_teacher_forced_s": best_time(
            lambda: net.teacher_forced(noise, shift_right(previous))),
        "cells_vs_nn_lstm_max_abs_diff": difference,
    }


def run() -> dict[str, Any]:
    """Measure both sections, print a table and return the figures with their ratios."""
    torch.manual_seed(0)
    midinet, crnngan = midinet_layers(), crnngan_generator()
    result = {
        "midinet": {**midinet,
                    "conv_speedup": midinet["conv_conv2d_s"] / midinet["conv_matmul_s"],
                    "deconv_speedup": (midinet["deconv_conv_transpose2d_s"]
                                       / midinet["deconv_matmul_s"])},
        "crnngan": {**crnngan,
                    "cell_steps_speedup": (crnngan["nn_lstm_per_step_s"]
                                           / crnngan["lstm_cell_steps_s"])},
    }
    for section, figures in result.items():
        for name, value in figures.items():
            print(f"{section:8s} {name:32s} {value:10.4g}")
    return result


if __name__ == "__main__":
    run()
