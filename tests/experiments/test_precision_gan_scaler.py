"""The GANs' manual optimisation goes through Lightning's loss-scaling path (what 16-mixed
uses on a GPU): every step is ``manual_backward`` + ``LightningOptimizer.step``, so the
GradScaler scales the losses and unscales the gradients, and C-RNN-GAN clips the unscaled
gradients. Checked on CPU with Lightning's 16-mixed plugin under bfloat16 autocast
(oneDNN has no CPU float16 LSTM); the scaler path is the same."""

from __future__ import annotations

import math

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import MixedPrecision

from musebench.experiments.bench import build_datamodule
from musebench.experiments.config import load_config
from musebench.models import get_model


class ScaledCpuAutocast(MixedPrecision):
    """Lightning's ``16-mixed`` plugin (GradScaler) with CPU bfloat16 autocast."""

    def autocast_context_manager(self) -> torch.autocast:
        return torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False)


class GeneratorGradients(pl.Callback):
    """After each batch: the generator's gradient norm (as the last step left it) and losses."""

    def __init__(self) -> None:
        self.norms: list[float] = []
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        grads = [p.grad.norm() for p in pl_module.generator_net.parameters()
                 if p.grad is not None]
        if grads:  # None where the generator's last zero_grad was not followed by a step
            self.norms.append(float(torch.stack(grads).norm()))
        self.losses += [float(v) for k, v in trainer.callback_metrics.items() if "loss" in k]


def train_with_scaler(name: str, overrides: list[str]) -> tuple[GeneratorGradients, float]:
    config = load_config(name, "smoke", overrides)
    pl.seed_everything(0, verbose=False)
    model = get_model(name)(**config["model"])
    record = GeneratorGradients()
    plugin = ScaledCpuAutocast("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))
    trainer = pl.Trainer(accelerator="cpu", max_epochs=config["trainer"]["max_epochs"],
                         plugins=[plugin], callbacks=[record], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model, datamodule=build_datamodule(config, model, 0, None))
    return record, plugin.scaler.get_scale()


@pytest.mark.slow  # two short GAN trainings, ~6 s
def test_gan_steps_are_loss_scaled_and_crnngan_clips_unscaled_gradients():
    record, scale = train_with_scaler("crnngan", ["model.pretrain_epochs=1",
                                                  "trainer.max_epochs=2"])
    clip = load_config("crnngan", "smoke")["model"]["grad_clip"]
    assert scale > 1 and record.norms and all(math.isfinite(v) for v in record.losses)
    # clipping the scaled gradients would leave norms <= clip / scale (~1e-4) after unscaling
    assert all(clip / 100 < norm <= clip * 1.001 for norm in record.norms), record.norms

    record, scale = train_with_scaler("midinet", ["trainer.max_epochs=1"])
    assert scale > 1 and all(math.isfinite(v) for v in record.losses)
    assert record.norms and all(norm > 0 for norm in record.norms)
