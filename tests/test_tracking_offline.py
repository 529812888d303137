"""W&B tracking writes offline run folders with the metrics in them, and nothing when
disabled."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

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

CONFIG = {"name": "markov", "preset": "smoke", "data": {"source": "fixture"},
          "model": {"max_order": 2}, "trainer": {}, "generate": {"n": 2}}


def test_offline_score_run_keeps_the_metrics_in_its_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    tags = tracking.run_tags(CONFIG, "32-true")
    tracking.log_scores(tmp_path, CONFIG, tags, "markov-test", {"pitch_entropy": 2.5,
                                                                "nll_per_step": 3.25})
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    records = finished_records(runs[0] / f"run-{runs[0].name.rsplit('-', 1)[-1]}.wandb")
    summary = {item.key or ".".join(item.nested_key): json.loads(item.value_json)
               for r in records if r.WhichOneof("record_type") == "summary"
               for item in r.summary.update}
    assert summary["pitch_entropy"] == 2.5 and summary["nll_per_step"] == 3.25
    config = {item.key for r in records if r.WhichOneof("record_type") == "run"
              for item in r.run.config.update}
    assert {"model", "data", "preset"} <= config


def test_disabled_mode_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    tracking.log_scores(tmp_path, CONFIG, [], "x", {"a": 1.0})
    assert tracking.train_logger(tmp_path, CONFIG, [], "x") is None
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


def test_sample_run_logs_images_audio_and_artifact_offline(tmp_path, monkeypatch):
    import numpy as np

    from musebench.datasets.piece import Piece, make_notes
    from musebench.experiments.samples import write_samples

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    written = write_samples([Piece(make_notes(np.arange(4) * 4, 4, 60 + np.arange(4)))],
                            tmp_path / "samples", audio=False)
    fake_wav = tmp_path / "samples" / "sample_000.wav"  # no soundfile/fluidsynth needed
    fake_wav.write_bytes(b"RIFF")
    with pytest.warns(UserWarning):  # wandb.Audio of a bad WAV, or missing soundfile
        tracking.log_samples(tmp_path, CONFIG, [], "s", written.png, [fake_wav],
                             tmp_path / "samples")
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("files/media/images/samples/piano_roll_*.png"))
