"""Checkpoint files are replaced atomically, and an unreadable ``last.ckpt`` stops
``--resume`` with an error that names the file and the way out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from musebench.datasets import cache
from musebench.experiments.bench import bench, run_folder
from musebench.experiments.checkpointing import AtomicCheckpointIO, UnreadableCheckpointError
from musebench.experiments.config import load_config


def test_a_write_that_fails_midway_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "weights": torch.ones(4)}, path)

    def crash(fd: int) -> None:
        raise OSError("disk gone while writing")

    monkeypatch.setattr(cache.os, "fsync", crash)  # bytes written, not yet renamed
    with pytest.raises(OSError, match="disk gone"):
        io.save_checkpoint({"epoch": 2, "weights": torch.zeros(4)}, path)
    assert io.load_checkpoint(path)["epoch"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt", "last.ckpt.sha256"]


def test_a_truncated_checkpoint_is_a_clear_error_naming_it(tmp_path: Path):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"weights": torch.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(UnreadableCheckpointError, match="without --resume") as error:
        io.load_checkpoint(path)
    assert str(path) in str(error.value)


def test_bench_resume_from_an_unreadable_checkpoint_says_which_file(tmp_path: Path):
    folder = run_folder(tmp_path, load_config("crnngan", "smoke"), 0)
    last = folder / "checkpoints" / "last.ckpt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"")  # what a non-atomic writer leaves when killed at the first byte
    with pytest.raises(UnreadableCheckpointError, match="delete it") as error:
        bench("crnngan", preset="smoke", out=tmp_path, resume=True, audio=False)
    assert str(last) in str(error.value)
