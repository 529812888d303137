"""Leaderboard rendering: bootstrap CIs over seeds, reference rows beside runs, and a
self-contained HTML report."""

from __future__ import annotations

import re

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.experiments.samples import write_samples
from musebench.leaderboard.format import cell
from musebench.leaderboard.html_report import to_html
from musebench.leaderboard.reference import published_rows
from musebench.leaderboard.render import aggregate, seed_interval, to_csv, to_markdown


def run_row(model: str, seed: int, value: float, folder: str = "") -> dict:
    return {"kind": "run", "run_id": f"{model}-{seed}", "model": model, "dataset": "fixture",
            "preset": "smoke", "seed": seed, "metrics": {"pitch_entropy": value},
            "folder": folder}


REFERENCE = {"kind": "reference", "model": "real data (test vs train)", "dataset": "fixture",
             "preset": "-", "metrics": {"pitch_entropy": 3.0}}


def test_each_view_has_its_reference_column_beside_its_models():
    melody_ref = dict(REFERENCE, model="real data, melody (test vs train)", view="melody",
                      metrics={"pitch_entropy": 2.5})
    full_ref = dict(REFERENCE, model="real data, full (test vs train)", view="full")
    melody_runs = [dict(run_row("markov", s, 2.0 + s), view="melody") for s in (0, 1)]
    header = next(line for line in to_markdown(aggregate([*melody_runs, full_ref, melody_ref]))
                  .splitlines() if line.startswith("| metric"))
    assert header == "| metric | real data, melody (test vs train) | markov (smoke, 2 seeds) |"
    full_run = dict(run_row("biaxial", 0, 3.5), view="full")
    entries = aggregate([full_run, *melody_runs, full_ref, melody_ref])
    assert [(e.model, e.view) for e in entries] == [
        ("real data, melody (test vs train)", "melody"), ("markov", "melody"),
        ("real data, full (test vs train)", "full"), ("biaxial", "full")]
    assert "| pitch_entropy (≈ real) | 2.5 | 2.5 ± " in to_markdown(entries)


def test_seed_interval_is_the_student_t_interval_worked_by_hand():
    # values 1, 2, 3, 4: mean 2.5, s = sqrt(5/3) = 1.29099, t(0.975, 3) = 3.18245
    low, high = seed_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    assert (low, high) == pytest.approx((2.5 - 3.18245 * 1.29099 / 2, 2.5 + 3.18245 * 1.29099 / 2),
                                        abs=1e-4)
    # three seeds: the interval reaches beyond the values' range (a bootstrap cannot)
    low, high = seed_interval(np.array([0.40, 0.44, 0.42]))  # s = 0.02, t(0.975, 2) = 4.30265
    assert (low, high) == pytest.approx((0.42 - 4.30265 * 0.02 / 3 ** 0.5,
                                         0.42 + 4.30265 * 0.02 / 3 ** 0.5), abs=1e-6)
    assert seed_interval(np.array([2.5, np.nan])) == (2.5, 2.5)
    assert all(np.isnan(seed_interval(np.array([np.nan]))))


def test_one_seed_shows_the_runs_own_sample_bootstrap_interval():
    row = run_row("markov", 0, 2.0)
    row["metrics"].update(pitch_entropy_ci_low=1.8, pitch_entropy_ci_high=2.3)
    (entry,) = aggregate([row])
    assert entry.stats["pitch_entropy"] == (2.0, 1.8, 2.3)


def test_runs_are_grouped_over_seeds_and_reference_comes_first():
    rows = [run_row("markov", s, v) for s, v in enumerate([2.0, 2.2, 2.4])]
    entries = aggregate(rows + [run_row("random", 0, 4.0), REFERENCE])
    assert [e.model for e in entries] == ["real data (test vs train)", "markov", "random"]
    markov = entries[1]
    assert markov.seeds == 3
    assert markov.stats["pitch_entropy"][0] == pytest.approx(2.2)
    assert "±" in cell(markov.stats["pitch_entropy"]) and "±" not in cell(entries[2].stats[
        "pitch_entropy"])


