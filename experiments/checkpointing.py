"""Resumable runs: every checkpoint carries the RNG state, and is written atomically.

Lightning's checkpoints restore weights, optimisers, epoch and step, and the callbacks'
state, but not the random number generators. A resumed run would then draw other GAN noise,
other dropout masks and other DataLoader base seeds than the run it continues. And since
Lightning 2.6, ``ModelCheckpoint(save_last=True)`` rewrites ``last.ckpt`` only when the
monitored value improves, so ``last.ckpt`` is the best epoch, not the latest one. Three
pieces make ``musebench bench --resume`` continue a killed run exactly
(:func:`checkpoint_callbacks` lists the callbacks):

- a second ``ModelCheckpoint`` without a monitor writes ``last.ckpt`` at the end of every
  epoch, and only there (see below for why not after validations within an epoch);
- :class:`RngStateCheckpoint` stores the Python, NumPy, torch (and CUDA) generator states of
  every process in each checkpoint and puts them back on resume; under DDP,
  :class:`BroadcastBuffers` makes every rank's buffers (BatchNorm statistics) rank 0's
  before each validation and checkpoint, so the model state rank 0 writes is every rank's;
- :class:`AtomicCheckpointIO` writes each checkpoint to a temporary file in the same folder,
  fsyncs it and renames it over the old one, so a kill during the write leaves the previous
  ``last.ckpt`` intact, keeps a checksum beside it, and reads checkpoints weights-only
  (:mod:`musebench.experiments.checkpoint_integrity`); an unreadable, tampered or foreign
  checkpoint is an error that names the file.

Where the states are captured and restored (measured, see ``tests/experiments/test_resume_*.py``): the
states are captured when ``last.ckpt`` is written, in ``on_train_epoch_end`` (after that
epoch's validation). In an uninterrupted run nothing draws random numbers between that
moment and the creation of the next epoch's train DataLoader iterator, which draws its base
seed from the global torch RNG, and then the training steps. A resumed run creates that
iterator once, right after the (RNG-isolated) sanity check, and not again at its first
epoch. So the states are restored in ``on_fit_start``: after the checkpoint is read and
after the ``setup`` hooks (the per-rank seeding), before that iterator and the first
training step; both runs then draw the same numbers in the same order. (Restoring in
``on_train_epoch_start`` instead, after the iterator's draw, was measured to diverge.)

``last.ckpt`` is never written in the middle of an epoch (MidiNet's standard preset
validates every 100 batches): the position within the epoch's data is not saved (the
loaders are not stateful), so a resume from there would not repeat the interrupted run.
A kill loses at most the current epoch; the best checkpoint by ``monitor`` is still
chosen at every validation.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from lightning_fabric.utilities.types import _PATH
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.plugins.io import TorchCheckpointIO
from pytorch_lightning.utilities import rank_zero_warn

from musebench.experiments.checkpoint_integrity import (
    UnreadableCheckpointError,
    load_checkpoint,
    remove_checkpoint,
    write_checkpoint,
)

__all__ = ["AtomicCheckpointIO", "UnreadableCheckpointError", "checkpoint_callbacks"]

#: The checkpoint key of :class:`RngStateCheckpoint`: one :func:`capture_rng_state` per rank.
RNG_KEY = "musebench_rng_states"


def capture_rng_state() -> dict[str, Any]:
    """This process's Python, NumPy, torch and (when present) CUDA generator states.

    Stored as tensors and plain numbers only, so a checkpoint holding them still loads with
    ``torch.load(..., weights_only=True)``.
    """
    version, internal, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)  # noqa: NPY002 - the global state itself
    state: dict[str, Any] = {
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64),
                   "gauss": gauss},
        "numpy": {"key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
                  "pos": int(numpy_state["state"]["pos"]),
                  "has_gauss": int(numpy_state["has_gauss"]),
                  "gauss": float(numpy_state["gauss"])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back the generator states of :func:`capture_rng_state`.

    CUDA states are restored when this process sees as many GPUs as the one that saved them.
    """
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state({"bit_generator": "MT19937",  # noqa: NPY002 - the global state itself
                         "state": {"key": numpy["key"].numpy().astype(np.uint32),
                                   "pos": numpy["pos"]},
                         "has_gauss": numpy["has_gauss"], "gauss": numpy["gauss"]})
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def gather_from_ranks(value: Any) -> list[Any]:
    """``value`` of every process, in rank order (``[value]`` outside a distributed run).

    Must be called by every rank at the same point (as checkpoint saving is).
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [value]
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, value)
    return gathered


class RngStateCheckpoint(pl.Callback):
    """Saves every rank's RNG states in each checkpoint and restores its own on resume.

    Under DDP only rank 0 writes the checkpoint file, so the states of all ranks are
    gathered into it (a list indexed by global rank); on resume each rank takes its own.
    A run resumed with another number of processes cannot repeat the interrupted one's
    random streams anyway: it keeps the seeding it got at fit start and warns.

    Restoring happens in ``on_fit_start``, after the ``setup`` hooks that seed per rank.
    """

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] | None = None

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        checkpoint[RNG_KEY] = gather_from_ranks(capture_rng_state())

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get(RNG_KEY)
        if states is None:
            rank_zero_warn("the checkpoint holds no RNG states (written before they were "
                           "saved): the resumed run will draw other random numbers")
        self._pending = states

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        states, self._pending = self._pending, None
        if states is None:
            return
        if len(states) != trainer.world_size:
            rank_zero_warn(f"the checkpoint was written by {len(states)} processes, this run "
                           f"has {trainer.world_size}: RNG states are not restored, so the "
                           "resumed run will not repeat the interrupted one")
            return
        restore_rng_state(states[trainer.global_rank])


class BroadcastBuffers(pl.Callback):
    """Under DDP, copies rank 0's module buffers to every rank before each validation and
    at each epoch end.

    DDP keeps the parameters equal on every rank, but buffers such as BatchNorm's running
    statistics follow each rank's own batches: with manual optimisation DDP broadcasts them
    only at its first forward pass. The checkpoint holds rank 0's, so a resumed rank 1 would
    continue from other statistics than the interrupted one had, and validation (averaged
    over ranks) would mix differently normalised models. With this, every checkpoint and
    every validation sees one set of buffers. Nothing happens in a one-process run.
    """

    @staticmethod
    def broadcast(trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Overwrite every rank's buffers with rank 0's (a no-op with one process)."""
        if trainer.world_size < 2 or not torch.distributed.is_initialized():
            return
        for buffer in pl_module.buffers():
            torch.distributed.broadcast(buffer.data, src=0)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.broadcast(trainer, pl_module)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.broadcast(trainer, pl_module)


