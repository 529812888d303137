"""End to end on the fixture data: `musebench bench` trains, samples, writes MIDI and PNG,
scores, records a row; same seed gives the same metrics; the leaderboard shows the runs
beside the real-data reference; bad names are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.cli import main
from musebench.datasets.piece import Piece
from musebench.experiments.bench import bench
from musebench.leaderboard.store import read_rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """markov (seeds 0, 0 again in another folder, 1) and random (seed 0), smoke preset."""
    out = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MUSEBENCH_CACHE", str(session_cache))
        patch.setenv("WANDB_MODE", "disabled")
        for model, seed, folder in [("markov", 0, "a"), ("markov", 0, "b"), ("markov", 1, "a"),
                                    ("random", 0, "a")]:
            bench(model, preset="smoke", seed=seed, out=out / folder,
                  results=out / "results.jsonl", audio=False)
    return out


def rows_of(runs: Path, model: str, seed: int) -> list[dict]:
    return [r for r in read_rows(runs / "results.jsonl")
            if r["model"] == model and r["seed"] == seed]


@pytest.mark.slow  # the module's four smoke runs take ~10 s together
def test_a_run_writes_samples_metrics_and_a_full_row(runs):
    row = rows_of(runs, "markov", 1)[0]
    folder = Path(row["folder"])
    assert len(list((folder / "samples").glob("sample_*.mid"))) == row["n_samples"] == 8
    assert len(list((folder / "samples").glob("sample_*.png"))) == 8
    assert (folder / "samples" / "grid.png").stat().st_size > 1000
    assert (folder / "config.yaml").exists()
    assert json.loads((folder / "metrics.json").read_text())["pitch_entropy"] > 0
    assert row["dataset"] == "fixture" and row["preset"] == "smoke"
    for key in ("config_hash", "git_commit", "hardware", "precision", "train_seconds",
                "samples_per_second"):
        assert row[key] not in (None, ""), key
    for metric in ("pitch_entropy", "chord_conformance_notes", "diversity_pairwise",
                   "kl_mean", "nll_per_step"):
        assert np.isfinite(row["metrics"][metric]), metric


@pytest.mark.slow  # the module's four smoke runs take ~10 s together
def test_samples_are_readable_midi_with_the_conditions_chords(runs):
    folder = Path(rows_of(runs, "markov", 0)[0]["folder"])
    piece = Piece.from_midi(folder / "samples" / "sample_000.mid")
    assert len(piece.notes) > 0 and len(piece.chords) > 0


@pytest.mark.slow  # the module's four smoke runs take ~10 s together
def test_same_seed_gives_identical_metrics_and_other_seed_other_samples(runs):
    first, again = rows_of(runs, "markov", 0)
    other = rows_of(runs, "markov", 1)[0]
    assert first["folder"] != again["folder"]
    assert first["metrics"] == again["metrics"]
    midi = [(Path(r["folder"]) / "samples" / "sample_000.mid").read_bytes()
            for r in (first, again, other)]
    assert midi[0] == midi[1] != midi[2]


@pytest.mark.slow  # the module's four smoke runs take ~10 s together
def test_leaderboard_shows_both_baselines_beside_the_reference(runs, capsys):
    assert main(["leaderboard", "--results", str(runs / "results.jsonl"), "--format", "md"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines()
                  if line.startswith("| metric"))
    assert header.startswith("| metric | real data, melody (test vs train) | "
                             "markov (smoke, 2 seeds) |")
    assert "random (smoke, 1 seed)" in header
    assert "real data, full" not in header  # no full-piece model ran


@pytest.mark.slow  # the module's four smoke runs take ~10 s together
def test_melody_models_are_scored_against_melodies(runs):
    from musebench.experiments.scoring import real_data_row

    for model in ("markov", "random"):
        row = rows_of(runs, model, 0)[0]
        assert row["view"] == "melody"
        assert row["metrics"]["polyphony"] == 1.0
    reference = real_data_row("fixture", view="melody")
    assert reference["metrics"]["polyphony"] == 1.0
    assert real_data_row("fixture", view="full")["metrics"]["polyphony"] > 1.0


def test_unknown_model_and_dataset_errors_list_valid_names(tmp_path, capsys):
    assert main(["bench", "--model", "nope", "--preset", "smoke", "--out", str(tmp_path)]) == 2
    assert "valid models:" in capsys.readouterr().err
    with pytest.raises(KeyError, match="unknown dataset nope.*fixture"):
        bench("markov", dataset="nope", preset="smoke", out=tmp_path)


def test_unknown_config_key_on_the_command_line_is_named(tmp_path, capsys):
    code = main(["bench", "--model", "markov", "--preset", "smoke", "--out", str(tmp_path),
                 "--set", "model.ordr=2"])
    assert code == 2 and "'model.ordr'" in capsys.readouterr().err


def test_resuming_a_finished_run_is_refused_and_adds_no_row(tmp_path):
    out = tmp_path / "runs"
    bench("crnngan", preset="smoke", out=out, audio=False,
          overrides=["trainer.max_epochs=1", "model.pretrain_epochs=0"])
    with pytest.raises(FileExistsError, match="nothing to resume"):
        bench("crnngan", preset="smoke", out=out, audio=False, resume=True,
              overrides=["trainer.max_epochs=1", "model.pretrain_epochs=0"])
    assert len(read_rows(out / "results.jsonl")) == 1


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume from"):
        bench("markov", preset="smoke", out=tmp_path, resume=True)