def test_dataset_filter_keeps_only_that_dataset():
    other = dict(run_row("markov", 0, 1.0), dataset="bach")
    entries = aggregate([run_row("markov", 0, 1.0), other], dataset="bach")
    assert [e.dataset for e in entries] == ["bach"]


def test_markdown_and_csv_show_runs_beside_the_reference():
    rows = [run_row("markov", 0, 2.0), run_row("random", 0, 4.0), REFERENCE]
    rows[0]["metrics"]["pitch_entropy_ci_low"] = 1.0  # the scorer's companion: not a row
    text = to_markdown(aggregate(rows))
    table = text[:text.index("## Glossary")]
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert lines == ["| metric | real data (test vs train) | markov (smoke, 1 seed) | "
                     "random (smoke, 1 seed) |",
                     "| pitch_entropy (≈ real) | 3 | 2 | 4 |"]
    assert "#### pitch" in table
    csv_lines = to_csv(aggregate(rows)).splitlines()
    assert csv_lines[0] == "model,dataset,seed,metric,value,ci_low,ci_high,preset,view,kind,official"
    assert "markov,fixture,0,pitch_entropy,2.0,1.0,,smoke,full,run,False" in csv_lines
    assert "real data (test vs train),fixture,,pitch_entropy,3.0,,,-,full,reference,False" in (
        csv_lines)


def test_published_figures_get_their_own_table_with_sources():
    published = [r for r in published_rows() if r["dataset"] == "jsb"]
    text = to_markdown(aggregate([dict(run_row("markov", 0, 2.0), dataset="jsb"), *published]))
    assert "Published figures:" in text
    assert "| RNN-NADE | -5.83 | 5.83 | 0.3211 | Boulanger-Lewandowski" in text


def test_published_rows_carry_their_citation():
    rows = published_rows()
    jsb = [r for r in rows if r["dataset"] == "jsb" and r["model"] == "RNN-NADE"]
    assert jsb and "Boulanger-Lewandowski" in jsb[0]["source"]
    assert jsb[0]["metrics"]["nll_per_step"] == pytest.approx(-jsb[0]["metrics"][
        "log_likelihood_per_step"])
    assert 0 < jsb[0]["metrics"]["frame_accuracy"] < 1


def test_html_report_embeds_tables_rolls_and_links_audio_files_beside_it(tmp_path):
    piece = Piece(make_notes(np.arange(8) * 2, 2, 60 + np.arange(8)), meta={"id": "s"})
    write_samples([piece, piece], tmp_path / "run" / "samples", audio=False)
    rows = [dict(run_row("markov", 0, 2.0, "run"), store_dir=str(tmp_path)), REFERENCE]
    page = to_html(aggregate(rows), assets=tmp_path / "page_files")
    assert "real data (test vs train)" in page and 'id="glossary"' in page
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == 1  # the roll; pitch_entropy is no headline metric: no chart
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "http" not in page
    assert (tmp_path / "page_files" / "fixture-full-markov-smoke-1.mid").is_file()
    assert 'href="page_files/fixture-full-markov-smoke-1.mid"' in page
    assert "Unconditional samples: no chords." in page


def test_official_runs_are_never_averaged_with_own_runs_of_the_same_settings():
    official = [dict(run_row("markov", s, 2.0), official=True) for s in (0, 1, 2)]
    mine = [run_row("markov", 0, 9.0)]
    entries = aggregate([*mine, *official, REFERENCE])
    runs = [e for e in entries if e.kind == "run"]
    assert [(e.official, e.seeds, e.stats["pitch_entropy"][0]) for e in runs] == [
        (True, 3, 2.0), (False, 1, 9.0)]
    text = to_markdown(entries)
    assert "markov (smoke, 3 seeds, official)" in text and "markov (smoke, 1 seed) |" in text
