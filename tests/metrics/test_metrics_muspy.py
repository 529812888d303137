"""Agreement with muspy on real pieces (muspy is a test-only dependency).

Where our definition deliberately differs (empty-beat rate, groove consistency, polyphony
rate; see ``musebench.metrics.rhythm``), the test pins the documented difference.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import harmony, pitch, rhythm
from musebench.metrics.batch import NoteBatch

muspy = pytest.importorskip("muspy")


def to_muspy(piece: Piece):
    tracks = []
    for track in np.unique(piece.notes["track"]):
        notes = piece.notes[piece.notes["track"] == track]
        tracks.append(muspy.Track(notes=[
            muspy.Note(time=int(n["start"]), pitch=int(n["pitch"]), duration=int(n["duration"]),
                       velocity=int(n["velocity"])) for n in notes]))
    return muspy.Music(resolution=piece.steps_per_beat, tracks=tracks)


def comparable(pieces: list[Piece]) -> list[Piece]:
    """Non-empty pieces measured, like muspy, up to their last note end."""
    return [replace(p, length=None, meta=dict(p.meta)) for p in pieces if len(p.notes)]


@pytest.fixture(scope="module", params=["fixture", pytest.param("jsb", marks=pytest.mark.data)])
def real_pieces(request) -> list[Piece]:
    """The committed Bach excerpts (4 tracks, 16th grid; always) and 40 JSB test pieces
    (Boulanger rolls, quarter grid; with MUSEBENCH_DATA)."""
    from musebench.datasets import load

    if request.param == "fixture":
        return comparable(load("fixture").pieces)
    data_root = request.getfixturevalue("data_root")
    return comparable(load("jsb", data_root=data_root).test[:40])


SAME = {
    "pitch_entropy": (pitch.pitch_entropy, muspy.pitch_entropy),
    "pitch_class_entropy": (pitch.pitch_class_entropy, muspy.pitch_class_entropy),
    "scale_consistency": (harmony.scale_consistency, muspy.scale_consistency),
    "polyphony": (rhythm.polyphony, muspy.polyphony),
    "pitch_range": (pitch.pitch_range, muspy.pitch_range),
    "pitches_used": (pitch.pitches_used, muspy.n_pitches_used),
    "pitch_classes_used": (pitch.pitch_classes_used, muspy.n_pitch_classes_used),
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_agrees_with_muspy_on_real_pieces(real_pieces, name):
    ours, theirs = SAME[name]
    expected = [theirs(to_muspy(p)) for p in real_pieces]
    np.testing.assert_allclose(ours(NoteBatch.from_pieces(real_pieces)), expected, rtol=1e-9)


def test_polyphony_rate_threshold_is_muspys_plus_one(real_pieces):
    ours = rhythm.polyphony_rate(NoteBatch.from_pieces(real_pieces), threshold=2)
    expected = [muspy.polyphony_rate(to_muspy(p), threshold=1) for p in real_pieces]
    np.testing.assert_allclose(ours, expected)


def test_empty_beat_and_bar_rates_are_never_below_muspys(real_pieces):
    # muspy also marks the beat (bar) a note ends on and counts one more at the end
    batch = NoteBatch.from_pieces(real_pieces)
    beats = np.array([muspy.empty_beat_rate(to_muspy(p)) for p in real_pieces])
    bars = np.array([muspy.empty_measure_rate(to_muspy(p), p.steps_per_bar)
                     for p in real_pieces])
    assert np.all(rhythm.empty_beat_rate(batch) >= beats - 1e-12)
    assert np.all(rhythm.empty_bar_rate(batch) >= bars - 1e-12)


def test_groove_consistency_differs_only_by_muspys_extra_bar(real_pieces):
    batch = NoteBatch.from_pieces(real_pieces)
    ours = rhythm.groove_consistency(batch)
    for value, piece in zip(ours, real_pieces, strict=True):
        q = piece.steps_per_bar
        theirs = muspy.groove_consistency(to_muspy(piece), q)
        bars = piece.n_bars
        if piece.n_steps % q:  # same bars: same value
            assert value == pytest.approx(theirs)
        else:  # muspy adds an empty bar after the end and compares the last bar with it
            last = len(np.unique(piece.notes["start"][piece.notes["start"] >= (bars - 1) * q]))
            hamming = (1 - value) * q * (bars - 1)
            assert theirs == pytest.approx(1 - (hamming + last) / (q * bars))


def test_empty_beat_rate_difference_by_hand():
    # notes on beats 0 and 2, beat 1 silent; muspy marks beat 1 (a note ends on it) and
    # counts a 4th beat, so it reports 0 where we report 1/3
    piece = Piece(make_notes([0, 8], 4, [60, 62]))
    assert rhythm.empty_beat_rate(NoteBatch.from_pieces([piece]))[0] == pytest.approx(1 / 3)
    assert muspy.empty_beat_rate(to_muspy(piece)) == 0
