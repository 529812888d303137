"""Training faults: a NaN/inf loss stops the run with its step and loss named and keeps the
last good checkpoint; a killed run resumes from its last checkpoint."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from musebench.experiments.trainer import FiniteLossGuard


class Diverging(pl.LightningModule):
    """A one-weight regression whose loss turns NaN at ``bad_step``."""

    def __init__(self, bad_step: int | None = None) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.bad_step = bad_step

    def training_step(self, batch, batch_idx):
        loss = ((self.weight * batch[0] - 2.0) ** 2).mean()
        if self.global_step == self.bad_step:
            loss = loss * torch.tensor(float("nan"))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.ones(8, 1))
        return torch.utils.data.DataLoader(data, batch_size=2)


def trainer(tmp_path, max_epochs: int) -> pl.Trainer:
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_train_steps=1)
    return pl.Trainer(max_epochs=max_epochs, callbacks=[FiniteLossGuard(), checkpoint],
                      logger=False, enable_progress_bar=False, enable_model_summary=False,
                      accelerator="cpu", default_root_dir=tmp_path)


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(RuntimeError, match=r"diverged at global step 6 .*train_loss = nan"):
        trainer(tmp_path, max_epochs=3).fit(Diverging(bad_step=5))
    kept = torch.load(tmp_path / "last.ckpt", weights_only=False)
    assert kept["global_step"] == 5  # saved after the last finite step, never after the NaN
    assert torch.isfinite(kept["state_dict"]["weight"]).all()


def test_a_stopped_run_resumes_from_its_last_checkpoint(tmp_path):
    trainer(tmp_path, max_epochs=1).fit(Diverging())
    resumed = trainer(tmp_path, max_epochs=2)
    resumed.fit(Diverging(), ckpt_path=str(tmp_path / "last.ckpt"))
    assert resumed.global_step == 8  # 4 steps per epoch: 4 restored + 4 new
