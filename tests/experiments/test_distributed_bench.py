"""Every model class through `musebench bench --devices 2 --strategy ddp` on CPU (gloo), as a
real subprocess: the run exits 0, records exactly one leaderboard row and one W&B run, and
the replicas end training identical (the Trainer's ReplicaGuard fails the run otherwise).
A GAN's adversarial updates run under DDP on odd-sized splits without a hang.

Registered names that share a class (a paper's variants, differing in configuration) run
one two-process bench per class: the largest variant, whose modules include the others'.
What a variant alone could break under DDP is a parameter its loss leaves unused (plain
DDP, chosen for automatic-optimisation models, fails on one; manual-optimisation GANs get
unused-parameter detection): that is checked in one process for every registered name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from musebench.experiments.bench import build_datamodule
from musebench.experiments.config import load_config
from musebench.models import MODELS, get_model

#: A C-RNN-GAN configuration whose train (37) and validation (11) windows are odd in number,
#: with two per batch: two ranks hold 19 and 18 train windows (10 and 9 batches) until
#: Lightning's DistributedSampler pads them to the same count.
ODD_SPLITS = ["data.window=8", "data.hop=7", "data.batch_size=2"]


def one_epoch(name: str) -> list[str]:
    """Overrides for one smoke epoch of the model's main training: ``max_epochs`` 1 (kept
    at 0 for models that learn in ``fit_statistics``) and no pre-training phase (so a GAN
    with MLE pre-training, C-RNN-GAN, trains adversarially)."""
    config = load_config(name, "smoke")
    if config["trainer"].get("max_epochs", 1) == 0:
        return []
    return ["trainer.max_epochs=1"] + [f"model.{key}=0" for key in config["model"]
                                        if key.endswith("pretrain_epochs")]


def bench_ddp(command: list[str], model: str, out: Path, overrides: list[str]
              ) -> subprocess.CompletedProcess:
    """``command bench --model … --devices 2 --strategy ddp`` on the smoke preset, one torch
    thread per process, W&B offline, the session's data cache."""
    args = [*command, "bench", "--model", model, "--preset", "smoke", "--devices", "2",
            "--strategy", "ddp", "--no-audio", "--out", str(out),
            "--set", "trainer.enable_progress_bar=false"]
    for override in overrides:
        args += ["--set", override]
    env = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE="offline", WANDB_SILENT="true")
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def assert_one_row_and_one_wandb_run(result: subprocess.CompletedProcess, out: Path) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    rows = (out / "results.jsonl").read_text().splitlines()
    assert len(rows) == 1, rows
    row = json.loads(rows[0])
    runs = [p for p in (Path(row["folder"]) / "wandb").iterdir()
            if p.is_dir() and "run-" in p.name]
    assert len(runs) == 1, runs
    return row


def musebench_command() -> list[str]:
    """The ``musebench`` command as ``python -m musebench`` (what the console script runs)."""
    return [sys.executable, "-m", "musebench"]


def smoke_model(name: str) -> torch.nn.Module:
    """The registered model built from its smoke preset."""
    return get_model(name)(**load_config(name, "smoke")["model"])


def parameter_count(name: str) -> int:
    return sum(p.numel() for p in smoke_model(name).parameters())


def one_name_per_class() -> list[str]:
    """For each model class, the registered name whose smoke model has most parameters."""
    by_class: dict[type, list[str]] = {}
    for name in sorted(MODELS):
        by_class.setdefault(get_model(name), []).append(name)
    return sorted(max(names, key=parameter_count) for names in by_class.values())


def parameters_without_gradient(name: str, model: torch.nn.Module) -> list[str]:
    """Names of the trainable parameters that one smoke training batch's loss leaves
    without a gradient."""
    config = load_config(name, "smoke")
    data = build_datamodule(config, model, 0, None)
    model.fit_statistics(data.pieces("train"), data.pieces("valid"))
    data.setup("fit")
    model.training_step(next(iter(data.train_dataloader())), 0).backward()
    return [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]


