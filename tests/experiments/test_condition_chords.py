"""Every row is scored against the conditioning piece's own chords (issue #11, item 2).

The conditioning piece has per-beat chords that change mid-bar, of several qualities:

    bar 1: C major (beats 1-2), F major (beats 3-4)
    bar 2: B diminished (beats 1-2), A minor (beats 3-4)

MidiNet's codec keeps one chord per bar, the one at the bar's first step, as a triad
(diminished reads as major): C major for bar 1, B major for bar 2.
"""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.experiments.conditions import condition_chords, with_condition_chords
from musebench.experiments.scoring import score_in_view
from musebench.models.midinet import MidiNetCodec

OWN_CHORDS = make_chords([(0, 8, 0, "maj"), (8, 8, 5, "maj"), (16, 8, 11, "dim"), (24, 8, 9, "min")])
REBUILT_TRIADS = make_chords([(0, 16, 0, "maj"), (16, 16, 11, "maj")])
#: One note per beat, each a tone of the chord sounding then: C E | F A | B D | A C.
CHORD_TONE_MELODY = [60, 64, 65, 69, 71, 74, 69, 72]
#: One note per beat from the rebuilt triads: C E G E (C major) | B D# F# D# (B major).
#: Against the own chords: C, E ok; G, E over F major no; B ok, D# over B dim no; F#, D#
#: over A minor no: 3 of 8 = 0.375.
TRIAD_TONE_MELODY = [60, 64, 67, 64, 71, 75, 78, 75]


def melody(pitches: list[int], **meta: object) -> Piece:
    return Piece(make_notes(np.arange(8) * 4, 4, pitches), length=32, meta=dict(meta))


@pytest.fixture
def condition() -> Piece:
    return Piece(make_notes(np.arange(8) * 4, 4, CHORD_TONE_MELODY), chords=OWN_CHORDS,
                 length=32, meta={"id": "cond"})


def conformance(samples: list[Piece], condition: Piece) -> float:
    scored = with_condition_chords(samples, [condition])
    return score_in_view(scored, [condition], [condition], "melody", n_boot=10)[
        "chord_conformance_notes"]


def test_midinet_codec_rebuilds_one_triad_per_bar(condition: Piece) -> None:
    codec = MidiNetCodec()
    rebuilt = codec.decode(codec.encode(condition)).chords
    np.testing.assert_array_equal(rebuilt, REBUILT_TRIADS)


def test_chord_tone_melody_scores_one(condition: Piece) -> None:
    assert conformance([melody(CHORD_TONE_MELODY)], condition) == pytest.approx(1.0)


def test_triad_tone_melody_scores_the_hand_computed_value(condition: Piece) -> None:
    assert conformance([melody(TRIAD_TONE_MELODY)], condition) == pytest.approx(3 / 8)


def test_midinet_sample_is_scored_against_the_own_chords(condition: Piece) -> None:
    """A MidiNet-decoded sample carries the rebuilt triads; against them the chord-tone
    melody would score C E | F✗ A✗ | B D✗ | A✗ C✗ = 3/8. Re-chorded, it scores 1."""
    codec = MidiNetCodec()
    sample = codec.decode(codec.encode(melody(CHORD_TONE_MELODY)) | {
        "chord": codec.encode(condition)["chord"]})
    np.testing.assert_array_equal(sample.chords, REBUILT_TRIADS)
    as_decoded = score_in_view([sample], [condition], [condition], "melody", n_boot=10)
    assert as_decoded["chord_conformance_notes"] == pytest.approx(3 / 8)
    assert conformance([sample], condition) == pytest.approx(1.0)


def test_chords_follow_the_sample_grid_and_repeat(condition: Piece) -> None:
    chords = condition_chords(condition, steps_per_beat=2, n_steps=24)
    assert chords["start"].tolist() == [0, 4, 8, 12, 16, 20]
    assert chords["duration"].tolist() == [4, 4, 4, 4, 4, 4]
    assert chords["root"].tolist() == [0, 5, 11, 9, 0, 5]


def test_samples_cycle_the_conditions_in_order(condition: Piece) -> None:
    other = Piece(condition.notes, chords=make_chords([(0, 32, 2, "min")]), length=32,
                  meta={"id": "other"})
    out = with_condition_chords([melody(CHORD_TONE_MELODY)] * 3, [condition, other])
    assert [p.meta["chords_from"] for p in out] == ["cond", "other", "cond"]
    assert all("condition" not in p.meta for p in out)
    np.testing.assert_array_equal(out[1].chords, other.chords)
