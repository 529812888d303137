"""One scored length per track (issue #11): samples, real data and ceilings are cut to the
track's ``score_beats`` before scoring, so no figure differs by length alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.views import first_beats
from musebench.experiments import official, tracks
from musebench.experiments.scoring import real_data_row, score_in_view
from musebench.experiments.tracks import Cell
from musebench.leaderboard.render import aggregate


def _piece(notes: list[tuple[int, int, int]], length: int | None = None) -> Piece:
    """A 4/4 piece on a 4-steps-a-beat grid of (start, duration, pitch) notes."""
    start, duration, pitch = zip(*notes, strict=True)
    return Piece(make_notes(start, duration, pitch), steps_per_beat=4, beats_per_bar=4,
                 length=length)


def test_first_beats_clips_notes_at_the_cut_and_leaves_shorter_pieces_alone() -> None:
    # beat 0: C4 for 6 steps (crosses the cut at step 4), beat 2: G5; cut after one beat
    long = _piece([(0, 6, 60), (8, 4, 79)], length=16)
    [cut] = first_beats([long], 1)
    assert cut.n_steps == 4
    assert cut.notes["pitch"].tolist() == [60] and cut.notes["duration"].tolist() == [4]
    short = _piece([(0, 2, 60)], length=2)
    assert first_beats([short], 1)[0] is short
    assert first_beats([long], None)[0] is long
    with pytest.raises(ValueError, match="beats = 0"):
        first_beats([long], 0)


def test_the_reference_is_cut_to_the_scored_length() -> None:
    # samples of two beats, two notes each; test pieces whose last two beats add two more
    samples = [_piece([(0, 4, 60 + i), (4, 4, 62 + i)], length=8) for i in range(4)]
    test = [_piece([(0, 4, 60 + i), (4, 4, 64), (8, 4, 88 - i), (12, 4, 40)], length=16)
            for i in range(4)]
    train = [_piece([(0, 4, 62), (4, 4, 65)], length=8), _piece([(0, 4, 67), (4, 4, 55)], 8)]

    def scored(*args, **kwargs) -> dict:
        return score_in_view(*args, n_boot=10, **kwargs)

    cut = scored(samples, test, train, "full", beats=2)
    assert json.dumps(cut, sort_keys=True) == json.dumps(
        scored(samples, first_beats(test, 2), train, "full"), sort_keys=True)
    # note counts: 2 in every sample; 2 in every test piece's first two beats, 4 in the whole
    # piece, so their distributions overlap fully over the scored length, not at all whole
    assert cut["oa_note_count"] == pytest.approx(1.0)
    assert scored(samples, test, train, "full")["oa_note_count"] == pytest.approx(0.0)


def test_a_track_sets_the_scored_length_of_its_cells(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = """
preset: smoke
seeds_first: 1
seeds_other: 1
tracks:
  melody:
    datasets: [fixture]
    view: melody
    requires: [notes]
    score_beats: 8
    headline: [pitch_range]
"""
    path.write_text(text)
    protocol = tracks.load_protocol(path)
    assert protocol.track("melody").score_beats == 8
    config = official.cell_config(Cell("melody", "fixture", "markov", 0), protocol)
    assert config["data"]["score_beats"] == 8
    path.write_text(text.replace("score_beats: 8", "score_beats: 0"))
    with pytest.raises(ValueError, match="score_beats = 0: expected a positive int"):
        tracks.load_protocol(path)


def test_the_bench_scores_the_first_beats_and_records_the_length(tmp_path: Path) -> None:
    from musebench.experiments.bench import bench

    kwargs = {"out": tmp_path / "runs", "results": tmp_path / "r.jsonl", "audio": False}
    whole = bench("markov", "fixture", "smoke", **kwargs)
    cut = bench("markov", "fixture", "smoke", score_beats=1, **kwargs)
    assert "score_beats" not in whole.row and cut.row["score_beats"] == 1
    assert yaml.safe_load((cut.out / "config.yaml").read_text())["data"]["score_beats"] == 1
    # the same samples (same seed), scored over one beat: each piece's range can only shrink
    assert cut.row["metrics"]["pitch_range"] < whole.row["metrics"]["pitch_range"]
    assert cut.row["config_hash"] != whole.row["config_hash"]
    # the length generated, before the cut, is in the row (the same samples in both)
    assert cut.row["sample_beats"] == whole.row["sample_beats"] > 1


def test_real_data_is_scored_over_the_same_length_and_never_shares_a_table(tmp_path,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("MUSEBENCH_CACHE", str(tmp_path / "cache"))
    whole = real_data_row("fixture", view="melody", refresh=True)
    cut = real_data_row("fixture", view="melody", beats=2, refresh=True)
    assert cut["score_beats"] == 2 and "first 2 beats" in cut["model"]
    assert cut["metrics"]["pitch_range"] < whole["metrics"]["pitch_range"]
    cached = real_data_row("fixture", view="melody", beats=2)  # cached per length
    assert json.dumps(cached, sort_keys=True) == json.dumps(cut, sort_keys=True)
    run = {"model": "markov", "dataset": "fixture", "preset": "smoke", "view": "melody",
           "seed": 0, "metrics": {"pitch_range": 3.0}}
    entries = aggregate([whole, cut, run, dict(run, score_beats=2)])
    assert {e.view for e in entries} == {"melody", "melody, first 2 beats"}
    assert np.isfinite(cut["metrics"]["pitch_range"])


def test_the_cli_takes_a_tracks_scored_length_and_settings(tmp_path: Path) -> None:
    import subprocess
    import sys

    results = tmp_path / "r.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "musebench", "bench", "--model", "markov", "--dataset",
         "fixture", "--preset", "smoke", "--out", str(tmp_path / "runs"), "--results",
         str(results), "--no-audio", "--score-beats", "2", "--track", "melody"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in results.read_text().splitlines()]
    assert row["score_beats"] == 2
    bad = subprocess.run([sys.executable, "-m", "musebench", "bench", "--model", "markov",
                          "--dataset", "fixture", "--preset", "smoke", "--score-beats", "0",
                          "--out", str(tmp_path / "runs"), "--no-audio"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "score_beats = 0: must be at least 1" in bad.stderr
    assert "Traceback" not in bad.stderr
