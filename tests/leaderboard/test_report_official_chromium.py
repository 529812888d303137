"""Acceptance (#17): the official report, opened in headless Chromium, shows the headline
tables, the glossary, a labelled audio player and a piano roll per official model, and
weighs under 20 MB with its audio files.

The earlier official rows (bach, melody view) have no committed samples, so the test gives
each of them (the grid's rows, with committed samples, are left out: see
test_official_samples.py) for its latest seed two samples made from the fixture (melody lines; with their chords for
conditional models, without for unconditional ones), in run folders *relative to a copy of
the official store*, the layout the renderer reads. Skips without Chromium, or without
fluidsynth and a soundfont (no audio to play).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from headless_chromium import BROWSER, chromium
from matplotlib.image import imread

from musebench.cli.main import main
from musebench.datasets.audio import can_render
from musebench.datasets.piece import Piece
from musebench.datasets.sources.fixture import Fixture
from musebench.datasets.views import apply_view
from musebench.experiments.samples import write_samples
from musebench.leaderboard import store
from musebench.models import get_model


def official_copy_with_samples(folder) -> dict[str, int]:
    """The official rows of bach (the melody track's, and any earlier ones) in
    ``folder/official.jsonl`` with relative run folders and no committed samples; the
    latest seed of each model gets two fixture samples. Returns {model: seeds}."""
    melodies = apply_view(list(Fixture().read(None)), "melody")
    lines, latest, seeds = [], {}, {}
    for raw in store.OFFICIAL_RESULTS.read_text().splitlines():
        row = json.loads(raw)
        if row["dataset"] != "bach":
            continue
        row.pop("samples", None)
        row["folder"] = f"runs/{row['model']}/seed{row['seed']}"
        latest[row["model"]] = row["folder"]
        seeds[row["model"]] = seeds.get(row["model"], 0) + 1
        lines.append(json.dumps(row))
    for index, (model, run) in enumerate(sorted(latest.items())):
        chosen = melodies[2 * index % len(melodies):][:2]
        if not get_model(model).conditional:
            chosen = [Piece(p.notes, steps_per_beat=p.steps_per_beat, meta=dict(p.meta))
                      for p in chosen]
        write_samples(chosen, folder / run / "samples", audio=False)
    (folder / "official.jsonl").write_text("\n".join(lines) + "\n")
    return seeds


@pytest.mark.slow  # a browser and fluidsynth renders take several seconds
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install -y "
                    "chromium) — cannot render the report")
@pytest.mark.skipif(not can_render(), reason="fluidsynth or a soundfont is not installed "
                    "(make install-audio) — the report would have no audio")
def test_official_report_in_chromium(tmp_path, monkeypatch):
    models = official_copy_with_samples(tmp_path)
    monkeypatch.setattr(store, "OFFICIAL_RESULTS", tmp_path / "official.jsonl")
    page = tmp_path / "report" / "official.html"
    assert main(["leaderboard", "--official", "--results", str(tmp_path / "mine.jsonl"),
                 "--no-reference", "--format", "html", "--out", str(page)]) == 0

    size = sum(p.stat().st_size for p in page.parent.rglob("*") if p.is_file())
    assert size < 20e6
    audio_files = sorted((page.parent / "official_files").glob("*.ogg")) or sorted(
        (page.parent / "official_files").glob("*.flac"))
    assert len(audio_files) == 2 * len(models)

    dom = chromium("--dump-dom", page.as_uri(), timeout=90).stdout
    assert dom.count('class="headline"') == 1 and "oa_mean ↑" in dom
    assert 'id="glossary"' in dom and "Entropy (bits) of the pitch-class distribution" in dom
    assert "Rows marked 'official'" in dom
    for model, seeds in models.items():
        label = f"{model} (standard, {seeds} seed{'s' * (seeds != 1)}, official)"
        assert f'alt="piano roll of {label}"' in dom
        assert f'<audio controls="" preload="none" aria-label="{label}, sample 1"' in dom
        assert f'href="official_files/bach-melody-{model}-standard-official-1.mid"' in dom
    assert dom.count("Unconditional samples: no chords.") == sum(
        not get_model(m).conditional for m in models)

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri(), timeout=90)
    pixels = imread(shot)[..., :3]
    assert pixels.std() > 0.05  # not a blank page
    # the headline's best cell is green (#e6f4e6): the styled table is on screen
    green = np.abs(pixels - np.array([0xE6, 0xF4, 0xE6]) / 255).max(axis=-1) < 0.02
    assert green.sum() > 200
