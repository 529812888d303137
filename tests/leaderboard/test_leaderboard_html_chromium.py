"""The HTML report renders in headless Chromium with its tables, headline chart and piano roll.

Skips when no Chromium is installed (``apt-get install -y chromium``)."""

from __future__ import annotations

import numpy as np
import pytest
from headless_chromium import BROWSER, chromium
from matplotlib.image import imread

from musebench.datasets.piece import Piece, make_notes
from musebench.experiments.samples import write_samples
from musebench.leaderboard.html_report import to_html
from musebench.leaderboard.render import aggregate


@pytest.mark.slow  # starting a browser takes a few seconds
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed "
                    "(apt-get install -y chromium) — cannot render the HTML report")
def test_html_report_renders_table_and_images_in_headless_chromium(tmp_path):
    piece = Piece(make_notes(np.arange(16) * 2, 2, 60 + np.arange(16) % 7), meta={"id": "s"})
    write_samples([piece] * 4, tmp_path / "samples", audio=False)
    rows = [{"kind": "run", "model": "markov", "dataset": "fixture", "preset": "smoke",
             "seed": s, "metrics": {"oa_mean": 0.5 + s / 10}, "folder": str(tmp_path)}
            for s in range(3)]
    rows.append({"kind": "reference", "model": "real data (test vs train)",
                 "dataset": "fixture", "preset": "-", "metrics": {"oa_mean": 0.9}})
    page = tmp_path / "leaderboard.html"
    page.write_text(to_html(aggregate(rows)))

    dom = chromium("--dump-dom", page.as_uri()).stdout
    assert '<table class="headline">' in dom and "real data (test vs train)" in dom
    assert dom.count("<img") == 2  # the oa_mean chart + the piano roll

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri())
    pixels = imread(shot)[..., :3]
    assert pixels.std() > 0.05  # not a blank page
    # the bar chart's matplotlib blue (31, 119, 180) is on screen: the images decoded
    blue = np.abs(pixels - np.array([31, 119, 180]) / 255).max(axis=-1) < 0.03
    assert blue.sum() > 500
