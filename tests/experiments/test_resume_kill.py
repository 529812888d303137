"""A bench run killed with SIGKILL after its first checkpoint and resumed with ``--resume``
ends exactly where an uninterrupted run of the same settings ends: same metrics, same
final weights.

C-RNN-GAN is the model: its MLE pre-training and its adversarial epochs both draw noise
from the global torch RNG, and the kill lands at the first checkpoint, normally in
pre-training (3 epochs of 8), so the resumed run also crosses the switch to adversarial
training (``test_resume_rng.py`` resumes exactly at that switch). Everything runs in one CPU thread, where
training is deterministic, so the comparison is exact.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

MAX_EPOCHS = 8  # smoke C-RNN-GAN: 3 pre-training epochs, then adversarial ones


def bench_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "musebench", "bench", "--model", "crnngan",
            "--preset", "smoke", "--no-audio", "--seed", "0", "--out", str(out),
            "--set", f"trainer.max_epochs={MAX_EPOCHS}",
            "--set", "trainer.enable_progress_bar=false", *extra]


def run_folder(out: Path) -> Path:
    return out / "crnngan" / "fixture"


def kill_after_first_checkpoint(command: list[str], out: Path, env: dict[str, str]) -> Path:
    """Start ``command``, SIGKILL it as soon as ``checkpoints/last.ckpt`` appears; the file."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    found: list[Path] = []
    try:
        while time.monotonic() < deadline and process.poll() is None:
            found = list(run_folder(out).glob("*/checkpoints/last.ckpt"))
            if found:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    return found[0]


def assert_same_metrics(a: dict[str, float | None], b: dict[str, float | None]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        same = x == y or (x is None and y is None) or (
            x is not None and y is not None and math.isnan(x) and math.isnan(y))
        assert same, f"{key}: resumed {x} != uninterrupted {y}"


@pytest.mark.slow  # three smoke runs as real processes, two at a time: ~20 s on 2 loaded cores
def test_a_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path: Path,
                                                              session_cache: Path):
    env = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               MUSEBENCH_CACHE=str(session_cache))
    killed_out, straight_out = tmp_path / "killed", tmp_path / "straight"

    # the uninterrupted run goes alongside (one thread each: the results do not depend on it)
    straight_run = subprocess.Popen(bench_command(straight_out), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        checkpoint = kill_after_first_checkpoint(bench_command(killed_out), killed_out, env)
        folder = checkpoint.parent.parent
        saved_epoch = torch.load(checkpoint, map_location="cpu", weights_only=False)["epoch"]
        assert not (folder / "metrics.json").exists(), "the run finished before the kill"
        assert saved_epoch < MAX_EPOCHS - 1

        subprocess.run(bench_command(killed_out, "--resume"), env=env, check=True,
                       capture_output=True)
        _, stderr = straight_run.communicate(timeout=600)
    finally:
        if straight_run.poll() is None:
            straight_run.kill()
    assert straight_run.returncode == 0, stderr.decode()[-2000:]

    straight = next(run_folder(straight_out).glob("*/metrics.json")).parent
    assert straight.name == folder.name  # same settings, same run folder name
    assert_same_metrics(json.loads((folder / "metrics.json").read_text()),
                        json.loads((straight / "metrics.json").read_text()))
    resumed_last = torch.load(checkpoint, map_location="cpu", weights_only=False)
    straight_last = torch.load(straight / "checkpoints" / "last.ckpt", map_location="cpu",
                               weights_only=False)
    assert resumed_last["epoch"] == straight_last["epoch"] == MAX_EPOCHS - 1
    assert resumed_last["global_step"] == straight_last["global_step"]
    for name, weights in straight_last["state_dict"].items():
        assert torch.equal(resumed_last["state_dict"][name], weights), name
