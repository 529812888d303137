"""Every registered model benches with ``precision="bf16-mixed"`` on CPU (autocast through the
Trainer): one row recording bf16-mixed, one W&B run, finite validation loss and metrics;
``--precision 16-mixed`` on CPU is a clear command-line error, not a Lightning stack trace."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from musebench.cli import main
from musebench.experiments.bench import bench
from musebench.leaderboard.store import read_rows
from musebench.models import MODELS


def best_validation_scores(checkpoint: Path) -> list[float]:
    """The monitored values the checkpoint callbacks of ``checkpoint`` recorded as best."""
    state = torch.load(checkpoint, weights_only=False)["callbacks"]
    return [float(value["best_model_score"]) for key, value in state.items()
            if key.startswith("ModelCheckpoint") and value.get("best_model_score") is not None]


@pytest.mark.slow  # ~2-6 s per model: the smoke preset's epochs, sampling, scoring, W&B offline
@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_benches_in_bf16_mixed_with_finite_losses(model, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    result = bench(model, preset="smoke", precision="bf16-mixed", out=tmp_path, audio=False,
                   overrides=["trainer.enable_progress_bar=false"])
    rows = read_rows(tmp_path / "results.jsonl")
    assert len(rows) == 1 and rows[0]["precision"] == "bf16-mixed"
    runs = [p for p in (result.out / "wandb").iterdir() if p.is_dir() and "run-" in p.name]
    assert len(runs) == 1, runs
    checkpoint = result.out / "checkpoints" / "last.ckpt"
    if checkpoint.exists():  # models that learn in fit_statistics train no epoch
        scores = best_validation_scores(checkpoint)
        assert scores and all(math.isfinite(s) for s in scores), scores
    for key in ("nll_per_step", "pitch_entropy"):
        if key in rows[0]["metrics"]:
            assert math.isfinite(rows[0]["metrics"][key]), key


def test_float16_mixed_on_cpu_is_a_clear_error_naming_the_flag(tmp_path, capsys):
    code = main(["bench", "--model", "random", "--preset", "smoke", "--precision", "16-mixed",
                 "--no-audio", "--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert code == 2
    assert "--precision 16-mixed" in error and "bf16-mixed" in error
    assert "Traceback" not in error
