"""``musebench regress``: a golden value moved outside its tolerance, or a codec's output
changed (one pitch shifted), fails and names the model and the check; blessing derives
tolerances from the measured spread and lists what changed. The model-running tests use
``markov`` (count-based: seconds, no training) against the committed golden files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from musebench.cli import main
from musebench.experiments import regress
from musebench.experiments.config import load_config
from musebench.models import get_model

MODEL = "markov"


@pytest.fixture
def golden_copy(tmp_path: Path) -> Path:
    """A temporary copy of the committed golden files."""
    return Path(shutil.copytree(regress.GOLDEN_DIR, tmp_path / "regression"))


def regress_rows(capsys: pytest.CaptureFixture, golden: Path) -> tuple[int, list[list[str]]]:
    """Exit code and the table's rows (split on runs of spaces) of a regress run."""
    code = main(["regress", "--models", MODEL, "--golden", str(golden)])
    lines = capsys.readouterr().out.splitlines()
    if code == 0:
        return code, []
    assert lines[0].split() == ["model", "check", "value", "expected", "tolerance"]
    assert set(lines[1]) <= {"-", " "}  # the output is the table and nothing else
    return code, [line.split() for line in lines[2:]]


@pytest.mark.slow  # two markov runs and the fixture checks: ~15 s
def test_a_golden_value_outside_its_tolerance_fails_naming_model_and_check(golden_copy, capsys):
    assert regress_rows(capsys, golden_copy) == (0, [])  # the committed files hold here
    path = golden_copy / f"{MODEL}.json"
    golden = json.loads(path.read_text())
    check = golden["checks"]["sample.pitch_range"]
    true_value = check["expected"]
    check["expected"] = true_value + 100 * check["tolerance"] + 1.0
    path.write_text(json.dumps(golden))
    code, rows = regress_rows(capsys, golden_copy)
    assert code == 1
    assert rows == [[MODEL, "sample.pitch_range", regress.show(true_value),
                     regress.show(check["expected"]), regress.show(check["tolerance"])]]


@pytest.mark.slow  # one markov run and the fixture checks: ~8 s
def test_one_pitch_shifted_in_a_codecs_encoding_is_caught(golden_copy, capsys, monkeypatch):
    codec_class = type(get_model(MODEL)(**load_config(MODEL, "smoke")["model"]).codec)
    encode = codec_class.encode
    shifted: list[str] = []

    def encode_with_one_pitch_up(self, piece):
        if not shifted or shifted[0] == piece.id:  # the first piece encoded: its top
            shifted[:1] = [piece.id]                 # note (in every view) a semitone up
            notes = piece.notes.copy()
            notes["pitch"][int(notes["pitch"].argmax())] += 1
            piece = piece.with_notes(notes)
        return encode(self, piece)

    monkeypatch.setattr(codec_class, "encode", encode_with_one_pitch_up)
    code, rows = regress_rows(capsys, golden_copy)
    assert code == 1
    assert [MODEL, "data.encoding_sha256"] in [r[:2] for r in rows]
    assert all(r[0] == MODEL for r in rows)  # the fixture's own data checks did not move


def test_a_missing_golden_file_and_a_stale_one_are_rows(tmp_path):
    moved = regress.compare("m", {"x": 1.0}, None)
    assert moved == [regress.Moved("m", "(golden file)", "missing", "present",
                                   "run make regress-update")]
    (tmp_path / "gone.json").write_text("{}")
    assert regress.stale_files(["m"], tmp_path) == [tmp_path / "gone.json"]


def test_compare_exact_and_float_checks():
    golden = {"checks": {"h": {"expected": "a" * 64, "tolerance": "exact"},
                         "f": {"expected": 1.0, "tolerance": 0.25},
                         "gone": {"expected": 3, "tolerance": "exact"}}}
    outcome = {"h": "b" * 64, "f": 1.25, "new": 2.0}
    assert regress.compare("m", outcome, golden) == [
        regress.Moved("m", "gone", "(not produced)", "3", "exact"),
        regress.Moved("m", "h", "b" * 12, "a" * 12, "exact"),
        regress.Moved("m", "new", "2", "(not in golden)", "-"),
    ]  # f: |1.25 - 1.0| = 0.25 is within 0.25
    assert regress.compare("m", {**outcome, "f": 1.2500001}, golden)[0].check == "f"


