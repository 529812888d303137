"""The figures a model draws of its samples (the LSTM with attention's attention maps, the
book's figure; issue #12) reach the report: from the run folder of a user's run, and from
the copies committed beside an official row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from musebench.experiments import official, tracks
from musebench.experiments.tracks import Cell
from musebench.leaderboard.html_report import to_html
from musebench.leaderboard.media import model_figures
from musebench.leaderboard.render import aggregate
from musebench.leaderboard.store import read_rows

TINY = """
preset: smoke
seeds_first: 1
seeds_other: 1
samples_kept: 1
tracks:
  melody:
    title: Melody
    datasets: [fixture]
    view: melody
    requires: [notes]
    headline: [pitch_range]
"""


def test_a_run_folders_figures_are_found_and_embedded(tmp_path: Path) -> None:
    figures = tmp_path / "run" / "figures"
    figures.mkdir(parents=True)
    png = (b"\x89PNG\r\n\x1a\n" + b"\0" * 8)
    for name in ("attention-0.png", "attention-1.png", "attention-2.png"):
        (figures / name).write_bytes(png)
    row = {"model": "m", "dataset": "d", "preset": "smoke", "seed": 0, "metrics": {"x": 1.0},
           "folder": str(tmp_path / "run")}
    (entry,) = aggregate([row])
    assert model_figures(entry) == [figures / "attention-0.png", figures / "attention-1.png"]
    page = to_html([entry])
    assert page.count('<figure class="model-figure">') == 2
    assert ": attention 0</figcaption>" in page and ": attention 1</figcaption>" in page
    shutil.rmtree(figures)
    assert model_figures(aggregate([row])[0]) == []


@pytest.mark.slow  # one smoke run of the LSTM with attention, ~10 s
def test_an_official_rows_attention_maps_are_committed_and_shown(
        tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    path = tmp_path / "tracks.yaml"
    path.write_text(TINY)
    store = tmp_path / "results" / "official.jsonl"
    cell = Cell("melody", "fixture", "lstm_attention", 0)
    official.run_grid(tracks.load_protocol(path), [cell], store, tmp_path / "runs", None,
                      allow_dirty=True, say=lambda _: None)
    (row,) = read_rows(store)
    assert [Path(p).name for p in row["figures"]] == ["attention-0.png", "attention-1.png"]
    shutil.rmtree(tmp_path / "runs")  # the machine that made the row is gone
    (entry,) = aggregate([dict(row, store_dir=str(store.parent))])
    kept = store.parent / "samples" / "melody" / "fixture" / "lstm_attention" / "seed0"
    assert model_figures(entry) == [kept / "attention-0.png", kept / "attention-1.png"]
    assert to_html([entry]).count('<figure class="model-figure">') == 2
