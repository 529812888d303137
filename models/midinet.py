"""MidiNet: a convolutional GAN that writes a melody bar by bar, conditioned on chords.

Yang, Chou & Yang, "MidiNet: A Convolutional Generative Adversarial Network for
Symbolic-domain Music Generation", ISMIR 2017 (arXiv:1703.10847). The networks are in
:mod:`musebench.models.midinet_layers`; this file holds the codec, the losses, the
Lightning training step and generation.

Losses (Sec. 3.3 of the paper, with the authors' code's ``tf.nn.l2_loss``, i.e.
``l2(v) = sum(v**2) / 2``):

.. math::

    L_D = \\mathrm{BCE}(D(x), 0.9) + \\mathrm{BCE}(D(G(z)), 0)

    L_G = \\mathrm{BCE}(D(G(z)), 1)
          + \\lambda_1\\, l2\\big(\\overline{x} - \\overline{G(z)}\\big)
          + \\lambda_2\\, l2\\big(\\overline{f(x)} - \\overline{f(G(z))}\\big)

where bars over a tensor mean its mean over the batch, ``f`` is the discriminator's first
layer, real labels are smoothed to 0.9 and BCE is the sigmoid cross-entropy on logits.
The names follow the paper (Sec. 3.3: λ1 weighs the mean bar, λ2 the first-layer
features); the values are the authors' code's (v1/model.py lines 104 and 108: 0.1 on the
features, 0.01 on the mean bar), so ``lambda1 = 0.01`` and ``lambda2 = 0.1``. The
generator is updated ``g_steps`` (2) times per discriminator update; Adam with beta1 0.5
at ``lr`` 5e-5, the authors' flag default (v1/main.py line 14; "[0.0002]" appears only in
that flag's help text). Every convolution and linear weight starts from N(0, 0.02) and
every bias at 0 (v1/ops.py lines 62-110), batch-norm scales at 1.

The paper's three variants are configs (experiments/configs/midinet.yaml):
model 1 ``use_chord=False`` (previous bar only), model 2 ``condition_layers=2`` (chord and
previous bar at the first layers only, "stable"), model 3 ``condition_layers=4`` (at
every layer, "creative").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from musebench.datasets.codecs import Arrays, BarRollCodec, bar_start_chords
from musebench.datasets.piece import QUALITIES, Piece
from musebench.models.base import MusicGenerator
from musebench.models.midinet_layers import NOISE_DIM, Discriminator, Generator, dcgan_init_

#: MidiNet's melody range: C4 (MIDI 60) to B5 (83), as in Sec. 4.1 of the paper.
LOWEST, HIGHEST = 60, 83


def fold_into_range(pitch: np.ndarray, lowest: int = LOWEST, highest: int = HIGHEST
                    ) -> np.ndarray:
    """Shift each pitch by whole octaves into ``[lowest, highest]`` (a range of >= 12)."""
    pitch = pitch.astype(np.int64)
    up = np.maximum(-(-(lowest - pitch) // 12), 0)
    down = np.maximum(-(-(pitch - highest) // 12), 0)
    return pitch + 12 * (up - down)


def on_bar_grid(piece: Piece, steps_per_bar: int) -> Piece | None:
    """``piece`` on a grid of ``steps_per_bar`` steps per 4/4 bar, or None where that is
    not exact: a 4/4 piece on a grid that divides it is stretched (an eighth-note grid,
    such as Nottingham's, x2: every note and chord keeps its length in beats); any other
    metre or a finer grid gives None."""
    if piece.beats_per_bar != 4 or steps_per_bar % piece.steps_per_bar:
        return None
    factor = steps_per_bar // piece.steps_per_bar
    if factor == 1:
        return piece
    notes, chords = piece.notes.copy(), piece.chords.copy()
    for events in (notes, chords):
        events["start"] *= factor
        events["duration"] *= factor
    return replace(piece, notes=notes, chords=chords,
                   steps_per_beat=piece.steps_per_beat * factor,
                   length=None if piece.length is None else piece.length * factor)


class MidiNetCodec(BarRollCodec):
    """:class:`BarRollCodec` with MidiNet's preprocessing: 4/4 pieces only, on a 16th grid
    (a coarser grid that divides it is stretched exactly, :func:`on_bar_grid`; other pieces
    encode to no bars), and the melody shifted by octaves into C4-B5 on the full
    128-pitch roll, so a generator that drifts to other octaves shows it. Transposition to
    all 12 keys is the datamodule's ``transpose="all"``. Decoded pieces are on the codec's
    own grid, 16ths of a 4/4 bar."""

    name = "midinet_bar_roll"

    def encode(self, piece: Piece) -> Arrays:
        piece = on_bar_grid(piece, self.steps_per_bar)
        if piece is None:
            empty = np.zeros((0, 1, self.steps_per_bar, 128), dtype=np.float32)
            return {"bar": empty, "previous": empty.copy(),
                    "chord": np.zeros((0, 13), dtype=np.float32)}
        melody = piece.melody()
        notes = melody.notes.copy()
        notes["pitch"] = fold_into_range(notes["pitch"])
        return super().encode(melody.with_notes(notes))


def chord_quality_shares(pieces: list[Piece], steps_per_bar: int = 16) -> dict[str, float]:
    """How the bars' chords of ``pieces`` enter MidiNet's 13-value chord vector.

    The vector is a one-hot root plus a minor flag, so a diminished, augmented or "other"
    chord reads as major. Over the bars :class:`MidiNetCodec` encodes (4/4 pieces; the
    chord sounding at each bar's first step), returns each quality's share, the share
    read as major although it is not (``"collapsed"``) and the number of such bars
    (``"bars"``, chords only; bars without a chord are zeros in the vector).
    """
    counts = np.zeros(len(QUALITIES), dtype=np.int64)
    for piece in pieces:
        if piece.beats_per_bar != 4 or piece.steps_per_bar != steps_per_bar:
            continue
        n_bars = -(-piece.melody().n_steps // steps_per_bar)
        _, chosen = bar_start_chords(piece, n_bars, steps_per_bar)
        counts += np.bincount(chosen["quality"], minlength=len(QUALITIES))
    total = int(counts.sum())
    shares = {q: float(counts[i] / total) if total else float("nan")
              for i, q in enumerate(QUALITIES)}
    collapsed = counts.sum() - counts[QUALITIES.index("maj")] - counts[QUALITIES.index("min")]
    shares["collapsed"] = float(collapsed / total) if total else float("nan")
    shares["bars"] = float(total)
    return shares


def sigmoid_bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean sigmoid cross-entropy of ``logits`` against a constant label (float32, also
    under autocast)."""
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def l2(v: torch.Tensor) -> torch.Tensor:
    """``sum(v**2) / 2`` (TensorFlow's ``tf.nn.l2_loss``, used by the authors' code),
    accumulated in float32."""
    return v.float().pow(2).sum() / 2


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       real_label: float = 0.9) -> torch.Tensor:
    """``BCE(D(x), real_label) + BCE(D(G(z)), 0)``."""
    return sigmoid_bce(real_logits, real_label) + sigmoid_bce(fake_logits, 0.0)


def generator_loss(fake_logits: torch.Tensor, real_features: torch.Tensor,
                   fake_features: torch.Tensor, real: torch.Tensor, fake: torch.Tensor,
                   lambda1: float, lambda2: float) -> torch.Tensor:
    """``BCE(D(G(z)), 1) + lambda1 * l2(mean x - mean G(z)) + lambda2 * l2(mean f(x) -
    mean f(G(z)))``, means over the batch (the paper's naming of the two weights)."""
    mean_bar = l2(real.mean(0) - fake.mean(0))
    feature_matching = l2(real_features.mean(0) - fake_features.mean(0))
    return sigmoid_bce(fake_logits, 1.0) + lambda1 * mean_bar + lambda2 * feature_matching


class MidiNet(MusicGenerator):
    """MidiNet (Yang, Chou & Yang 2017), trained with Lightning manual optimisation.

    Args:
        use_chord: condition on the bar's chord (False = the paper's model 1).
        condition_layers: generator layers receiving chord + previous bar (2 = model 2,
            4 = model 3).
        g_channels: maps per generator layer (128 in the paper).
        d_channels: maps of the discriminator's second convolution (64).
        cond_channels: maps of the previous-bar conditioner (16).
        lr: Adam learning rate (5e-5, the authors' flag default), beta1 = ``beta1``.
        lambda1: weight of the mean-bar match (the paper's λ1; 0.01 as in the code).
        lambda2: weight of first-layer feature matching (the paper's λ2; 0.1).
        real_label: smoothed label of real bars (0.9).
        g_steps: generator updates per discriminator update (2).
        bars: bars per generated sample (8).
        note_threshold: on generation, a step sounds its most probable pitch when that
            probability exceeds this; 0 writes a note at every step (the roll has no
            rests to learn from in most bars, and an under-trained generator's
            probabilities sit far below 0.5 because of the mean-bar term).
    """

    conditional = True
    view = "melody"  # one melody line (MidiNetCodec encodes Piece.melody())
    automatic_optimization = False

    def __init__(self, *, use_chord: bool = True, condition_layers: int = 4,
                 g_channels: int = 128, d_channels: int = 64, cond_channels: int = 16,
                 lr: float = 5e-5, beta1: float = 0.5, lambda1: float = 0.01,
                 lambda2: float = 0.1, real_label: float = 0.9, g_steps: int = 2,
                 bars: int = 8, note_threshold: float = 0.0) -> None:
        super().__init__()

    def configure_codec(self) -> MidiNetCodec:
        return MidiNetCodec()

    def ceiling(self, pieces: list[Piece]) -> list[Piece]:
        """The test pieces through the codec on its own grid (16ths of a 4/4 bar), as the
        samples are: a piece on a coarser grid is encoded stretched, so its round trip must
        not take the piece's grid back (the default's step)."""
        return [self.codec.decode(self.codec.encode(p), id=f"{p.id}-ceiling") for p in pieces]

    def configure_models(self) -> None:
        h = self.hparams
        self.generator_net = Generator(h.use_chord, h.condition_layers, h.g_channels,
                                       h.cond_channels)
        self.discriminator_net = Discriminator(h.use_chord, h.d_channels)
        self.generator_net.apply(dcgan_init_)
        self.discriminator_net.apply(dcgan_init_)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        betas = (self.hparams.beta1, 0.999)
        return [torch.optim.Adam(self.discriminator_net.parameters(), self.hparams.lr, betas=betas),
                torch.optim.Adam(self.generator_net.parameters(), self.hparams.lr, betas=betas)]

    @staticmethod
    def _bars(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """``(bar, previous, chord)`` flattened to one bar per row, whatever the window."""
        bar = batch["bar"].reshape(-1, 1, 16, 128).float()
        previous = batch["previous"].reshape(-1, 1, 16, 128).float()
        return bar, previous, batch["chord"].reshape(-1, 13).float()

    def _noise(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, NOISE_DIM, generator=rng, device=self.device if rng is None
                           else rng.device).to(self.device)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_d, opt_g = self.optimizers()
        h = self.hparams
        bar, previous, chord = self._bars(batch)
        z = self._noise(len(bar))

        fake = self.generator_net(z, chord, previous)
        real_logits, _ = self.discriminator_net(bar, chord)
        fake_logits, _ = self.discriminator_net(fake.detach(), chord)
        d_loss = discriminator_loss(real_logits, fake_logits, h.real_label)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

        for _ in range(h.g_steps):
            fake = self.generator_net(z, chord, previous)
            fake_logits, fake_features = self.discriminator_net(fake, chord)
            with torch.no_grad():
                _, real_features = self.discriminator_net(bar, chord)
            g_loss = generator_loss(fake_logits, real_features, fake_features, bar, fake,
                                    h.lambda1, h.lambda2)
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
        self.log_dict({"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}, prog_bar=True,
                      batch_size=len(bar))

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """``val_loss``: distance between the mean generated and mean real validation bar,
        ``l2(mean x - mean G(z)) / n_cells`` (lower = the generator's average bar is closer
        to the data's; the GAN losses themselves do not measure progress)."""
        bar, previous, chord = self._bars(batch)
        rng = self.torch_rng(batch_idx, self.device)
        fake = self.generator_net(self._noise(len(bar), rng), chord, previous)
        self.log("val_loss", l2(bar.mean(0) - fake.mean(0)) / bar[0].numel(),
                 batch_size=len(bar), sync_dist=True)

    @torch.no_grad()
    def generate(self, n: int, *, conditions: list[Piece] | None = None,
                 seed: int | None = None) -> list[Piece]:
        """``n`` melodies of ``bars`` bars, written bar by bar.

        Each sample follows one condition piece (cycled): bar ``i`` is conditioned on the
        condition's chord of bar ``i`` (bars past its end reuse its chords cyclically) and
        on the bar generated just before; the first bar's previous bar is the condition's
        first melody bar (the priming bar). Without conditions the chords are zeros and
        the priming bar is silent. Returned Pieces carry the conditioning chords.
        """
        was_training = self.training
        self.eval()
        bars_n = self.hparams.bars
        rng = self.torch_rng(seed, "cpu")
        chords = torch.zeros(n, bars_n, 13)
        previous = torch.zeros(n, 1, 16, 128)
        for i, piece in enumerate(self.cycle(conditions, n) or []):
            encoded = self.codec.encode(piece)
            if len(encoded["bar"]):
                chords[i] = torch.from_numpy(encoded["chord"][np.arange(bars_n)
                                                              % len(encoded["chord"])])
                previous[i] = torch.from_numpy(encoded["bar"][0])
        z = torch.randn(bars_n, n, NOISE_DIM, generator=rng)
        chords, previous = chords.to(self.device), previous.to(self.device)
        out = []
        for b in range(bars_n):
            previous = self.generator_net(z[b].to(self.device), chords[:, b], previous)
            previous = one_note_per_step(previous, self.hparams.note_threshold)
            out.append(previous)
        self.train(was_training)
        rolls = torch.stack(out, 1).cpu().numpy()  # (n, bars, 1, 16, 128)
        chords_np = chords.cpu().numpy()
        return [self.codec.decode({"bar": rolls[i], "chord": chords_np[i]}, id=f"midinet-{i}",
                                  source="midinet", seed=seed,
                                  condition=conditions[i % len(conditions)].id
                                  if conditions else None)
                for i in range(n)]


def one_note_per_step(bar: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Binarise a generated bar as MidiNet does: at each step the most probable pitch if
    its probability exceeds ``threshold``, else a rest. Fed back as the next previous bar."""
    best = bar.amax(-1, keepdim=True)
    return ((bar == best) & (best > threshold)).float()
