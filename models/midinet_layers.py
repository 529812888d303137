"""MidiNet's three networks: the previous-bar conditioner, the generator, the discriminator.

Yang, Chou & Yang, "MidiNet: A Convolutional Generative Adversarial Network for
Symbolic-domain Music Generation", ISMIR 2017 (arXiv:1703.10847), Fig. 1 and Sec. 4,
with the layer sizes of the authors' TensorFlow code (RichardYang40148/MidiNet):

- conditioner: previous bar ``(1, 16, 128)`` -> conv ``(1 x 128)`` -> 16 maps of
  ``16 x 1``, then three ``(2 x 1)`` stride-2 convolutions -> ``8``, ``4``, ``2`` steps;
  batch norm + leaky ReLU after each;
- generator: ``[z (100), chord (13)]`` -> FC 1024 -> FC 256 -> reshape ``(128, 2, 1)``
  -> three ``(2 x 1)`` stride-2 transposed convolutions (time 2 -> 4 -> 8 -> 16) -> a
  ``(1 x 128)`` transposed convolution over pitch -> ``(1, 16, 128)``, sigmoid; before
  each transposed convolution the chord is broadcast as 13 extra channels and the
  conditioner's map of the same time resolution is concatenated;
- discriminator: ``[bar, chord]`` -> conv ``(2 x 128)`` stride 2 (its output is the
  feature map kept for feature matching) -> conv ``(4 x 1)`` stride 2 -> FC 1024 -> 1 logit.

Speed: the full-pitch-width maps (the conditioner's and discriminator's ``(k x 128)``
convolutions, the generator's ``(1 x 128)`` transposed convolution) have non-overlapping
windows, so each is exactly one reshape + matmul; on CPU that runs about 2x faster than
PyTorch's generic convolution kernels. Their weights keep ``nn.Conv2d`` /
``nn.ConvTranspose2d`` shapes, and ``tests/models/test_midinet_layers.py`` pins that the outputs
equal ``F.conv2d`` / ``F.conv_transpose2d``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

PITCHES = 128
STEPS = 16
CHORD_DIM = 13
NOISE_DIM = 100


def dcgan_init_(module: nn.Module) -> None:
    """The authors' initialisation, for ``Module.apply``: weights of convolutions,
    transposed convolutions and linear layers from N(0, 0.02), biases 0 (v1/ops.py: the
    code's ``conv2d`` draws a truncated normal, ``deconv2d`` and ``linear`` a normal, all
    with stddev 0.02); batch-norm scale 1 and offset 0."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, FullPitchConv,
                           FullPitchDeconv)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class FullPitchConv(nn.Module):
    """``nn.Conv2d(in, out, (k, P), stride=(k, 1))`` over ``(B, in, T, P)`` as one matmul.

    The kernel spans the whole pitch axis and the time windows do not overlap, so the
    output ``(B, out, T // k, 1)`` is ``x`` reshaped to ``(B, T // k, in * k * P)`` times the
    flattened weight.
    """

    def __init__(self, in_channels: int, out_channels: int, k_time: int, pitches: int = PITCHES):
        super().__init__()
        self.k_time = k_time
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, k_time, pitches))
        self.bias = nn.Parameter(torch.empty(out_channels))
        bound = 1 / math.sqrt(in_channels * k_time * pitches)  # nn.Conv2d's default init
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, p = x.shape
        windows = x.reshape(b, c, t // self.k_time, self.k_time, p).permute(0, 2, 1, 3, 4)
        out = windows.reshape(b, t // self.k_time, -1) @ self.weight.flatten(1).T + self.bias
        return out.permute(0, 2, 1).unsqueeze(-1)


class FullPitchDeconv(nn.Module):
    """``nn.ConvTranspose2d(in, out, (1, P))`` from ``(B, in, T, 1)`` to ``(B, out, T, P)``
    as one matmul: each step's ``in`` values times the ``(in, out * P)`` weight."""

    def __init__(self, in_channels: int, out_channels: int, pitches: int = PITCHES):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels, 1, pitches))
        self.bias = nn.Parameter(torch.empty(out_channels))
        bound = 1 / math.sqrt(out_channels * pitches)  # nn.ConvTranspose2d's default init
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, _ = x.shape
        out_channels, pitches = self.weight.shape[1], self.weight.shape[3]
        out = x.squeeze(-1).transpose(1, 2) @ self.weight.reshape(c, -1)  # (B, T, out * P)
        out = out.reshape(b, t, out_channels, pitches).permute(0, 2, 1, 3)
        return out + self.bias.view(1, -1, 1, 1)


