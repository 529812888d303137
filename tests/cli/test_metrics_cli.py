"""``musebench score``: any folder of MIDI files scored against a data set's splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import musebench
from musebench.cli import main


def write_split(pieces, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for piece in pieces:
        piece.to_midi(folder / f"{piece.id.replace('/', '_')}.mid")
    return folder


def test_score_json_on_the_fixture_test_split_skips_a_broken_file(tmp_path, capsys):
    from musebench.datasets import load

    folder = write_split(load("fixture").test, tmp_path / "samples")
    (folder / "broken.mid").write_bytes(b"not midi at all")
    assert main(["score", "--samples", str(folder), "--dataset", "fixture", "--json",
                 "--bootstrap", "50", "--out", str(tmp_path / "scores.json")]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert (document["dataset"], document["split"], document["view"], document["n_files"],
            document["musebench"]) == ("fixture", "test", "full", 3, musebench.__version__)
    result = document["metrics"]
    assert result["n_samples"] == 2 and result["n_skipped_files"] == 1
    assert "broken.mid" in captured.err
    assert 0 <= result["chord_conformance_notes"] <= 1
    assert json.loads((tmp_path / "scores.json").read_text()) == document


def test_score_reports_a_missing_folder_clearly(tmp_path, capsys):
    assert main(["score", "--samples", str(tmp_path / "nope"), "--dataset", "fixture"]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.data
@pytest.mark.slow
def test_jsb_test_split_scored_against_itself_is_the_reference_row(data_root, tmp_path, capsys):
    from musebench.datasets import load

    folder = write_split(load("jsb", data_root=data_root).test, tmp_path / "jsb")
    assert main(["--data-root", str(data_root), "score", "--samples", str(folder),
                 "--dataset", "jsb", "--json", "--bootstrap", "100"]) == 0
    result = json.loads(capsys.readouterr().out)["metrics"]
    assert result["n_samples"] == 77
    for key in ("chord_conformance_notes", "pitch_entropy", "empty_beat_rate",
                "diversity_pairwise_ratio", "oa_pitch_range"):
        assert result[key] is not None, key
    assert result["oa_mean"] > 0.9 and result["diversity_pairwise_ratio"] == pytest.approx(1)
    assert 0 < result["copy_rate_bars"] < 1  # reported, not hidden