def test_every_automatic_optimisation_model_leaves_no_parameter_without_a_gradient():
    for name in sorted(MODELS):
        model = smoke_model(name)
        if model.automatic_optimization and any(True for _ in model.parameters()):
            assert parameters_without_gradient(name, model) == [], name


def test_a_parameter_the_loss_leaves_out_is_named():
    model = smoke_model("pianoroll_lstm")
    model.register_parameter("left_out", torch.nn.Parameter(torch.zeros(1)))
    assert parameters_without_gradient("pianoroll_lstm", model) == ["left_out"]


@pytest.mark.slow  # two processes per model class, ~15-30 s each on 2 busy cores
@pytest.mark.parametrize("model", one_name_per_class())
def test_every_model_benches_under_two_process_ddp_with_one_row_and_one_wandb_run(
        model, tmp_path):
    result = bench_ddp(musebench_command(), model, tmp_path, one_epoch(model))
    row = assert_one_row_and_one_wandb_run(result, tmp_path)
    assert row["model"] == model


@pytest.mark.slow  # two processes, ~25 s
def test_gan_trains_adversarially_under_ddp_on_odd_splits_with_identical_replicas(tmp_path):
    # Adam keeps per-parameter state: the proof below that each network took a step
    # (C-RNN-GAN's default plain SGD keeps none). Without the paper's L2 and dropout, at lr
    # 0.01 the discriminator gets ahead within this one short epoch, so the freezing rule
    # lets the generator train too (a discriminator at chance freezes the generator).
    overrides = [*one_epoch("crnngan"), *ODD_SPLITS, "model.optimizer=adam", "model.lr=0.01",
                 "model.l2=0", "model.dropout=0"]
    config = load_config("crnngan", "smoke", overrides)
    data = build_datamodule(config, get_model("crnngan")(**config["model"]), 0, None)
    assert len(data.dataset("train")) % 2 == 1 and len(data.dataset("valid")) % 2 == 1

    # `python -m` re-executes the module in the second process (needs the __main__ guard)
    result = bench_ddp([sys.executable, "-m", "musebench"], "crnngan",
                       tmp_path, overrides)
    row = assert_one_row_and_one_wandb_run(result, tmp_path)
    checkpoint = torch.load(Path(row["folder"]) / "checkpoints" / "last.ckpt",
                            weights_only=False)
    discriminator, generator = checkpoint["optimizer_states"]
    assert discriminator["state"] and generator["state"]  # both networks were updated
    assert "diverged" not in result.stderr  # ReplicaGuard: same weights on both ranks


@pytest.mark.slow  # two processes, ~20 s
def test_length_grouped_batches_train_under_ddp_with_identical_replicas(tmp_path):
    """Each rank takes its share of every length-grouped batch (Lightning keeps the
    sampler): on an odd number of whole pieces of unequal length the ranks hold one example
    more and one less until the sampler repeats one, so they run the same number of
    batches and end identical."""
    from musebench.datasets.midi import write_midi
    from musebench.datasets.piece import Piece, make_notes

    for i in range(41):
        length = 16 + (i * 29) % 100
        write_midi(Piece(make_notes(range(0, length, 4), 4, 50 + i % 20), length=length),
                   tmp_path / "tunes" / f"t{i:02d}.mid")
    overrides = [*one_epoch("rnn_nade"), f"data.source=midi:{tmp_path / 'tunes'}",
                 "data.batch_size=3", "data.batching=length_grouped"]
    config = load_config("rnn_nade", "smoke", overrides)
    data = build_datamodule(config, get_model("rnn_nade")(**config["model"]), 0, None)
    assert len(data.dataset("train")) % 2 == 1 and len(set(data.lengths("train"))) > 10
    result = bench_ddp(musebench_command(), "rnn_nade", tmp_path / "out", overrides)
    assert_one_row_and_one_wandb_run(result, tmp_path / "out")  # a long midi: source's tag
    assert "diverged" not in result.stderr