def checkpoint_callbacks(folder: Path, monitor: str, mode: str,
                         every_n_epochs: int = 1) -> list[pl.Callback]:
    """The checkpointing of a bench run, all in ``folder``.

    Args:
        folder: the run's ``checkpoints/`` folder.
        monitor: the model's validation metric (:attr:`MusicGenerator.monitor`).
        mode: ``"min"`` or ``"max"`` for ``monitor``.
        every_n_epochs: how often ``last.ckpt`` is rewritten (a run of very many short
            epochs checkpoints every few, :data:`~musebench.experiments.trainer.MAX_CHECKS`).

    Returns:
        The best checkpoint by ``monitor`` (first, so it is ``trainer.checkpoint_callback``),
        ``last.ckpt`` rewritten every ``every_n_epochs`` epoch ends for ``--resume``, the
        RNG states, and the DDP buffer broadcast.
    """
    return [
        ModelCheckpoint(dirpath=folder, monitor=monitor, mode=mode, save_top_k=1),
        ModelCheckpoint(dirpath=folder, filename=ModelCheckpoint.CHECKPOINT_NAME_LAST,
                        monitor=None, save_top_k=1, enable_version_counter=False,
                        save_on_train_epoch_end=True, every_n_epochs=every_n_epochs),
        RngStateCheckpoint(),
        BroadcastBuffers(),
    ]


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file in the checkpoint's folder, fsync, ``os.replace``,
    with a checksum file beside it.

    Readers (and a later ``--resume``) see the previous checkpoint or the new one, never a
    partly written file. Loading is weights-only with an allowlist and verifies the
    checksum; a file that cannot be read, does not match or holds anything but weights
    raises :class:`UnreadableCheckpointError` naming it.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH,
                        storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        write_checkpoint(Path(path), buffer.getvalue())

    def load_checkpoint(self, path: _PATH, map_location: Any | None = lambda storage, loc: storage,
                        weights_only: bool | None = None) -> dict[str, Any]:
        if weights_only is False:
            raise ValueError(f"{type(self).__name__} loads checkpoints weights-only")
        return load_checkpoint(Path(path), map_location=map_location)

    def remove_checkpoint(self, path: _PATH) -> None:
        remove_checkpoint(Path(path))
