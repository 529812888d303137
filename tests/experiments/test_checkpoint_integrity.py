"""Checkpoints are read weights-only with an allowlist and verified against a checksum:
a pickle payload in the best checkpoint never runs, a flipped byte is an error naming the
file, and a kill between the writes of a checkpoint and its checksum leaves a pair that
verifies."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.experiments import checkpoint_integrity
from musebench.experiments.checkpointing import AtomicCheckpointIO, UnreadableCheckpointError
from musebench.experiments.trainer import restore_best


class Payload:
    """Unpickling this creates ``marker``: the proof that a checkpoint ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


class Tiny(pl.LightningModule):
    def __init__(self, hidden: int = 3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(1, hidden)

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).pow(2).mean()
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 1)),
                                           batch_size=2)


def fake_trainer(best: Path) -> SimpleNamespace:
    return SimpleNamespace(is_global_zero=True,
                           checkpoint_callback=SimpleNamespace(best_model_path=str(best)))


def test_a_payload_in_the_best_checkpoint_does_not_run_on_restore(tmp_path: Path):
    marker = tmp_path / "pwned"
    best = tmp_path / "epoch=0-step=2.ckpt"
    best.write_bytes(pickle.dumps({"state_dict": Payload(marker)}))
    with pytest.raises(UnreadableCheckpointError, match="other than weights") as error:
        restore_best(Tiny(), fake_trainer(best))
    assert not marker.exists()
    assert str(best) in str(error.value)


def test_a_payload_in_last_ckpt_is_refused_on_resume(tmp_path: Path):
    marker = tmp_path / "pwned"
    last = tmp_path / "last.ckpt"
    checkpoint_integrity.write_checkpoint(last, pickle.dumps({"epoch": Payload(marker)}))
    with pytest.raises(UnreadableCheckpointError, match="other than weights"):
        AtomicCheckpointIO().load_checkpoint(last)
    assert not marker.exists()


def test_a_flipped_byte_is_an_error_naming_the_file(tmp_path: Path):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "weights": torch.arange(4096, dtype=torch.float32)}, path)
    data = bytearray(path.read_bytes())
    at = data.find(torch.arange(4096, dtype=torch.float32).numpy().tobytes()[400:408])
    assert at > 0
    data[at] ^= 0x01  # one bit of one float in the tensor data: still a valid zip
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableCheckpointError, match="does not match its checksum") as error:
        io.load_checkpoint(path)
    assert str(path) in str(error.value)


def test_a_kill_between_checkpoint_and_checksum_leaves_a_pair_that_verifies(
        tmp_path: Path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"epoch": 1}, path)
    real = checkpoint_integrity.write_atomically
    calls = []

    def killed_at_the_third_write(target: Path, data: bytes) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise KeyboardInterrupt  # after the checkpoint, before its final checksum
        real(target, data)

    monkeypatch.setattr(checkpoint_integrity, "write_atomically", killed_at_the_third_write)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"epoch": 2}, path)
    monkeypatch.undo()
    assert io.load_checkpoint(path)["epoch"] == 2
    assert checkpoint_integrity.checksum_path(path).read_text().count("\n") == 2


def test_removing_a_checkpoint_removes_its_checksum(tmp_path: Path):
    io = AtomicCheckpointIO()
    path = tmp_path / "epoch=0.ckpt"
    io.save_checkpoint({"epoch": 0}, path)
    io.remove_checkpoint(path)
    assert list(tmp_path.iterdir()) == []


def test_the_allowlist_reads_what_a_real_run_saves(tmp_path: Path):
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu",
                         default_root_dir=tmp_path, plugins=[AtomicCheckpointIO()],
                         callbacks=[pl.callbacks.ModelCheckpoint(dirpath=tmp_path,
                                                                 monitor="loss")])
    trainer.fit(Tiny(hidden=5))
    best = Path(trainer.checkpoint_callback.best_model_path)
    model = Tiny(hidden=5)
    restore_best(model, trainer)
    loaded = checkpoint_integrity.load_checkpoint(best)
    assert loaded["hyper_parameters"]["hidden"] == 5
    assert torch.equal(model.layer.weight, loaded["state_dict"]["layer.weight"])


def test_numpy_values_in_a_checkpoint_are_allowed(tmp_path: Path):
    path = tmp_path / "c.ckpt"
    state = {"score": np.float64(0.5), "rng": np.random.default_rng(0).integers(0, 9, 4)}
    AtomicCheckpointIO().save_checkpoint(state, path)
    loaded = AtomicCheckpointIO().load_checkpoint(path)
    assert loaded["score"] == 0.5 and loaded["rng"].tolist() == state["rng"].tolist()
