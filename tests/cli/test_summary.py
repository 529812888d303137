"""The end-of-run summary: headline metrics beside the real data's, and the files."""

from __future__ import annotations

from pathlib import Path

from musebench.cli.summary import format_summary


def test_summary_shows_headline_metrics_real_data_and_files(tmp_path: Path):
    row = {"run_id": "markov-fixture-s0-abc", "model": "markov", "dataset": "fixture",
           "preset": "smoke", "seed": 0, "view": "melody", "train_seconds": 12.4,
           "folder": str(tmp_path / "run"),
           "metrics": {"scale_consistency": 0.8151, "scale_consistency_ci_low": 0.7649,
                       "scale_consistency_ci_high": 0.86, "note_density": 3.79,
                       "pitch_range": 12.0, "pitch_range_undefined": 0.0}}
    text = format_summary(row, {"scale_consistency": 0.9375, "note_density": 3.92},
                          tmp_path / "results.jsonl")
    lines = text.splitlines()
    assert lines[0] == ("run markov-fixture-s0-abc: markov on fixture (smoke, seed 0, "
                        "melody view), trained in 12 s")
    scale = next(line for line in lines if line.strip().startswith("scale_consistency"))
    assert scale.split()[1:5] == ["0.815", "[0.765,", "0.86]", "0.938"]
    density = next(line for line in lines if line.strip().startswith("note_density"))
    assert density.split()[1:3] == ["3.79", "3.92"]
    assert not any(line.strip().startswith("pitch_range") for line in lines)  # not headline
    assert not any("chord_conformance" in line for line in lines)  # not reported: left out
    assert f"every metric: {tmp_path / 'run' / 'metrics.json'} (3 metrics)" in text
    assert str(tmp_path / "results.jsonl") in text
    assert len(lines) < 20


def test_summary_without_a_reference_shows_a_dash(tmp_path: Path):
    row = {"run_id": "r", "model": "m", "dataset": "d", "preset": "smoke", "seed": 1,
           "view": "full", "train_seconds": 0.0, "folder": str(tmp_path),
           "metrics": {"note_density": 2.0}}
    density = next(line for line in format_summary(row, None, tmp_path).splitlines()
                   if "note_density" in line)
    assert density.split()[1:3] == ["2", "-"]
