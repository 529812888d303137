"""``musebench data list/prepare/info`` (cli/data.py) over the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.cli import main
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes


@pytest.fixture
def tunes(tmp_path: Path) -> Path:
    for i in range(5):
        write_midi(Piece(make_notes(np.arange(4) * 2, 2, 60 + i)), tmp_path / "t" / f"{i}.mid")
    (tmp_path / "t" / "empty.mid").write_bytes(b"")
    return tmp_path / "t"


def test_list_names_every_source_and_whether_it_can_be_read(tmp_path: Path, capsys) -> None:
    assert main(["--data-root", str(tmp_path), "data", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "not found" in lines["jsb"]
    assert "embedded" in lines["fixture"]
    assert "midi:<folder>" in lines


def test_prepare_prints_counts_and_skipped_files(tunes: Path, capsys) -> None:
    assert main(["data", "prepare", f"midi:{tunes}"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 file(s)" in out
    assert "empty.mid: empty file (0 bytes)" in out
    assert "train" in out and "pitch range [60, 64]" in out


def test_info_json_reports_pieces_and_steps_per_split(tunes: Path, capsys) -> None:
    assert main(["data", "info", f"midi:{tunes}", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert sum(c["pieces"] for c in manifest["counts"].values()) == 5
    assert sum(c["steps"] for c in manifest["counts"].values()) == 5 * 8
    assert manifest["skipped"][0]["reason"] == "empty file (0 bytes)"


def test_missing_data_root_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("MUSEBENCH_DATA", raising=False)
    assert main(["data", "info", "jsb"]) == 2
    assert "set MUSEBENCH_DATA or pass --data-root" in capsys.readouterr().err


def test_info_jsb_json_has_the_published_counts(data_root: Path, capsys) -> None:
    assert main(["--data-root", str(data_root), "data", "info", "jsb", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert [counts[s]["pieces"] for s in ("train", "valid", "test")] == [229, 76, 77]
    assert [counts[s]["steps"] for s in ("train", "valid", "test")] == [13_807, 4_602, 4_725]
