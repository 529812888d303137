"""MuseGAN: a multi-track GAN writing 4-bar phrases of several tracks at once.

Dong, Hsiao, Yang & Yang, "MuseGAN: Multi-track Sequential Generative Adversarial
Networks for Symbolic Music Generation and Accompaniment", AAAI 2018 (arXiv:1709.06298);
code: github.com/salu133445/musegan (``v1/``: the AAAI code). The networks are in
:mod:`musebench.models.musegan_layers`; this file holds the noise inputs, the WGAN-GP
losses, the Lightning training step and generation.

Four noise inputs (Sec. "Proposed model"), each of ``z_dim`` values:

    - style ``z``: shared by the tracks, the same for every bar (time-independent);
    - groove ``z_i``: one per track, time-independent;
    - chords ``z_t``: shared, one per bar, from the temporal generator ``G_temp(z)``;
    - melody ``z_{i,t}``: one per track and bar, from per-track ``G_temp,i(z_i)``.

Track ``i``'s bar ``t`` is generated from the concatenation of the inputs its variant
uses: **jamming** (one generator per track, private inputs: groove, melody),
**composer** (one generator for all tracks, shared inputs: style, chords) and **hybrid**
(all four). The bar generator is shared-then-private for every variant (composer: the
private stacks are its multi-track output layers; jamming: its per-track generators share
their first layers).

Losses (WGAN-GP, Gulrajani et al. 2017, as the paper):

.. math::

    L_C = \\mathbb{E}[C(G(z))] - \\mathbb{E}[C(x)]
          + \\lambda\\, \\mathbb{E}_{\\hat x}[(\\lVert \\nabla_{\\hat x} C(\\hat x) \\rVert_2 - 1)^2]

    L_G = -\\mathbb{E}[C(G(z))]

with :math:`\\hat x = \\epsilon x + (1 - \\epsilon) G(z)`, :math:`\\epsilon \\sim U[0, 1]`
per example, :math:`\\lambda = 10`; the critic is updated ``n_critic`` = 5 times per
generator update, each time on a new batch. Adam with lr 2e-4, betas (0.5, 0.9): the AAAI
code's ``ModelConfig`` (``v1/config.py``: ``lr = 2e-4``, ``beta1 = 0.5``, ``beta2 = 0.9``,
``lamda = 10``); the authors' later code (``src/musegan/default_config.yaml``) uses lr 1e-3
with the same betas, as our standard preset does for its short run.
"""

from __future__ import annotations

import torch
from torch import nn

from musebench.datasets.codecs.multitrack import MultiTrackRollCodec
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator
from musebench.models.musegan_layers import (
    STEPS_PER_BAR,
    BarGenerator,
    Critic,
    TemporalGenerator,
)

#: Bars of a phrase: the temporal generators' output, a training window, a sample.
PHRASE_BARS = 4

