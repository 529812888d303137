"""``musebench score --model/--view``: a bench run's samples, read back from their MIDI
files, score exactly as the bench scored them (one scoring path, the model's view); the
full view of the same melodies differs, so the view is really applied."""

from __future__ import annotations

import json

import pytest

from musebench.cli import main
from musebench.experiments.bench import bench


@pytest.mark.slow  # one smoke bench of the Markov baseline on the fixture, ~20 s
def test_score_of_bench_samples_equals_the_bench_metrics_in_the_models_view(tmp_path, capsys):
    result = bench("markov", preset="smoke", out=tmp_path / "runs", audio=False)
    assert result.row["view"] == "melody"
    capsys.readouterr()
    assert main(["score", "--samples", str(result.samples), "--model", "markov",
                 "--preset", "smoke", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {k: document[k] for k in ("dataset", "split", "view", "steps_per_beat", "model")} \
        == {"dataset": "fixture", "split": "test", "view": "melody", "steps_per_beat": 4,
            "model": "markov"}
    scored = document["metrics"]
    benched = json.loads((result.out / "metrics.json").read_text())
    common = sorted(set(benched) & set(scored))
    assert len(common) > 100
    assert {k: scored[k] for k in common} == {k: benched[k] for k in common}
    assert main(["score", "--samples", str(result.samples), "--dataset", "fixture",
                 "--view", "melody", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"] == scored
    assert main(["score", "--samples", str(result.samples), "--dataset", "fixture",
                 "--json"]) == 0  # default: full pieces, as before --view existed
    full = json.loads(capsys.readouterr().out)["metrics"]
    assert full["kl_pitch_range"] != scored["kl_pitch_range"]
    assert full["pitch_range"] == scored["pitch_range"]  # the samples themselves are the same


def test_score_names_an_unknown_view_or_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["score", "--samples", str(tmp_path), "--view", "bass"])
    assert "bass" in capsys.readouterr().err
    assert main(["score", "--samples", str(tmp_path), "--model", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err


@pytest.mark.slow  # one smoke bench of the Markov baseline on the fixture, ~20 s
def test_score_beats_scores_a_folder_as_the_bench_scored_its_track_length(tmp_path, capsys):
    result = bench("markov", preset="smoke", out=tmp_path / "runs", audio=False,
                   score_beats=2)
    capsys.readouterr()
    assert main(["score", "--samples", str(result.samples), "--model", "markov",
                 "--preset", "smoke", "--score-beats", "2", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["score_beats"] == 2
    scored = document["metrics"]
    benched = json.loads((result.out / "metrics.json").read_text())
    common = sorted(set(benched) & set(scored))
    assert len(common) > 100
    assert {k: scored[k] for k in common} == {k: benched[k] for k in common}
    assert main(["score", "--samples", str(result.samples), "--model", "markov",
                 "--preset", "smoke", "--json"]) == 0  # whole samples: other figures
    assert json.loads(capsys.readouterr().out)["metrics"]["pitch_range"] != scored["pitch_range"]
