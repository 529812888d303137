"""Test helpers of the listening arena: a tiny results store made from the committed
fixture, a study over it with stand-in audio (no fluidsynth needed), and, run as a
script, a real server of that study (``python tests/arena_study.py TMP DB_URL PORT``)."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

from musebench.datasets import load
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.views import apply_view
from musebench.leaderboard.store import append_row

MODELS = ("midinet", "random")  # conditional and unconditional, both melody models


def make_results(folder: Path, samples: int = 4) -> Path:
    """A results store with one fixture run of each of :data:`MODELS`: midinet's samples
    are their condition's melody a tone up (recording the condition), random's are
    random notes. Returns the store's path."""
    test = apply_view(load("fixture").test, "melody")
    rng = np.random.default_rng(0)
    store = folder / "results.jsonl"
    for model in MODELS:
        run = folder / "runs" / model
        for i in range(samples):
            condition = test[i % len(test)]
            if model == "midinet":
                notes = condition.notes.copy()
                notes["pitch"] += 2
                piece = Piece(notes, condition.chords, length=condition.n_steps,
                              meta={"id": f"s{i}", "condition": condition.id})
            else:
                piece = Piece(make_notes(np.arange(32) * 2, 2, rng.integers(40, 90, 32)),
                              meta={"id": f"s{i}"})
            write_midi(piece, run / "samples" / f"sample_{i:03d}.mid")
        append_row({"run_id": model, "model": model, "dataset": "fixture", "preset": "smoke",
                    "view": "melody", "seed": 0, "metrics": {}, "folder": str(run)}, store)
    return store


def tone(path: Path, pitch_hz: float, seconds: float = 4.0, rate: int = 8000) -> Path:
    """A short sine tone as a WAV file (stand-in audio)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * pitch_hz * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def fake_study(folder: Path, db_url: str, seed: int = 0):
    """A study of :func:`make_results`'s runs whose audio is a tone per clip."""
    from musebench.arena.app import Study
    from musebench.arena.db import VoteStore
    from musebench.arena.pairs import PairSampler
    from musebench.arena.systems import study_systems
    from musebench.leaderboard.store import read_rows

    systems = study_systems(read_rows(make_results(folder)), folder / "arena")
    clips = [clip for system in systems for clip in system.clips]
    audio = {clip.key: tone(folder / f"{clip.key}.wav", 220 + 20 * i)
             for i, clip in enumerate(clips)}
    return Study(systems, PairSampler(systems, "random", 0.1, seed), audio, VoteStore(db_url))


if __name__ == "__main__":
    from musebench.arena.serve import serve

    serve(fake_study(Path(sys.argv[1]), sys.argv[2]), port=int(sys.argv[3]))
