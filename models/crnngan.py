"""C-RNN-GAN: a recurrent GAN over continuous note events, and its training recipe.

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training",
NIPS 2016 CML workshop (arXiv:1611.09904), Sec. 2-4, and the author's code
(olofmogren/c-rnn-gan). The networks and losses are in
:mod:`musebench.models.crnngan_layers`; the codec is
:class:`~musebench.datasets.codecs.note_events.NoteEventCodec`.

- Losses (Sec. 2): the discriminator's cross-entropy; the generator's feature matching on
  the discriminator's last LSTM layer (``feature_matching_form``: ``code``, Mogren's sum of
  squares over paired samples, line 426, or ``batch_mean``, Salimans et al.'s) or
  ``-log D(G(z))`` without it. Every loss adds the L2 penalty
  :math:`\\frac{\\lambda}{2}\\sum w^2` over its network's weights (``l2`` = 0.1:
  ``reg_constant`` times TF's ``l2_regularizer(scale=1)``, lines 371-372).
- Training (Sec. 4): plain SGD, the discriminator at half the generator's learning rate
  (``d_lr_factor``, lines 78 and 438); ``pretrain_epochs`` of MLE pre-training of the
  generator (squared error of teacher-forced next-event prediction) on sequences whose
  length grows by ``pretrain_growth`` events per epoch (line 780: ``min((epoch+1)*4,
  songlength)``), or, with ``pretrain_timesteps``, pre-training until the generator has
  trained on that many events of training data (the unit of the bench's budgets: on a
  data set whose epochs are long, 2 epochs could be a whole run's budget), then adversarial
  training with gradient norm clipping and the freezing
  rule: the discriminator is not updated while
  ``L_D < 0.7 * L_G^adv``, the generator not while ``L_G^adv < 0.7 * L_D`` (the rule
  compares the adversarial losses, which share a scale; feature matching does not).
- Best checkpoint: ``val_loss`` (the teacher-forced MLE loss) is logged as 1e30 during
  pre-training epochs, so the best checkpoint is never a generator that was
  only pre-trained (its MLE loss is naturally the lowest); ``val_mle`` is the plain value.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from musebench.datasets.codecs.note_events import NoteEventCodec
from musebench.datasets.datamodule import batch_timesteps
from musebench.datasets.piece import Piece
from musebench.models.base import MusicGenerator
from musebench.models.crnngan_layers import (
    EventDiscriminator,
    EventGenerator,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    l2_penalty,
    shift_right,
)

#: ``val_loss`` during pre-training: above any real MLE loss, and finite even when summed
#: over a validation epoch (the float32 maximum overflows to inf, which the trainer's
#: divergence guard would stop on).
PRETRAINING_VAL_LOSS = 1e30


class CRNNGAN(MusicGenerator):
    """C-RNN-GAN (Mogren 2016), trained with Lightning manual optimisation.

    Args:
        tones: tones per event (1; 3 = C-RNN-GAN-3).
        hidden: LSTM units per layer in both networks (350 in the paper).
        layers: LSTM layers (2).
        noise_scale: noise size as a multiple of the event features (1.0 in the code).
        optimizer: ``"adam"`` or ``"sgd"`` (the paper's plain gradient descent).
        lr: the generator's learning rate (0.1 in the paper preset, as the code's README).
        d_lr_factor: the discriminator's learning rate is ``lr * d_lr_factor`` (0.5).
        l2: L2 regularisation weight on every parameter of both networks (0.1).
        dropout: drop probability on the LSTM layers' outputs of both networks and at the
            discriminator's input (0.5 = the code's keep probability 0.5).
        pretrain_epochs: epochs of MLE pre-training of the generator (6 in the paper).
        pretrain_timesteps: when set, replaces ``pretrain_epochs``: pre-training lasts until
            the generator has trained on this many events (each batch's windows, all
            ranks together), wherever that falls in an epoch; an epoch that ends
            pre-training goes on adversarially. The sequence length still grows by epoch.
        pretrain_growth: during pre-training, train on the first
            ``min(pretrain_growth * (epoch + 1), window)`` events (4; 0 = whole windows).
        feature_matching: train the generator on feature matching (True) or on
            ``-log D(G(z))``.
        feature_matching_form: ``"code"`` (Mogren's sum of squares over paired samples) or
            ``"batch_mean"`` (Salimans et al.'s batch means).
        freeze_ratio: the freezing rule's 0.7.
        grad_clip: gradient norm limit (5.0).
        sample_events: events per generated sequence.
        feature_scaling: ``"unit"`` trains on the codec's features as they are (times in
            bars, pitch and velocity / 127: a semitone is 0.008, a 16th 0.0625);
            ``"standard"`` on each feature standardised by its training mean and standard
            deviation, so that pitch weighs in the losses as much as time (Mogren's
            code trains on raw units, ticks at 384 per quarter and pitch in Hz, where a
            semitone near A4 is 26 Hz and a 16th 96 ticks: no feature is negligible).
        feature_mean, feature_std: the training statistics of ``"standard"`` (set by
            :meth:`fit_statistics`, saved with the checkpoint).
        checkpoint: the generator that samples: ``"last"``, that of the last adversarial
            epoch, as in the code (it saves every few epochs and samples the latest; no
            validation selection), or ``"val_mle"``, the adversarial epoch of lowest
            teacher-forced validation MLE. MLE rises as adversarial training moves the
            generator away from pre-training, so ``"val_mle"`` picks the first adversarial
            epoch whatever the budget.
    """

    automatic_optimization = False
    #: Every note is an event (zero time gap within a chord), so samples are polyphonic
    #: and are scored against the full pieces.
    view = "full"

    def __init__(self, *, tones: int = 1, hidden: int = 350, layers: int = 2,
                 noise_scale: float = 1.0, optimizer: Literal["adam", "sgd"] = "sgd",
                 lr: float = 0.1, d_lr_factor: float = 0.5, l2: float = 0.1,
                 dropout: float = 0.5, pretrain_epochs: int = 6,
                 pretrain_timesteps: int | None = None, pretrain_growth: int = 4,
                 feature_matching: bool = True,
                 feature_matching_form: Literal["code", "batch_mean"] = "code",
                 freeze_ratio: float = 0.7, grad_clip: float = 5.0,
                 sample_events: int = 64,
                 feature_scaling: Literal["unit", "standard"] = "unit",
                 feature_mean: list[float] | None = None,
                 feature_std: list[float] | None = None,
                 checkpoint: Literal["last", "val_mle"] = "last") -> None:
        super().__init__()
        if checkpoint not in ("last", "val_mle"):
            raise ValueError(f"checkpoint = {checkpoint!r}; expected 'last' or 'val_mle'")
        if pretrain_timesteps is not None and pretrain_timesteps < 0:
            raise ValueError(f"pretrain_timesteps = {pretrain_timesteps}; expected >= 0")
        #: the schedule's progress, saved in checkpoints (:meth:`on_save_checkpoint`)
        self.schedule = {"pretrained_timesteps": 0, "adversarial_epochs": 0,
                         "last_adversarial_epoch": -1}
        # the bench keeps the best checkpoint by (monitor, mode)
        self.monitor, self.mode = ("val_adversarial_epochs", "max") if checkpoint == "last" \
            else ("val_loss", "min")
        if feature_scaling not in ("unit", "standard"):
            raise ValueError(f"feature_scaling = {feature_scaling!r}; expected 'unit' or "
                             "'standard'")

    def fit_statistics(self, train: list[Piece], valid: list[Piece] | None = None) -> None:
        """With ``feature_scaling: standard``, each event feature's mean and standard
        deviation over the training pieces' events (a constant feature keeps scale 1)."""
        if self.hparams.feature_scaling != "standard":
            return
        events = np.concatenate([self.codec.encode(p)["events"] for p in train]).astype(np.float64)
        std = events.std(axis=0)
        self.hparams.feature_mean = events.mean(axis=0).tolist()
        self.hparams.feature_std = np.where(std > 1e-8, std, 1.0).tolist()

    def _statistics(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        h = self.hparams
        if h.feature_scaling != "standard":
            return None
        if h.feature_mean is None:
            raise RuntimeError("feature_scaling 'standard' needs fit_statistics(train) first")
        return (torch.tensor(h.feature_mean, device=self.device),
                torch.tensor(h.feature_std, device=self.device))

    def to_model_space(self, events: torch.Tensor) -> torch.Tensor:
        """The codec's features in the space the networks learn (standardised or as is)."""
        stats = self._statistics()
        return events if stats is None else (events - stats[0]) / stats[1]

    def to_codec_space(self, events: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_model_space`."""
        stats = self._statistics()
        return events if stats is None else events * stats[1] + stats[0]

    def configure_codec(self) -> NoteEventCodec:
        return NoteEventCodec(tones=self.hparams.tones)

    def configure_models(self) -> None:
        h = self.hparams
        n = self.codec.n_features
        self.noise_dim = max(1, round(h.noise_scale * n))
        self.generator_net = EventGenerator(n, self.noise_dim, h.hidden, h.layers, h.dropout)
        self.discriminator_net = EventDiscriminator(n, h.hidden, h.layers, h.dropout)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        h = self.hparams
        make = torch.optim.Adam if h.optimizer == "adam" else torch.optim.SGD
        return [make(self.discriminator_net.parameters(), lr=h.lr * h.d_lr_factor),
                make(self.generator_net.parameters(), lr=h.lr)]

    def _uniform(self, *shape: int, rng: torch.Generator | None = None) -> torch.Tensor:
        return torch.rand(*shape, generator=rng,
                          device="cpu" if rng is not None else self.device).to(self.device)

    def _noise(self, batch: int, steps: int, rng: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``U(0, 1)`` noise ``(B, T, noise_dim)`` and first previous output ``(B, F)``."""
        return (self._uniform(batch, steps, self.noise_dim, rng=rng),
                self._uniform(batch, self.codec.n_features, rng=rng))

    def pretraining(self) -> bool:
        """Whether the next training batch is MLE pre-training."""
        h = self.hparams
        if h.pretrain_timesteps is not None:
            return self.schedule["pretrained_timesteps"] < h.pretrain_timesteps
        return self.current_epoch < h.pretrain_epochs

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["crnngan_schedule"] = dict(self.schedule)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.schedule.update(checkpoint.get("crnngan_schedule", {}))

    def pretrain_length(self, epoch: int, window: int) -> int:
        """Events per sequence in pre-training epoch ``epoch`` (the growing schedule)."""
        growth = self.hparams.pretrain_growth
        return window if growth <= 0 else min(growth * (epoch + 1), window)

    def mle_loss(self, events: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """Mean squared error of teacher-forced next-event prediction."""
        noise, first = self._noise(events.shape[0], events.shape[1], rng)
        predicted = self.generator_net.teacher_forced(noise, shift_right(events, first))
        return F.mse_loss(predicted.float(), events.float())

    def _step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One update through Lightning: the precision plugin scales the loss (16-mixed),
        DDP averages the gradients, :meth:`on_before_optimizer_step` clips them."""
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Clip the gradient norm to ``grad_clip``. Lightning calls this inside
        ``optimizer.step()`` after unscaling 16-mixed gradients, so the limit applies to
        the true gradients under every precision."""
        self.clip_gradients(optimizer, gradient_clip_val=self.hparams.grad_clip,
                            gradient_clip_algorithm="norm")

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_d, opt_g = self.optimizers()
        real = self.to_model_space(batch["events"].float())
        h = self.hparams
        if self.pretraining():
            self.schedule["pretrained_timesteps"] += (batch_timesteps(batch, self.codec)
                                                      * self.trainer.world_size)
            real = real[:, :self.pretrain_length(self.current_epoch, real.shape[1])]
            loss = self.mle_loss(real)
            self._step(opt_g, loss + l2_penalty(self.generator_net, h.l2))
            self.log("mle_loss", loss.detach(), prog_bar=True, batch_size=len(real))
            return
        if self.schedule["last_adversarial_epoch"] != self.current_epoch:
            self.schedule["last_adversarial_epoch"] = self.current_epoch
            self.schedule["adversarial_epochs"] += 1
        ratio = h.freeze_ratio
        fake = self.generator_net(*self._noise(real.shape[0], real.shape[1]))
        d_real, _ = self.discriminator_net(real)
        d_fake, _ = self.discriminator_net(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake)
        g_adv = generator_adversarial_loss(d_fake).detach()
        # the freezing rule decides on the losses averaged over DDP ranks (a no-op in one
        # process), so every rank makes the same updates and no backward waits alone
        d_mean, g_mean = (self.trainer.strategy.reduce(v.detach(), reduce_op="mean")
                          for v in (d_loss, g_adv))
        train_d = not bool(d_mean < ratio * g_mean)
        train_g = not bool(g_mean < ratio * d_mean)
        if train_d:
            self._step(opt_d, d_loss + l2_penalty(self.discriminator_net, h.l2))
        d_fake, fake_features = self.discriminator_net(fake)
        if h.feature_matching:
            with torch.no_grad():
                _, real_features = self.discriminator_net(real)
            g_loss = feature_matching_loss(real_features, fake_features,
                                           h.feature_matching_form)
        else:
            g_loss = generator_adversarial_loss(d_fake)
        if train_g:
            self._step(opt_g, g_loss + l2_penalty(self.generator_net, h.l2))
        self.log_dict({"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "g_adv": g_adv,
                       "d_trained": float(train_d), "g_trained": float(train_g)},
                      prog_bar=True, batch_size=len(real))

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """``val_mle``: the generator's teacher-forced MLE loss on validation windows;
        ``val_loss`` (the monitor of ``checkpoint: val_mle``) equals it after pre-training
        and is :data:`PRETRAINING_VAL_LOSS` before; ``val_adversarial_epochs`` (the monitor
        of ``checkpoint: last``, highest wins) counts the adversarial epochs done, 0 in
        pre-training. Either way a pre-trained-only generator is never the one kept."""
        real = self.to_model_space(batch["events"].float())
        rng = self.torch_rng(batch_idx, "cpu")
        mle = self.mle_loss(real, rng)
        adversarial = self.schedule["adversarial_epochs"]
        monitored = mle if adversarial else torch.full_like(mle, PRETRAINING_VAL_LOSS)
        self.log("val_mle", mle, batch_size=len(real), sync_dist=True)
        self.log("val_loss", monitored, batch_size=len(real), sync_dist=True)
        self.log("val_adversarial_epochs", float(adversarial), batch_size=len(real))

    @torch.no_grad()
    def generate(self, n: int, *, conditions: list[Piece] | None = None,
                 seed: int | None = None) -> list[Piece]:
        """``n`` unconditional sequences of ``sample_events`` events, decoded on the grid.

        The raw continuous events are kept in ``meta['events']``
        (:func:`~musebench.datasets.codecs.note_events.write_unquantised_midi` writes them
        as MIDI off the grid).
        """
        was_training = self.training
        self.eval()
        noise, first = self._noise(n, self.hparams.sample_events, self.torch_rng(seed, "cpu"))
        events = self.to_codec_space(self.generator_net(noise, first)).cpu().numpy().astype(
            np.float32)
        self.train(was_training)
        pieces = []
        for i in range(n):
            pieces.append(self.codec.decode({"events": events[i]}, id=f"crnngan-{i}",
                                            source="crnngan", seed=seed, events=events[i]))
        return pieces