def test_tolerances_from_the_measured_spread():
    # pinned runs 2.0, 2.0; 2 threads 2.1: spread 0.1, tolerance 3 x 0.1
    expected, tol, why = regress.tolerance("sample.x", [2.0, 2.0], 2.1)
    assert expected == 2.0 and tol == pytest.approx(0.3) and "spread" in why
    # no spread: the float32 floor for training values, relative to |value|
    assert regress.tolerance("train.loss", [40.0, 40.0], 40.0)[1] == pytest.approx(4e-4)
    assert regress.tolerance("sample.x", [0.5, 0.5], 0.5)[1] == pytest.approx(1e-9)
    assert regress.tolerance("notes.sha256", ["a", "a"], "b")[:2] == ("a", "exact")
    with pytest.raises(RuntimeError, match="notes.sha256: differs between 2 identical runs"):
        regress.tolerance("notes.sha256", ["a", "b"], "a")


def test_bless_writes_files_and_lists_what_changed(tmp_path):
    values = {"loss": 1.0, "hash": "c" * 64}

    def runner(name, settings, threads):
        return dict(values)

    changed, failed = regress.bless_all(["m"], runner, tmp_path)
    assert failed == [] and changed == [regress.Moved("m", "(golden file)", "created", "-", "-")]
    golden = regress.read_golden("m", tmp_path)
    assert golden["settings"]["threads"] == regress.PINNED_THREADS and "how" in golden
    assert golden["checks"]["hash"]["tolerance"] == "exact"
    values["loss"] = 2.0
    changed, _ = regress.bless_all(["m"], runner, tmp_path)
    assert changed == [regress.Moved("m", "loss", "2", "1", regress.show(2e-9))]
    assert regress.check_all(["m"], lambda n, s: dict(values), tmp_path) == []


def test_a_broken_golden_file_is_named(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"m\.json: not JSON"):
        regress.read_golden("m", tmp_path)


def test_a_cpu_kinds_golden_is_read_there_and_only_there(tmp_path):
    """MidiNet models 1-2 take other notes on an AMD EPYC (AVX2) than on an Intel Xeon
    (AVX-512): each kind checks against its own file, the others against the common one."""
    values = {"notes.sha256": "a" * 64}

    def runner(name, settings, threads):
        return dict(values)

    regress.bless_all(["m"], runner, tmp_path)  # the common file, blessed on one CPU
    values["notes.sha256"] = "b" * 64  # what another kind of CPU computes
    changed, failed = regress.bless_all(["m"], runner, tmp_path, kind="AuthenticAMD-AVX2")
    assert failed == [] and (tmp_path / "AuthenticAMD-AVX2" / "m.json").exists()
    assert changed == [regress.Moved("m", "notes.sha256", "b" * 12, "a" * 12, "exact")]
    amd = regress.read_golden("m", tmp_path, "AuthenticAMD-AVX2")
    assert amd["checks"]["notes.sha256"]["expected"] == "b" * 64
    assert amd["environment"]["cpu_kind"] == regress.cpu_kind()  # recorded as blessed
    assert regress.read_golden("m", tmp_path, "GenuineIntel-AVX512")["checks"][
        "notes.sha256"]["expected"] == "a" * 64
    amd_outcome = {"notes.sha256": "b" * 64}
    assert regress.check_all(["m"], lambda n, s: amd_outcome, tmp_path,
                             "AuthenticAMD-AVX2") == []
    assert [r.check for r in regress.check_all(["m"], lambda n, s: amd_outcome, tmp_path,
                                               "GenuineIntel-AVX512")] == ["notes.sha256"]
    assert regress.other_kinds(["m"], tmp_path, None) == [tmp_path / "AuthenticAMD-AVX2" /
                                                          "m.json"]
    assert regress.stale_files([], tmp_path) == [tmp_path / "AuthenticAMD-AVX2" / "m.json",
                                                  tmp_path / "m.json"]


def test_a_moved_model_blessed_on_another_cpu_kind_gets_a_note(tmp_path):
    regress.bless_all(["m"], lambda n, s, t: {"x": "a" * 64}, tmp_path)
    moved = [regress.Moved("m", "x", "b", "a", "exact")]
    assert regress.kind_notes(moved, tmp_path, regress.cpu_kind()) == []
    [note] = regress.kind_notes(moved, tmp_path, "AuthenticAMD-AVX2")
    assert f"blessed on {regress.cpu_kind()}" in note and "--this-cpu --models m" in note


def test_cpu_kind_names_vendor_and_isa():
    vendor, _, isa = regress.cpu_kind().rpartition("-")
    assert vendor and isa in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256")