def broadcast_chord(chord: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The ``(B, 13)`` chord as constant channels of ``like``'s ``(T, W)`` size."""
    return chord[:, :, None, None].expand(-1, -1, like.shape[2], like.shape[3])


class Conditioner(nn.Module):
    """The previous-bar CNN; returns its maps at 16, 8, 4 and 2 steps (16 channels each)."""

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        self.first = nn.Sequential(FullPitchConv(1, channels, 1), nn.BatchNorm2d(channels),
                                   nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, channels, (2, 1), stride=(2, 1)),
                          nn.BatchNorm2d(channels), nn.LeakyReLU(0.2))
            for _ in range(3)
        )

    def forward(self, previous: torch.Tensor) -> list[torch.Tensor]:
        maps = [self.first(previous)]
        for layer in self.down:
            maps.append(layer(maps[-1]))
        return maps  # (B, 16, 16, 1), (B, 16, 8, 1), (B, 16, 4, 1), (B, 16, 2, 1)


class Generator(nn.Module):
    """MidiNet's generator.

    Args:
        use_chord: condition on the 13-d chord (1D condition); model 1 does not.
        condition_layers: how many of the four transposed convolutions (counted from the
            first) receive the chord channels and the conditioner's map: 4 is the paper's
            model 3 ("creative"), fewer is model 2 ("stable"), 0 drops the previous bar.
        channels: maps per transposed-convolution layer (the paper's 128 = pitch range).
        cond_channels: channels of the conditioner's maps (16 in the paper).
    """

    def __init__(self, use_chord: bool = True, condition_layers: int = 4, channels: int = 128,
                 cond_channels: int = 16, noise_dim: int = NOISE_DIM) -> None:
        super().__init__()
        self.use_chord = use_chord
        self.condition_layers = condition_layers
        self.channels = channels
        y = CHORD_DIM if use_chord else 0
        self.fc = nn.Sequential(nn.Linear(noise_dim + y, 1024), nn.BatchNorm1d(1024), nn.ReLU(),)
        self.fc2 = nn.Sequential(nn.Linear(1024 + y, channels * 2), nn.BatchNorm1d(channels * 2),
                                 nn.ReLU())
        self.conditioner = Conditioner(cond_channels) if condition_layers > 0 else None
        extra = [(y + cond_channels) if i < condition_layers else 0 for i in range(4)]
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(channels + extra[i], channels, (2, 1), stride=(2, 1)),
                          nn.BatchNorm2d(channels), nn.ReLU())
            for i in range(3)
        )
        self.out = FullPitchDeconv(channels + extra[3], 1)

    def forward(self, z: torch.Tensor, chord: torch.Tensor, previous: torch.Tensor
                ) -> torch.Tensor:
        """``(B, 1, 16, 128)`` note probabilities from noise, chord and previous bar."""
        h = torch.cat([z, chord], 1) if self.use_chord else z
        h = self.fc(h)
        h = self.fc2(torch.cat([h, chord], 1) if self.use_chord else h)
        h = h.view(-1, self.channels, 2, 1)
        # conditioner maps from coarse (2 steps) to fine (16 steps), one per layer below
        maps = self.conditioner(previous)[::-1] if self.conditioner is not None else []
        for i, layer in enumerate([*self.up, self.out]):
            if i < self.condition_layers:
                parts = [h, broadcast_chord(chord, h)] if self.use_chord else [h]
                h = torch.cat([*parts, maps[i]], 1)
            h = layer(h)
        return torch.sigmoid(h.float())  # float32 probabilities, also under autocast


class Discriminator(nn.Module):
    """MidiNet's discriminator; returns ``(logit (B,), first-layer features)``.

    Args:
        use_chord: the chord joins the input and the hidden layers as extra channels.
        channels: maps of the second convolution (64 in the authors' code).
    """

    def __init__(self, use_chord: bool = True, channels: int = 64) -> None:
        super().__init__()
        self.use_chord = use_chord
        y = CHORD_DIM if use_chord else 0
        first = 1 + y
        self.conv0 = FullPitchConv(1 + y, first, 2)  # (B, 14, 8, 1)
        self.conv1 = nn.Conv2d(first + y, channels + y, (4, 1), stride=(2, 1))  # (B, 77, 3, 1)
        self.bn1 = nn.BatchNorm2d(channels + y)
        self.fc = nn.Linear((channels + y) * 3 + y, 1024)
        self.bn2 = nn.BatchNorm1d(1024)
        self.logit = nn.Linear(1024 + y, 1)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, bar: torch.Tensor, chord: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([bar, broadcast_chord(chord, bar)], 1) if self.use_chord else bar
        features = self.act(self.conv0(x))
        h = torch.cat([features, broadcast_chord(chord, features)], 1) if self.use_chord \
            else features
        h = self.act(self.bn1(self.conv1(h))).flatten(1)
        h = torch.cat([h, chord], 1) if self.use_chord else h
        h = self.act(self.bn2(self.fc(h)))
        h = torch.cat([h, chord], 1) if self.use_chord else h
        return self.logit(h).squeeze(1), features
