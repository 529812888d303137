"""The Trainer of a bench run: devices, strategy, precision, checkpoints and guards.

Everything a run needs from Lightning is set up here, once, for every model: the
``trainer`` section of the model's config, then the command line's ``devices``,
``strategy``, ``num_nodes`` and ``precision`` on top; the epochs of a standard preset's
time-step budget (:func:`training_schedule`); a checkpoint of the best and the last epoch
(by the model's ``monitor``); optional early stopping; and a guard that stops at the
first NaN/inf loss. The bench loop (:mod:`musebench.experiments.bench`) never
builds a Trainer itself.

What several processes (DDP) need is also decided here, never per model name:

- a model whose backward passes skip some parameters (GANs: each manual backward
  reaches one network) gets DDP's unused-parameter detection, from the contract's
  :attr:`~musebench.models.base.MusicGenerator.ddp_find_unused_parameters`;
- :class:`RankSeed` gives each rank its own training noise (``seed + global_rank``);
- :class:`ThreadsPerProcess` shares the CPU cores between the processes of a node, and
  a one-process CPU run measures the thread count it trains fastest at
  (:class:`~musebench.experiments.thread_choice.ThreadChoice`);
- :class:`ReplicaGuard` checks that training ended with the same weights on every rank;
- ``16-mixed`` on CPU is refused with a clear message (Lightning would silently run
  bf16 instead, and the row would record the wrong precision).
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping

from musebench.experiments.checkpoint_integrity import load_checkpoint
from musebench.experiments.checkpointing import AtomicCheckpointIO, checkpoint_callbacks
from musebench.experiments.thread_choice import ThreadChoice
from musebench.models.base import MusicGenerator
from musebench.util import usable_cores

#: Lightning's process-launching DDP strategies, each with a ``_find_unused_parameters_true``
#: variant in its strategy registry.
DDP_STRATEGIES: tuple[str, ...] = ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook")


class FiniteLossGuard(pl.Callback):
    """Stops training with a clear message at the first NaN/inf training loss.

    Raising before the checkpoint callbacks of that step run leaves the last good
    checkpoint (``checkpoints/last.ckpt``) as it was. Under DDP the ranks decide together
    (one boolean all-reduce per batch): a rank that stopped alone would leave the others
    waiting in their next gradient all-reduce.
    """

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        losses = {k: v for k, v in trainer.callback_metrics.items() if "loss" in k}
        if isinstance(outputs, dict) and "loss" in outputs:
            losses["loss"] = outputs["loss"]
        elif isinstance(outputs, torch.Tensor):
            losses["loss"] = outputs
        bad = {name: torch.as_tensor(value).detach().float() for name, value in losses.items()}
        bad = {name: value for name, value in bad.items() if not torch.isfinite(value).all()}
        if trainer.strategy.reduce_boolean_decision(not bad, all=True):
            return
        where = (", ".join(f"{name} = {value.item()}" for name, value in bad.items())
                 or "a non-finite loss on another rank")
        raise RuntimeError(
            f"training diverged at global step {trainer.global_step} (epoch "
            f"{trainer.current_epoch}, batch {batch_idx}): {where}; "
            "the last good checkpoint is kept in checkpoints/")


class RankSeed(pl.Callback):
    """Reseeds Python, NumPy and torch with ``seed + global_rank`` as fitting is set up.

    ``pl.seed_everything(seed)`` gives every DDP rank the same random stream, so every
    rank would draw the same noise, dropout masks and GAN latents. The seed is Lightning's
    ``PL_GLOBAL_SEED`` (set by ``seed_everything``); without it nothing is reseeded. Rank 0
    gets ``seed`` itself, so a one-process run and rank 0 of a DDP run draw the same
    stream. Weights stay identical across ranks (each builds them before this and DDP
    broadcasts rank 0's). It runs in ``setup``, before a resumed run restores its saved
    RNG state, and leaves ``PL_GLOBAL_SEED`` alone: the distributed sampler must shuffle
    identically on every rank.
    """

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit" or "PL_GLOBAL_SEED" not in os.environ:
            return
        seed = int(os.environ["PL_GLOBAL_SEED"]) + trainer.global_rank
        random.seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002 - the global state seed_everything seeds
        torch.manual_seed(seed)


def threads_per_process(cores: int, processes: int, current: int) -> int:
    """Intra-op threads for one of ``processes`` sharing ``cores``: ``max(1, cores //
    processes)``, never more than ``current`` (an ``OMP_NUM_THREADS`` the user set wins)."""
    return max(1, min(current, cores // max(1, processes)))


class ThreadsPerProcess(pl.Callback):
    """Gives each of the node's training processes its share of the CPU cores.

    Every process starts with as many torch threads as the machine has cores, so N DDP
    processes on C cores would run N x C threads and thrash; each gets ``max(1, C // N)``
    (:func:`threads_per_process`). With one process this changes nothing. How the threads
    wait for each other (passive, so a busy machine does not collapse training) is set when
    musebench is imported (:func:`musebench.openmp_wait_policy`), before torch starts
    OpenMP: it cannot be changed here, after.
    """

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        torch.set_num_threads(threads_per_process(usable_cores(), trainer.num_devices,
                                                  torch.get_num_threads()))


def parameter_checksums(module: torch.nn.Module) -> torch.Tensor:
    """``(P, 2)`` float64: the sum and the sum of squares of each of ``module``'s parameters."""
    return torch.stack([torch.stack([p.detach().double().sum(), p.detach().double().square().sum()])
                        for p in module.parameters()])


def diverged_parameters(gathered: torch.Tensor, names: list[str]) -> list[str]:
    """Names of the parameters whose checksums differ from rank 0's on some rank.

    Args:
        gathered: ``(ranks, P, 2)`` :func:`parameter_checksums` of every rank.
        names: the ``P`` parameter names, in order.
    """
    differs = (gathered != gathered[:1]).flatten(2).any(-1).any(0)
    return [name for name, bad in zip(names, differs.tolist(), strict=True) if bad]


class ReplicaGuard(pl.Callback):
    """Under DDP, checks when training ends that every rank holds the same parameters.

    DDP averages the gradients of every backward pass, so the replicas stay bit-identical;
    a backward that skips gradient synchronisation (a manual-optimisation step outside
    Lightning, a rank that made another update than the others) shows up here as an error
    naming the parameters, instead of a silently wrong model. One all-gather of two numbers
    per parameter; nothing in a one-process run.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.world_size < 2:
            return
        gathered = trainer.strategy.all_gather(parameter_checksums(pl_module))
        names = [name for name, _ in pl_module.named_parameters()]
        diverged = diverged_parameters(gathered.reshape(-1, len(names), 2), names)
        if diverged:
            raise RuntimeError(f"DDP replicas diverged: {len(diverged)} parameter(s) differ "
                               f"between ranks, e.g. {', '.join(diverged[:5])}")


def resolve_strategy(strategy: Any, model: MusicGenerator, devices: Any = None,
                     num_nodes: int | None = None) -> Any:
    """``strategy`` with DDP's unused-parameter detection switched on where ``model``
    declares it needs it.

    ``"ddp"`` (or another launching DDP strategy) becomes its
    ``_find_unused_parameters_true`` variant; so does ``"auto"`` over several ``devices``
    (a count or a list) or nodes, which Lightning would turn into plain DDP. Anything else
    (one device, a Strategy object, an explicit variant) is returned unchanged.
    """
    if not model.ddp_find_unused_parameters:
        return strategy
    if strategy in DDP_STRATEGIES:
        return f"{strategy}_find_unused_parameters_true"
    several = (isinstance(devices, int) and devices > 1) or (
        isinstance(devices, list | tuple) and len(devices) > 1) or (num_nodes or 1) > 1
    if strategy in (None, "auto") and several:
        return "ddp_find_unused_parameters_true"
    return strategy


def check_precision(precision: Any, accelerator: Any) -> None:
    """Refuse float16 autocast on CPU, naming the flag and the alternative.

    Raises:
        ValueError: ``precision`` is ``16-mixed`` and the run would be on CPU.
    """
    on_cpu = accelerator == "cpu" or (accelerator in (None, "auto")
                                      and not torch.cuda.is_available())
    if str(precision) in ("16-mixed", "16") and on_cpu:
        raise ValueError(
            f"--precision {precision} needs a CUDA GPU (float16 autocast with loss scaling) "
            f"but this run is on CPU (trainer.accelerator={accelerator}); use --precision "
            "bf16-mixed on CPU, or --set trainer.accelerator=gpu on a GPU machine")


def build_trainer(config: dict[str, Any], model: MusicGenerator, folder: Path,
                  logger: Any, devices: int | None = None, precision: str | None = None,
                  strategy: str | None = None, num_nodes: int | None = None,
                  max_epochs: int | None = None, epoch_share: float = 1.0,
                  choose_threads: bool = True) -> pl.Trainer:
    """A Trainer from ``config["trainer"]`` and the command line's settings, with
    checkpointing, early stopping, the NaN guard and the per-process set-up and check of DDP.
    ``max_epochs`` and ``epoch_share`` (the run's :func:`training_schedule`) replace the
    config's epochs where given and limit each epoch to that share of its batches; a run of
    more than :data:`MAX_CHECKS` epochs validates and checkpoints every
    :func:`check_every` epochs. ``choose_threads``: a CPU run measures the torch thread
    count it trains fastest at (:class:`~musebench.experiments.thread_choice.ThreadChoice`);
    a caller that pins the count itself (the regression gate) turns that off.

    Raises:
        ValueError: ``16-mixed`` on CPU (:func:`check_precision`).
    """
    every = check_every(max_epochs if max_epochs is not None
                        else config["trainer"].get("max_epochs"), config["trainer"])
    callbacks: list[pl.Callback] = [
        RankSeed(),
        ThreadsPerProcess(),
        FiniteLossGuard(),
        ReplicaGuard(),
        *checkpoint_callbacks(folder / "checkpoints", model.monitor, model.mode, every),
    ]
    if choose_threads:
        callbacks.append(ThreadChoice())
    if config.get("early_stopping"):
        callbacks.append(EarlyStopping(monitor=model.monitor, mode=model.mode,
                                       **config["early_stopping"]))
    kwargs = dict(config["trainer"])
    if max_epochs is not None:
        kwargs["max_epochs"] = max_epochs
    if epoch_share < 1.0:
        kwargs["limit_train_batches"] = epoch_share
    if every > 1:
        kwargs["check_val_every_n_epoch"] = every
    if devices is not None:
        kwargs["devices"] = devices
    if precision is not None:
        kwargs["precision"] = precision
    if strategy is not None:
        kwargs["strategy"] = strategy
    if num_nodes is not None:
        kwargs["num_nodes"] = num_nodes
    kwargs["strategy"] = resolve_strategy(kwargs.get("strategy", "auto"), model,
                                          kwargs.get("devices"), kwargs.get("num_nodes"))
    check_precision(kwargs.get("precision", "32-true"), kwargs.get("accelerator", "auto"))
    # Lightning's bar on a terminal only: in a log file or a pipe it is a line of carriage
    # returns per step (a config's own setting wins)
    kwargs.setdefault("enable_progress_bar", sys.stderr.isatty())
    return pl.Trainer(default_root_dir=folder, logger=logger or False, callbacks=callbacks,
                      plugins=[AtomicCheckpointIO()],
                      **kwargs)


#: Validations (and ``last.ckpt`` writes) a run makes at most: a budget on a small data set
#: is hundreds of epochs of a few batches (the LSTM with attention: 1,019 of the Bach
#: melodies), whose per-epoch validation and checkpoint would cost more than the training.
MAX_CHECKS = 200


def check_every(epochs: int | None, trainer_config: dict[str, Any]) -> int:
    """Validate and write ``last.ckpt`` every this many epochs: ``ceil(epochs /
    MAX_CHECKS)``, so at most :data:`MAX_CHECKS` times a run; 1 where the config sets its
    own validation interval."""
    if not epochs or epochs <= MAX_CHECKS or {"val_check_interval", "check_val_every_n_epoch"
                                              } & set(trainer_config):
        return 1
    return math.ceil(epochs / MAX_CHECKS)


def training_schedule(config: dict[str, Any], timesteps_per_epoch: Callable[[], int],
                      batches_per_epoch: Callable[[], int] | None = None,
                      ) -> tuple[int | None, float]:
    """``(epochs, share of each epoch's batches)`` a run trains: ``(trainer.max_epochs,
    1.0)`` where the config sets it, else its ``train_timesteps`` budget ``B`` on this data
    set's ``P = timesteps_per_epoch()``: ``E = ceil(B / P)`` epochs of a share
    ``B / (E P)`` of their batches each, so ``B`` time steps in all (a random share, the
    sampler's order being new every epoch).

    A standard preset states its budget as time steps of training data (along its codec's
    time axis: frames, note events, tokens or bars, summed over the training examples of
    an epoch), so a run sees as much music on a small data set as on a large one, and a
    model that trains on whole pieces is not charged by the piece for long pieces (an
    epoch count sized on one data set is seconds on one and hours on another). Each
    budget is a whole number of epochs of its model's own data set (share 1 there). Both
    are counts, so a row does not depend on the machine's load. Where
    ``batches_per_epoch()`` is given, the share is set so that an epoch trains the nearest
    whole number of its batches (at least one). The callables are called only when
    needed (they encode the training split). ``(None, 1.0)`` when neither is set:
    Lightning's default.
    """
    epochs = config["trainer"].get("max_epochs")
    budget = config.get("train_timesteps")
    if epochs is not None or budget is None:
        return epochs, 1.0
    per_epoch = max(1, timesteps_per_epoch())
    epochs = max(1, math.ceil(budget / per_epoch))
    share = budget / (epochs * per_epoch)
    if share == 1.0 or batches_per_epoch is None:  # B <= E P, so the share is at most 1
        return epochs, share
    # Lightning trains floor(share x batches) batches an epoch: aim at the nearest whole
    # number of batches (at least one), not below it (0.999 of 10 batches would be 9)
    batches = max(1, batches_per_epoch())
    wanted = max(1, round(share * batches))
    return epochs, 1.0 if wanted >= batches else (wanted + 0.5) / batches


def restore_best(model: MusicGenerator, trainer: pl.Trainer) -> None:
    """Load the weights of the best checkpoint by the model's ``monitor`` (if one was
    saved), so samples and test likelihoods come from the model selected on validation.

    Rank 0 only: the other ranks' weights are not used after training, and on a multi-node
    run without a shared file system they could not read rank 0's checkpoint."""
    if not trainer.is_global_zero:
        return
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if best and Path(best).is_file():
        state = load_checkpoint(Path(best), map_location=model.device)["state_dict"]
        model.load_state_dict(state)


