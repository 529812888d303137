"""MuseGAN's networks: temporal generators, the bar generator and the critic.

Dong, Hsiao, Yang & Yang, AAAI 2018. Shapes for ``K`` tracks, phrases of ``B = 4`` bars
of 16 steps and ``P = 12 * octaves`` pitches; a roll is ``(N, K, B, 16, P)``.

Every transposed convolution of the bar generator, and the temporal generator's first,
has its stride equal to its kernel (each input cell becomes one block of the output) and
so does every convolution of the critic here (each output cell reads one block). Both
are then one batched matrix product per group (:class:`BlockUpsample`,
:class:`BlockDownsample`); a group is a track for the private (per-track) layers and the
whole batch for the shared ones: the same function as ``ConvTranspose2d`` / ``Conv3d``
with groups, faster on a CPU (one layer, measured under load: 2.6x). The temporal
generator's kernel-3 stride-1 layer is one matrix product whose three taps are added at
offsets.

- :class:`TemporalGenerator` (the paper's G_temp; the AAAI code's ``PhraseGenerator``,
  ``v1/musegan/modules.py``): a noise vector to 4 bar-level latents, a transposed
  convolution over time of kernel 2 stride 2 (1 -> 2 steps), then one of kernel 3 stride
  1 (2 -> 4), each with batch norm and ReLU; ``groups = K`` makes the K private temporal
  generators of the melody input in one call.
- :class:`BarGenerator`: each track's bar latent through a *shared* stack (the same
  weights for every track: 1x1 -> 4 steps x ``octaves``), then *private* per-track
  stacks, two branches as the authors' later generator
  (``src/musegan/presets/generator/default.py``): pitch-then-time and time-then-pitch
  expansions to 16 x P, concatenated and merged to one map by a private 1x1 layer. A
  sigmoid gives note probabilities (the authors use tanh on rolls in [-1, 1]; ours are
  in [0, 1]).
- :class:`Critic`: private per-track layers (pitch to octaves, then time by 4), a shared
  layer over all tracks' maps that reads a whole bar, then a dense head to one unbounded
  score (WGAN; no batch norm, which the gradient penalty's per-example gradient forbids).
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: Steps per bar the networks produce and read (4 x 4 strides).
STEPS_PER_BAR = 16


def _uniform(shape: tuple[int, ...], fan_in: int) -> nn.Parameter:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, PyTorch's default for a linear layer."""
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class BlockUpsample(nn.Module):
    """``(M, G, Cin, H, W)`` -> ``(M, G, Cout, H*kh, W*kw)``: a transposed convolution with
    stride = kernel, one weight per group, as one batched matmul."""

    def __init__(self, groups: int, cin: int, cout: int, kernel: tuple[int, int]) -> None:
        super().__init__()
        self.cout, self.kernel = cout, kernel
        self.weight = _uniform((groups, cin, cout * kernel[0] * kernel[1]), cin)
        self.bias = nn.Parameter(torch.zeros(groups, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, g, c, h, w = x.shape
        (kh, kw), cout = self.kernel, self.cout
        y = torch.bmm(x.permute(1, 0, 3, 4, 2).reshape(g, m * h * w, c), self.weight)
        y = y.reshape(g, m, h, w, cout, kh, kw).permute(1, 0, 4, 2, 5, 3, 6)
        return y.reshape(m, g, cout, h * kh, w * kw) + self.bias[None, :, :, None, None]


class BlockDownsample(nn.Module):
    """``(N, G, Cin, D, H, W)`` -> ``(N, G, Cout, D/kd, H/kh, W/kw)``: a convolution with
    stride = kernel, one weight per group, as one batched matmul."""

    def __init__(self, groups: int, cin: int, cout: int, kernel: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel = kernel
        fan_in = cin * math.prod(kernel)
        self.weight = _uniform((groups, fan_in, cout), fan_in)
        self.bias = nn.Parameter(torch.zeros(groups, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, g, c, d, h, w = x.shape
        kd, kh, kw = self.kernel
        blocks = x.reshape(n, g, c, d // kd, kd, h // kh, kh, w // kw, kw)
        blocks = blocks.permute(1, 0, 3, 5, 7, 2, 4, 6, 8).reshape(g, -1, c * kd * kh * kw)
        y = torch.bmm(blocks, self.weight) + self.bias[:, None]
        return y.reshape(g, n, d // kd, h // kh, w // kw, -1).permute(1, 0, 5, 2, 3, 4)


class NormReLU(nn.Module):
    """Batch norm per (group, channel) then ReLU, on ``(M, G, C, ...)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], x.shape[1] * x.shape[2], -1)
        return torch.relu(self.norm(flat)).reshape(x.shape)


class TemporalGenerator(nn.Module):
    """``(N, G, z_dim)`` noise -> ``(N, G, 4, z_dim)``: one latent per bar of a 4-bar
    phrase, for each of ``groups`` independent temporal generators."""

    def __init__(self, z_dim: int, hidden: int, groups: int = 1) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.first = BlockUpsample(groups, z_dim, hidden, (2, 1))      # 1 -> 2 steps
        self.first_norm = NormReLU(groups * hidden)
        self.second = _uniform((groups, hidden, 3 * z_dim), hidden)     # kernel 3, stride 1
        self.second_bias = nn.Parameter(torch.zeros(groups, 1, 1, z_dim))
        self.second_norm = NormReLU(groups * z_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n, g, _ = z.shape
        h = self.first_norm(self.first(z[..., None, None]))[..., 0]     # (N, G, hidden, 2)
        taps = torch.bmm(h.permute(1, 0, 3, 2).reshape(g, n * 2, -1), self.second)
        taps = taps.reshape(g, n, 2, 3, self.z_dim)
        # transposed convolution, kernel 3: input step s reaches output steps s .. s + 2
        out = torch.zeros(g, n, 4, self.z_dim, dtype=taps.dtype, device=taps.device)
        out = out.index_add(2, torch.arange(3, device=z.device), taps[:, :, 0])
        out = out.index_add(2, torch.arange(1, 4, device=z.device), taps[:, :, 1])
        out = (out + self.second_bias).permute(1, 0, 3, 2)              # (N, G, z, 4)
        return self.second_norm(out).transpose(2, 3)


class BarGenerator(nn.Module):
    """``(M, K, in_dim)`` bar latents (one per track) -> ``(M, K, 16, P)`` probabilities.

    Args:
        n_tracks: K.
        in_dim: size of a track's bar latent.
        channels: maps of the last shared layer (the first two have 4x and 2x; the
            private branches ``channels / 4`` and ``channels / 8``); 128 as the authors'.
        octaves: P / 12.
        initial_density: the output's starting probability: the merge layer's bias starts
            at its logit (0.5: bias 0, the authors' tanh starting at their threshold).
    """

    def __init__(self, n_tracks: int, in_dim: int, channels: int, octaves: int,
                 initial_density: float = 0.5) -> None:
        super().__init__()
        k, c = n_tracks, channels
        q, e = max(c // 4, 1), max(c // 8, 1)

        def up(groups: int, cin: int, cout: int, kernel: tuple[int, int]) -> nn.Sequential:
            return nn.Sequential(BlockUpsample(groups, cin, cout, kernel),
                                 NormReLU(groups * cout))

        self.shared = nn.Sequential(up(1, in_dim, 4 * c, (2, 1)),      # 1 x 1 -> 2 x 1
                                    up(1, 4 * c, 2 * c, (2, 1)),       # -> 4 x 1
                                    up(1, 2 * c, c, (1, octaves)))     # -> 4 x octaves
        self.pitch_time = nn.Sequential(up(k, c, q, (1, 12)),          # 4 x P
                                        up(k, q, e, (4, 1)))           # 16 x P
        self.time_pitch = nn.Sequential(up(k, c, q, (4, 1)),           # 16 x octaves
                                        up(k, q, e, (1, 12)))          # 16 x P
        self.merge = BlockUpsample(k, 2 * e, 1, (1, 1))
        with torch.no_grad():
            self.merge.bias.fill_(math.log(initial_density / (1 - initial_density)))

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        m, k, d = latents.shape
        shared = self.shared(latents.reshape(m * k, 1, d, 1, 1))       # (M*K, 1, c, 4, oct)
        shared = shared.reshape(m, k, *shared.shape[2:])
        both = torch.cat([self.pitch_time(shared), self.time_pitch(shared)], dim=2)
        return torch.sigmoid(self.merge(both)[:, :, 0])                # (M, K, 16, P)


class Critic(nn.Module):
    """``(N, K, B, 16, P)`` rolls -> ``(N,)`` WGAN scores.

    Args:
        n_tracks: K.
        n_bars: B.
        channels: maps per track of the private layers; the shared ones have 4x.
        octaves: P / 12.
    """

    def __init__(self, n_tracks: int, n_bars: int, channels: int, octaves: int) -> None:
        super().__init__()
        k, c = n_tracks, channels
        self.pitch = BlockDownsample(k, 1, c, (1, 1, 12))              # B x 16 x octaves
        self.time = BlockDownsample(k, c, c, (1, 4, 1))                # B x 4 x octaves
        self.bar = BlockDownsample(1, k * c, 4 * c, (1, 4, octaves))   # B x 1 x 1
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * c * n_bars, 4 * c),
                                  nn.LeakyReLU(0.2), nn.Linear(4 * c, 1))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        h = self.act(self.pitch(rolls[:, :, None]))                    # (N, K, c, B, 16, oct)
        h = self.act(self.time(h))
        h = self.act(self.bar(h.reshape(h.shape[0], 1, -1, *h.shape[3:])))
        return self.head(h).squeeze(-1)
