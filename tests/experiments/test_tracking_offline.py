"""One W&B run per bench run: training curves, samples and final metrics in one offline run
(read back from its ``.wandb`` file), the same run continued on resume, one run and one row
under a torchrun DDP launch, nothing when disabled, and a failing W&B never fatal."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from musebench.experiments import tracking

BLOCK = 32768  # the .wandb file is a LevelDB-style log: 32 KiB blocks of framed records
HEADER = 7  # ':W&B', magic (2 bytes), version (1 byte); each record: crc 4, length 2, type 1


def finished_records(path: Path, timeout: float = 20.0) -> list:
    """The records of ``path`` once W&B's writer process has flushed the run's exit record
    (``run.finish()`` returns before the background writer is done)."""
    deadline = time.monotonic() + timeout
    while True:
        records = wandb_records(path) if path.exists() else []
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            return records
        assert time.monotonic() < deadline, f"{path}: no exit record after {timeout} s"
        time.sleep(0.1)


def wandb_records(path: Path) -> list:
    """Every protobuf ``Record`` of an offline ``run-*.wandb`` file (complete ones only)."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending, offset = path.read_bytes(), [], b"", HEADER
    assert data[:4] == b":W&B"
    while offset + 7 <= len(data):
        if BLOCK - offset % BLOCK < 7:  # block trailer padding
            offset += BLOCK - offset % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[offset:offset + 7])
        if offset + 7 + length > len(data):  # still being written
            break
        pending += data[offset + 7:offset + 7 + length]
        offset += 7 + length
        if kind in (1, 4):  # FULL or LAST fragment
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def read_run(run_dir: Path) -> dict:
    """History keys, summary, config keys and run record of one finished offline run."""
    records = finished_records(run_dir / f"run-{run_dir.name.rsplit('-', 1)[-1]}.wandb")
    kinds = {}
    for record in records:
        kinds.setdefault(record.WhichOneof("record_type"), []).append(record)
    return {
        "history": {item.key or ".".join(item.nested_key)
                    for r in kinds.get("history", []) for item in r.history.item},
        "summary": {item.key or ".".join(item.nested_key): json.loads(item.value_json)
                    for r in kinds.get("summary", []) for item in r.summary.update},
        "config": {item.key for r in kinds.get("run", []) for item in r.run.config.update},
        "run": kinds["run"][0].run,
    }


CONFIG = {"name": "markov", "preset": "smoke", "data": {"source": "fixture"},
          "model": {"max_order": 2}, "trainer": {}, "generate": {"n": 2}}


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")


def test_one_offline_run_holds_curves_samples_and_final_metrics(tmp_path, offline):
    from musebench.datasets.piece import Piece, make_notes
    from musebench.experiments.samples import write_samples

    tags = tracking.run_tags(CONFIG, "32-true")
    logger = tracking.bench_logger(tmp_path, CONFIG, tags, "markov-test")
    logger.log_metrics({"train_loss": 1.5}, step=0)
    written = write_samples([Piece(make_notes(np.arange(4) * 4, 4, 60 + np.arange(4)))],
                            tmp_path / "samples", audio=False)
    wav = tmp_path / "samples" / "sample_000.wav"  # a real WAV; no fluidsynth needed
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros(800, "<i2").tobytes())
    has_soundfile = importlib.util.find_spec("soundfile") is not None
    with (contextlib.nullcontext() if has_soundfile
          else pytest.warns(UserWarning, match="soundfile")):  # audio needs soundfile
        tracking.log_samples(logger, "markov-test", written.png, [wav], tmp_path / "samples")
    tracking.log_metrics(logger, {"pitch_entropy": 2.5, "nll_per_step": 3.25})
    tracking.finish(logger)

    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert runs[0].name.endswith((tmp_path / tracking.RUN_ID_FILE).read_text())
    run = read_run(runs[0])
    assert "train_loss" in run["history"]
    assert run["summary"]["pitch_entropy"] == 2.5 and run["summary"]["nll_per_step"] == 3.25
    assert {"model", "data", "preset"} <= run["config"]
    assert run["run"].job_type == "bench" and run["run"].run_group == "markov"
    assert list(run["run"].tags) == tags
    assert list(runs[0].glob("files/media/images/samples/piano_roll_*.png"))
    assert bool(list(runs[0].glob("files/media/audio/**/*.wav"))) == has_soundfile


def test_resume_continues_the_stored_run_and_a_fresh_start_opens_a_new_one(tmp_path, offline):
    ids = []
    for resume in (False, True, False):
        logger = tracking.bench_logger(tmp_path, CONFIG, [], "x", resume=resume)
        ids.append(logger.experiment.id)
        tracking.finish(logger)
    assert ids[0] == ids[1] != ids[2]
    assert (tmp_path / tracking.RUN_ID_FILE).read_text() == ids[2]


