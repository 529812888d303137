"""Acceptance (#17): the official report, opened in headless Chromium, shows the headline
tables, the glossary, a labelled audio player and a piano roll per official model, and
weighs under 20 MB with its audio files.

It renders the committed official store itself, with the MIDI samples committed beside
its rows (``leaderboard/results/samples/``), as a user's checkout has them. Skips without
Chromium, or without fluidsynth and a soundfont (no audio to play).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
from headless_chromium import BROWSER, chromium
from matplotlib.image import imread

from musebench.cli.main import main
from musebench.datasets.audio import can_render
from musebench.datasets.midi import read_midi
from musebench.experiments.official import stale_rows
from musebench.experiments.tracks import load_protocol
from musebench.leaderboard import store
from musebench.leaderboard.render import shown_view


def official_rows() -> list[dict]:
    """The committed official rows the report shows: the current ones (stale rows, whose
    code or config changed since, are left out of it)."""
    rows = [json.loads(line) for line in store.OFFICIAL_RESULTS.read_text().splitlines()]
    stale = stale_rows(rows, load_protocol())
    return [r for r, flag in zip(rows, stale, strict=True) if not flag]


def official_models() -> Counter:
    """(model, dataset, shown view) -> seeds of the committed official rows (the view with
    its scored length, as the report groups them: :func:`shown_view`)."""
    return Counter((r["model"], r["dataset"], shown_view(r)) for r in official_rows())


def without_chords() -> int:
    """Models whose shown sample (the latest row's first) carries no chords: the report
    says so under their roll (an unconditional model's, unless it writes chords itself,
    as the count baselines do)."""
    latest = {(r["model"], r["dataset"], shown_view(r)): r for r in official_rows()}
    return sum(not len(read_midi(store.OFFICIAL_RESULTS.parent / r["samples"][0]).chords)
               for r in latest.values())


@pytest.mark.slow  # a browser and fluidsynth renders take several seconds
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install -y "
                    "chromium) — cannot render the report")
@pytest.mark.skipif(not can_render(), reason="fluidsynth or a soundfont is not installed "
                    "(make install-audio) — the report would have no audio")
def test_official_report_in_chromium(tmp_path):
    models = official_models()
    page = tmp_path / "report" / "official.html"
    assert main(["leaderboard", "--official", "--results", str(tmp_path / "mine.jsonl"),
                 "--no-reference", "--format", "html", "--out", str(page)]) == 0

    size = sum(p.stat().st_size for p in page.parent.rglob("*") if p.is_file())
    assert size < 20e6
    audio_files = sorted((page.parent / "official_files").glob("*.ogg")) or sorted(
        (page.parent / "official_files").glob("*.flac"))
    assert audio_files

    dom = chromium("--dump-dom", page.as_uri(), timeout=90).stdout
    assert dom.count('class="headline"') == len({(d, v) for _, d, v in models})
    assert 'id="glossary"' in dom and "Entropy (bits) of the pitch-class distribution" in dom
    assert "Rows marked 'official'" in dom
    players = 0
    for (model, dataset, view), seeds in models.items():
        label = f"{model} (standard, {seeds} seed{'s' * (seeds != 1)}, official)"
        assert f'alt="piano roll of {label}"' in dom, label
        stem = "official_files/" + re.sub(r"[^A-Za-z0-9_.-]+", "-",
                                          f"{dataset}-{view}-{model}-standard-official-1")
        assert f'href="{stem}.mid"' in dom, label
        players += f'aria-label="{label}, sample 1"' in dom
    assert players >= len(models) - 1  # a sample of silence (a collapsed GAN) has no audio
    assert dom.count("Unconditional samples: no chords.") == without_chords() > 0

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri(), timeout=90)
    pixels = imread(shot)[..., :3]
    assert pixels.std() > 0.05  # not a blank page
    # the styled headline table is on screen: its cell borders (#ccc) draw lines across
    # the page, one per row. (Not a best cell's green: the melody tracks, on top, have no
    # model that wins beyond the intervals, so their tables have none.)
    border = np.abs(pixels - np.array([0xCC, 0xCC, 0xCC]) / 255).max(axis=-1) < 0.004
    assert (border.sum(axis=1) > 800).sum() >= 5
