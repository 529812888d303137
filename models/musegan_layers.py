"""MuseGAN's networks: temporal generators, the bar generator and the critic.

Dong, Hsiao, Yang & Yang, AAAI 2018. Shapes for ``K`` tracks, phrases of ``B = 4`` bars
of 16 steps and ``P = 12 * octaves`` pitches; a roll is ``(N, K, B, 16, P)``.

Every transposed convolution of the bar generator, and the temporal generator's first,
has its stride equal to its kernel (each input cell becomes one block of the output) and
so does every convolution of the critic here (each output cell reads one block). Each is
then one batched matrix product per group (:class:`BlockExpand`, :class:`BlockReduce`);
a group is a track for the private (per-track) layers and the whole batch for the shared
ones: the same function as ``ConvTranspose2d`` / ``Conv3d`` with groups.

**Layout.** Inside the networks a map is ``(G * C, L)``: the channels of each group first,
then every position of every example flattened into ``L``, a block's cells *outermost*
(an expansion makes ``L`` into ``(cells, L)``; a reduction reads ``(cells, L)`` as its
input channels). Every layer is then a ``bmm`` on a free view, batch norm sees
``(1, channels, L)`` (its fast contiguous path) and nothing is copied between layers; the
spatial order is restored once, on the way out. This layout trains the bar generator
1.8x faster than the ``(N, G, C, H, W)`` one it replaced (whose permutes and bias adds
were half its time), measured side by side on one CPU thread, same outputs to 1e-7.

The temporal generator's kernel-3 stride-1 layer is one matrix product whose three taps
are added at offsets.

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


class BlockExpand(nn.Module):
    """``(G * cin, L)`` -> ``(G * cout, cells * L)``: a transposed convolution with stride =
    kernel (``cells`` = the kernel's size), one weight per group, as one ``bmm``.

    Output position ``(j, l)`` is cell ``j`` of the block that input position ``l``
    becomes. Without ``bias`` the layer is a plain product (a bias added after it)."""

    def __init__(self, groups: int, cin: int, cout: int, cells: int, bias: bool = True) -> None:
        super().__init__()
        self.groups, self.cin, self.cout, self.cells = groups, cin, cout, cells
        self.weight = _uniform((groups, cout * cells, cin), cin)
        self.bias = nn.Parameter(torch.zeros(groups, cout)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(self.groups, self.cin, -1)
        if self.bias is None:
            y = torch.bmm(self.weight, x)
        else:
            bias = self.bias.repeat_interleave(self.cells, dim=1)[..., None]
            y = torch.baddbmm(bias, self.weight, x)
        return y.reshape(self.groups * self.cout, -1)


class BlockReduce(nn.Module):
    """``(G * cin, cells * L)`` -> ``(G * cout, L)``: a convolution with stride = kernel
    (``cells`` = the kernel's size), one weight per group, as one ``bmm``: output position
    ``l`` reads input positions ``(j, l)`` for every cell ``j`` of its block."""

    def __init__(self, groups: int, cin: int, cout: int, cells: int) -> None:
        super().__init__()
        self.groups, self.cin, self.cells = groups, cin, cells
        self.weight = _uniform((groups, cout, cin * cells), cin * cells)
        self.bias = nn.Parameter(torch.zeros(groups, cout, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(self.groups, self.cin * self.cells, -1)
        y = torch.baddbmm(self.bias, self.weight, x)
        return y.reshape(-1, y.shape[-1])


class NormReLU(nn.Module):
    """Batch norm per channel then ReLU, on a ``(channels, L)`` map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu_(self.norm(x[None]))[0]


class TemporalGenerator(nn.Module):
    """``(N, G, z_dim)`` noise -> ``(N, G, 4, z_dim)``: one latent per bar of a 4-bar
    phrase, for each of ``groups`` independent temporal generators."""

    def __init__(self, z_dim: int, hidden: int, groups: int = 1) -> None:
        super().__init__()
        self.z_dim, self.groups = z_dim, groups
        self.first = BlockExpand(groups, z_dim, hidden, 2)               # 1 -> 2 steps
        self.first_norm = NormReLU(groups * hidden)
        self.second = BlockExpand(groups, hidden, z_dim, 3, bias=False)  # kernel 3, stride 1
        self.second_bias = nn.Parameter(torch.zeros(groups * z_dim, 1, 1))
        self.second_norm = NormReLU(groups * z_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n, g, _ = z.shape
        h = self.first_norm(self.first(z.permute(1, 2, 0)))              # (G*hidden, 2*N)
        taps = self.second(h).reshape(g * self.z_dim, 3, 2, n)           # (G*z, tap, step, N)
        # transposed convolution, kernel 3: input step s reaches output steps s .. s + 2
        out = torch.zeros(g * self.z_dim, 4, n, dtype=taps.dtype, device=taps.device)
        out = out.index_add(1, torch.arange(3, device=z.device), taps[:, :, 0])
        out = out.index_add(1, torch.arange(1, 4, device=z.device), taps[:, :, 1])
        out = self.second_norm((out + self.second_bias).reshape(g * self.z_dim, -1))
        return out.reshape(g, self.z_dim, 4, n).permute(3, 0, 2, 1)


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
        self.octaves = octaves

        def up(groups: int, cin: int, cout: int, cells: int) -> nn.Sequential:
            return nn.Sequential(BlockExpand(groups, cin, cout, cells), NormReLU(groups * cout))

        self.shared = nn.Sequential(up(1, in_dim, 4 * c, 2),      # 1 x 1 -> 2 x 1
                                    up(1, 4 * c, 2 * c, 2),       # -> 4 x 1
                                    up(1, 2 * c, c, octaves))     # -> 4 x octaves
        self.pitch_time = nn.Sequential(up(k, c, q, 12),          # 4 x P
                                        up(k, q, e, 4))           # 16 x P
        self.time_pitch = nn.Sequential(up(k, c, q, 4),           # 16 x octaves
                                        up(k, q, e, 12))          # 16 x P
        # the private 1x1 merge of both branches' e maps, as two halves of one layer
        self.merge_pitch_time = BlockExpand(k, e, 1, 1)
        self.merge_time_pitch = BlockExpand(k, e, 1, 1, bias=False)
        with torch.no_grad():
            self.merge_pitch_time.bias.fill_(math.log(initial_density / (1 - initial_density)))

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        m, k, d = latents.shape
        o = self.octaves
        shared = self.shared(latents.reshape(m * k, d).t())        # (c, [oct, t2, t1, M, K])
        shared = shared.reshape(-1, o, 2, 2, m, k).permute(5, 0, 1, 2, 3, 4)
        shared = shared.reshape(-1, o * 4 * m)                     # (K*c, [oct, t2, t1, M])
        pitch_time = self.merge_pitch_time(self.pitch_time(shared))
        time_pitch = self.merge_time_pitch(self.time_pitch(shared))
        # (K, [step, pitch, oct, t2, t1, M]) and (K, [pitch, step, ...]) -> (M, K, t1, t2,
        # step, oct, pitch): bar step 4 * (2 t1 + t2) + step, pitch 12 oct + pitch class
        logits = (pitch_time.reshape(k, 4, 12, o, 2, 2, m).permute(6, 0, 5, 4, 1, 3, 2)
                  + time_pitch.reshape(k, 12, 4, o, 2, 2, m).permute(6, 0, 5, 4, 2, 3, 1))
        return torch.sigmoid(logits.reshape(m, k, STEPS_PER_BAR, 12 * o))


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
        self.pitch = BlockReduce(k, 1, c, 12)                      # B x 16 x octaves
        self.time = BlockReduce(k, c, c, 4)                        # B x 4 x octaves
        self.bar = BlockReduce(1, k * c, 4 * c, 4 * octaves)       # B x 1 x 1
        self.head = nn.Sequential(nn.Linear(4 * c * n_bars, 4 * c), nn.LeakyReLU(0.2),
                                  nn.Linear(4 * c, 1))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        n, k, b, _, p = rolls.shape
        # (N, K, B, t4 * step, oct * pitch) -> (K, [pitch, step, t4, oct, N, B]): each
        # layer's block cells outermost in what it reads
        x = rolls.reshape(n, k, b, 4, 4, p // 12, 12).permute(1, 6, 4, 3, 5, 0, 2)
        h = self.act(self.pitch(x.reshape(k * 12, -1)))            # (K*c, [step, t4, oct, N, B])
        h = self.act(self.time(h))                                 # (K*c, [t4, oct, N, B])
        h = self.act(self.bar(h))                                  # (4c, [N, B])
        return self.head(h.reshape(-1, n, b).transpose(0, 1).flatten(1)).squeeze(-1)