def test_a_failing_wandb_start_is_a_warning_and_no_logger(tmp_path, offline, monkeypatch):
    import wandb

    def refuse(**kwargs):
        raise OSError("no space left")

    monkeypatch.setattr(wandb, "init", refuse)
    with pytest.warns(UserWarning, match="bench_logger failed.*no space left"):
        assert tracking.bench_logger(tmp_path, CONFIG, [], "x") is None
    tracking.log_metrics(None, {"a": 1.0})  # the later stages accept the missing logger
    tracking.finish(None)


def test_disabled_mode_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert tracking.bench_logger(tmp_path, CONFIG, [], "x") is None
    assert not (tmp_path / "wandb").exists()


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_mode_follows_the_environment(monkeypatch, mode):
    monkeypatch.setenv("WANDB_MODE", mode)
    assert tracking.wandb_mode() == mode
    monkeypatch.delenv("WANDB_MODE")
    assert tracking.wandb_mode() == "offline"


def test_tags_name_dataset_preset_and_precision():
    assert tracking.run_tags(CONFIG, "bf16-mixed") == [
        "dataset:fixture", "preset:smoke", "precision:bf16-mixed"]


def test_a_midi_folder_deep_in_the_tree_still_gets_its_run(tmp_path, offline):
    """W&B refuses a tag over 64 characters, and with it the run: a bench of a ``midi:``
    folder in a deep path lost its tracking to a warning. Long tags keep their head and a
    hash of the whole value."""
    folder = "midi:/home/someone/corpora/folk-tunes/reels-and-jigs/2026"
    deep = {**CONFIG, "data": {**CONFIG["data"], "source": f"{folder}/cleaned"}}
    other = {**CONFIG, "data": {**CONFIG["data"], "source": f"{folder}/raw-set"}}
    assert len(f"dataset:{folder}/cleaned") > 64
    tags = tracking.run_tags(deep, "32-true")
    assert tags[0].startswith("dataset:midi:/home/someone/corpora/folk-tunes/")
    assert all(len(t) <= 64 for t in tags)
    assert tags[0] != tracking.run_tags(other, "32-true")[0]
    logger = tracking.bench_logger(tmp_path, deep, tags, "markov-deep")
    assert logger is not None and (tmp_path / tracking.RUN_ID_FILE).is_file()
    tracking.finish(logger)


@pytest.mark.slow  # two gloo processes train the piano-roll LSTM's smoke preset (~20 s)
def test_torchrun_ddp_bench_is_one_wandb_run_and_one_row(tmp_path, session_cache):
    """torchrun starts both ranks; Lightning must join them (TorchElasticEnvironment), not
    launch more; rank 0 alone logs, samples, scores and writes the row."""
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", OMP_NUM_THREADS="1",
               MUSEBENCH_CACHE=str(session_cache))
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc-per-node", "2", "-m", "musebench", "bench",
               "--model", "pianoroll_lstm", "--preset", "smoke", "--no-audio",
               "--devices", "2", "--strategy", "ddp", "--out", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert log.count("Initializing distributed") == 2 and "MEMBER: 2/2" in log
    rows = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(rows) == 1
    runs = list(tmp_path.glob("pianoroll_lstm/fixture/*/wandb/offline-run-*"))
    assert len(runs) == 1
    run = read_run(runs[0])
    assert any("loss" in key for key in run["history"])
    assert run["summary"]["pitch_entropy"] == json.loads(rows[0])["metrics"]["pitch_entropy"]


def test_summary_holds_costs_view_and_hash_and_a_sample_table(tmp_path, offline):
    from musebench.datasets.piece import Piece, make_notes
    from musebench.experiments.samples import write_samples

    logger = tracking.bench_logger(tmp_path, CONFIG, [], "markov-table")
    pieces = [Piece(make_notes(np.arange(4) * 4, 4, 60 + np.arange(4) * k)) for k in (1, 2)]
    written = write_samples(pieces, tmp_path / "samples", audio=False)
    tracking.log_sample_table(logger, written.png, written.wav, pieces)
    row = {"model": "markov", "dataset": "fixture", "preset": "smoke", "view": "melody",
           "config_hash": "abc123", "train_seconds": 1.25, "samples_per_second": 40.0}
    tracking.log_metrics(logger, {"pitch_entropy": 2.0}, row)
    tracking.finish(logger)

    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    summary = read_run(run_dir)["summary"]
    assert {k: summary[k] for k in row} == row and summary["pitch_entropy"] == 2.0
    records = finished_records(run_dir / f"run-{run_dir.name.rsplit('-', 1)[-1]}.wandb")
    config = {item.key: json.loads(item.value_json) for r in records
              if r.WhichOneof("record_type") == "config" for item in r.config.update}
    assert {k: config[k] for k in ("dataset", "view", "config_hash")} == {
        "dataset": "fixture", "view": "melody", "config_hash": "abc123"}
    (table,) = run_dir.glob("files/media/table/samples/table_*.table.json")
    content = json.loads(table.read_text())
    assert content["columns"][:3] == ["sample", "piano_roll", "audio"]
    assert "pitch_entropy" in content["columns"] and len(content["data"]) == 2
    entropy = [line[content["columns"].index("pitch_entropy")] for line in content["data"]]
    assert entropy == [2.0, 2.0]  # four distinct pitches each: log2(4) bits