#: The noise inputs of each variant (see the module docstring).
VARIANTS: dict[str, tuple[str, ...]] = {
    "jamming": ("groove", "melody"),
    "composer": ("style", "chords"),
    "hybrid": ("style", "groove", "chords", "melody"),
}


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's Wasserstein loss ``mean C(G(z)) - mean C(x)`` (float32)."""
    return fake_scores.float().mean() - real_scores.float().mean()


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss ``-mean C(G(z))``."""
    return -fake_scores.float().mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     epsilon: torch.Tensor) -> torch.Tensor:
    """``mean (||grad C(x_hat)||_2 - 1)^2`` at ``x_hat = eps x + (1 - eps) fake``, the norm
    over each example (Gulrajani et al. 2017); differentiable for the critic's update.

    Args:
        epsilon: ``(N,)`` mixing weights, one per example.
    """
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (epsilon.reshape(shape) * real + (1 - epsilon.reshape(shape)) * fake).detach()
    mixed.requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def phrase_statistics(rolls: torch.Tensor) -> torch.Tensor:
    """``(K, 3)`` per-track statistics of 0/1 phrases ``(N, K, bars, steps, pitches)``:
    the empty-bar rate (EB), the log note density ``log(share of cells on + 1e-4)`` and
    the continuation rate (share of sounding cells whose pitch still sounds one step
    later, over bar lines: 0 for notes of one step, near 1 for long notes, as QN)."""
    on = rolls.float()
    empty = 1 - on.amax(dim=(3, 4)).mean(dim=(0, 2))
    density = torch.log(on.mean(dim=(0, 2, 3, 4)) + 1e-4)
    flat = on.flatten(2, 3)                                    # (N, K, bars * steps, P)
    held = (flat[:, :, 1:] * flat[:, :, :-1]).sum((0, 2, 3))
    held = held / flat[:, :, :-1].sum((0, 2, 3)).clamp(min=1)
    return torch.stack([empty, density, held], dim=1)


class MuseGAN(MusicGenerator):
    """MuseGAN (Dong et al. 2018), WGAN-GP with Lightning manual optimisation.

    Args:
        variant: ``hybrid``, ``jamming`` or ``composer`` (the noise inputs used).
        z_dim: size of each noise input (AAAI code: 32 hybrid, 64 jamming / composer, so
            a bar's input is 128 values in every variant).
        temporal_hidden: maps of the temporal generators' hidden layer (1024 in the code).
        g_channels: maps of the bar generator's last shared layer (128; the first two
            have 4x and 2x, the private branches 1/4 and 1/8).
        d_channels: maps per track of the critic's private layers (shared: 4x).
        n_tracks: tracks of the roll (4: SATB).
        lowest: lowest MIDI pitch of the roll (36 = C2).
        octaves: octaves of the roll (4: C2..B5).
        lr: Adam learning rate of both networks; betas ``(beta1, beta2)``.
        beta1: Adam beta1 (0.5).
        beta2: Adam beta2 (0.9).
        gp_weight: gradient-penalty weight lambda (10).
        n_critic: critic updates per generator update (5).
        threshold: on generation a cell sounds when its probability exceeds this (the
            authors' "hard thresholding" at 0.5).
        initial_density: the untrained generator's note probability (its output bias
            starts at the logit of this). 0.5 is the authors' start (tanh at 0, their
            threshold), which writes half of all cells; the data's density (~0.02 on
            jsb16: four voices in 192 cells a step) spares a short run the climb down.
    """

    automatic_optimization = False

    def __init__(self, *, variant: str = "hybrid", z_dim: int = 32, temporal_hidden: int = 1024,
                 g_channels: int = 128, d_channels: int = 16, n_tracks: int = 4,
                 lowest: int = 36, octaves: int = 4, lr: float = 2e-4, beta1: float = 0.5,
                 beta2: float = 0.9, gp_weight: float = 10.0, n_critic: int = 5,
                 threshold: float = 0.5, initial_density: float = 0.5) -> None:
        super().__init__()

    def configure_codec(self) -> MultiTrackRollCodec:
        h = self.hparams
        return MultiTrackRollCodec(h.n_tracks, STEPS_PER_BAR, h.lowest, 12 * h.octaves)

    def configure_models(self) -> None:
        h = self.hparams
        if h.variant not in VARIANTS:
            raise ValueError(f"MuseGAN.variant = {h.variant!r}: expected one of "
                             f"{', '.join(VARIANTS)}")
        self.inputs = VARIANTS[h.variant]
        if "chords" in self.inputs:
            self.chords_net = TemporalGenerator(h.z_dim, h.temporal_hidden)
        if "melody" in self.inputs:
            self.melody_net = TemporalGenerator(h.z_dim, h.temporal_hidden, groups=h.n_tracks)
        self.generator_net = BarGenerator(h.n_tracks, len(self.inputs) * h.z_dim, h.g_channels,
                                          h.octaves, h.initial_density)
        self.critic_net = Critic(h.n_tracks, PHRASE_BARS, h.d_channels, h.octaves)

    def generator_parameters(self) -> list[nn.Parameter]:
        """The parameters of the temporal generators and the bar generator."""
        nets = [getattr(self, name) for name in ("chords_net", "melody_net", "generator_net")
                if hasattr(self, name)]
        return [p for net in nets for p in net.parameters()]

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        h = self.hparams
        betas = (h.beta1, h.beta2)
        return [torch.optim.Adam(self.critic_net.parameters(), h.lr, betas=betas),
                torch.optim.Adam(self.generator_parameters(), h.lr, betas=betas)]

    # ------------------------------------------------------------- generator
    def noise(self, n: int, rng: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The variant's noise inputs for ``n`` phrases: ``(n, z_dim)`` shared ones (style,
        chords), ``(n, n_tracks, z_dim)`` per-track ones (groove, melody)."""
        h = self.hparams
        device = rng.device if rng is not None else self.device
        shapes = {"style": (n, h.z_dim), "groove": (n, h.n_tracks, h.z_dim),
                  "chords": (n, h.z_dim), "melody": (n, h.n_tracks, h.z_dim)}
        return {name: torch.randn(shapes[name], generator=rng, device=device).to(self.device)
                for name in self.inputs}

    def bar_latents(self, noise: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(n, n_tracks, PHRASE_BARS, inputs * z_dim)``: each track's input for each bar."""
        h = self.hparams
        n = len(next(iter(noise.values())))
        shape = (n, h.n_tracks, PHRASE_BARS, h.z_dim)
        parts = {
            "style": lambda z: z[:, None, None, :].expand(shape),
            "groove": lambda z: z[:, :, None, :].expand(shape),
            "chords": lambda z: self.chords_net(z[:, None]).expand(shape),
            "melody": lambda z: self.melody_net(z),
        }
        return torch.cat([parts[name](noise[name]) for name in self.inputs], dim=-1)

    def forward(self, noise: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(n, n_tracks, PHRASE_BARS, 16, pitches)`` note probabilities."""
        latents = self.bar_latents(noise)
        n, k, bars, d = latents.shape
        out = self.generator_net(latents.transpose(1, 2).reshape(n * bars, k, d))
        return out.reshape(n, bars, k, *out.shape[2:]).transpose(1, 2)

    # -------------------------------------------------------------- training
    @staticmethod
    def rolls(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The batch's phrases as ``(N, tracks, bars, steps, pitches)`` floats.

        Raises:
            ValueError: windows of another length than :data:`PHRASE_BARS` bars.
        """
        bars = batch["bars"]
        if bars.shape[1] != PHRASE_BARS:
            raise ValueError(f"MuseGAN trains on {PHRASE_BARS}-bar phrases; got windows of "
                             f"{bars.shape[1]} bars (set data.window: {PHRASE_BARS})")
        return bars.transpose(1, 2).float()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_c, opt_g = self.optimizers()
        h = self.hparams
        real = self.rolls(batch)
        n = len(real)
        with torch.no_grad():
            fake = self(self.noise(n))
        scores = self.critic_net(torch.cat([real, fake]))    # one pass: the critic has no
        c_loss = critic_loss(scores[:n], scores[n:])          # batch norm, rows independent
        penalty = gradient_penalty(self.critic_net, real, fake,
                                   torch.rand(n, device=real.device))
        opt_c.zero_grad()
        self.manual_backward(c_loss + h.gp_weight * penalty)
        opt_c.step()
        logs = {"c_loss": c_loss.detach(), "gp": penalty.detach(),
                "wasserstein": -c_loss.detach()}
        if (batch_idx + 1) % h.n_critic == 0:
            g_loss = generator_loss(self.critic_net(self(self.noise(n))))
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
            logs["g_loss"] = g_loss.detach()
        self.log_dict(logs, prog_bar=True, batch_size=n)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """``val_loss`` (the checkpoint monitor): how far the phrases :meth:`generate` would
        write (thresholded) are from the validation phrases, by track, in empty bars,
        log note density and note continuation (:func:`phrase_statistics`): the sum of
        the absolute differences, averaged over tracks. A silent generator scores ~1 per
        statistic, a dense noisy one worse; the Wasserstein estimate moves with the
        critic and does not compare checkpoints."""
        real = self.rolls(batch)
        fake = self(self.noise(len(real), self.torch_rng(batch_idx, self.device)))
        fake = (fake > self.hparams.threshold).float()
        distance = (phrase_statistics(fake) - phrase_statistics(real)).abs().sum(1).mean()
        self.log("val_loss", distance, batch_size=len(real), sync_dist=True)

    # ------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, n: int, *, conditions: list[Piece] | None = None,
                 seed: int | None = None) -> list[Piece]:
        """``n`` unconditional 4-bar phrases, every track thresholded at ``threshold``.

        Conditions are ignored (MuseGAN generates from scratch); the first one only lends
        its ``track_names`` and ``melody_track``, so the samples' tracks carry the data's
        names (Soprano … Bass on jsb16)."""
        was_training = self.training
        self.eval()
        rolls = self(self.noise(n, self.torch_rng(seed, "cpu")))
        self.train(was_training)
        bars = (rolls > self.hparams.threshold).transpose(1, 2).float().cpu().numpy()
        names = {k: conditions[0].meta[k] for k in ("track_names", "melody_track")
                 if conditions and conditions[0].meta.get(k) is not None}
        return [self.codec.decode({"bars": bars[i]}, id=f"musegan-{i}", source="musegan",
                                  seed=seed, **names)
                for i in range(n)]

    def ceiling(self, pieces: list[Piece]) -> list[Piece]:
        """The representation ceiling of what :meth:`generate` returns: each piece's first
        4-bar phrase through the codec (the whole piece when shorter)."""
        out = []
        for piece in pieces:
            bars = self.codec.encode(piece)["bars"][:PHRASE_BARS]
            out.append(self.codec.decode({"bars": bars}, id=f"{piece.id}-ceiling",
                                         **{k: v for k, v in piece.meta.items() if k != "id"}))
        return out
