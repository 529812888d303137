"""Pitch metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import pitch
from musebench.metrics.batch import NoteBatch

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def batch(*pieces: Piece) -> NoteBatch:
    return NoteBatch.from_pieces(list(pieces))


def scale() -> Piece:
    """C major scale, one quarter note each (8 notes, 2 bars)."""
    return Piece(make_notes(np.arange(8) * 4, 4, C_MAJOR))


def triad() -> Piece:
    """C major triad sustained for one bar."""
    return Piece(make_notes(0, 16, [60, 64, 67]))


def empty() -> Piece:
    return Piece(make_notes([], [], []), length=16)


def test_pitch_entropy_of_eight_distinct_pitches_is_three_bits():
    assert pitch.pitch_entropy(batch(scale()))[0] == pytest.approx(3.0)


def test_pitch_class_entropy_counts_the_octave_twice():
    # 7 classes, C twice: -(2/8 log2 2/8 + 6 * 1/8 log2 1/8) = 0.5 + 2.25 = 2.75 bits
    assert pitch.pitch_class_entropy(batch(scale()))[0] == pytest.approx(2.75)


def test_triad_entropy_is_log2_three():
    assert pitch.pitch_entropy(batch(triad()))[0] == pytest.approx(np.log2(3))


def test_weighted_entropy_weights_by_duration():
    # C for 12 steps, G for 4 steps: p = (3/4, 1/4)
    piece = Piece(make_notes([0, 12], [12, 4], [60, 67]))
    expected = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert pitch.pitch_entropy_weighted(batch(piece))[0] == pytest.approx(expected)
    assert pitch.pitch_entropy(batch(piece))[0] == pytest.approx(1.0)
    assert pitch.pitch_class_entropy_weighted(batch(piece))[0] == pytest.approx(expected)


def test_range_and_counts_of_the_scale():
    b = batch(scale())
    assert pitch.pitch_range(b)[0] == 12
    assert pitch.pitches_used(b)[0] == 8
    assert pitch.pitch_classes_used(b)[0] == 7


def test_pitch_classes_used_per_bar_averages_bars():
    # bar 1: C D E F (4 classes), bar 2: G A B C (4 classes)
    assert pitch.pitch_classes_used_per_bar(batch(scale()))[0] == pytest.approx(4.0)
    # one bar with the triad, one empty bar: (3 + 0) / 2
    piece = Piece(make_notes(0, 16, [60, 64, 67]), length=32)
    assert pitch.pitch_classes_used_per_bar(batch(piece))[0] == pytest.approx(1.5)


def test_average_interval_of_the_scale():
    # steps 2 2 1 2 2 2 1 = 12 semitones over 7 intervals
    assert pitch.average_pitch_interval(batch(scale()))[0] == pytest.approx(12 / 7)


def test_histogram_and_transitions_sum_to_one():
    b = batch(scale())
    hist = pitch.pitch_class_histogram(b)[0]
    assert hist[0] == pytest.approx(0.25) and hist.sum() == pytest.approx(1)
    matrix = pitch.pitch_class_transition_matrix(b)[0].reshape(12, 12)
    assert matrix[0, 2] == pytest.approx(1 / 7) and matrix[11, 0] == pytest.approx(1 / 7)
    assert matrix.sum() == pytest.approx(1)


def test_empty_piece_is_undefined_not_zero_for_entropy_and_range():
    b = batch(empty())
    assert np.isnan(pitch.pitch_entropy(b)[0])
    assert np.isnan(pitch.pitch_range(b)[0])
    assert pitch.pitches_used(b)[0] == 0
    assert np.isnan(pitch.pitch_class_histogram(b)).all()


def test_one_note_has_zero_entropy_and_no_interval():
    b = batch(Piece(make_notes(0, 4, 60)))
    assert pitch.pitch_entropy(b)[0] == 0
    assert pitch.pitch_range(b)[0] == 0
    assert np.isnan(pitch.average_pitch_interval(b)[0])


def test_notes_beyond_the_grid_are_cut():
    # length 8: the note at step 8 is beyond the grid and does not count
    piece = Piece(make_notes([0, 4, 8], 4, [60, 62, 64]), length=8)
    b = batch(piece)
    assert pitch.pitches_used(b)[0] == 2
    assert pitch.pitch_range(b)[0] == 2


def test_batched_values_equal_one_piece_at_a_time():
    pieces = [scale(), triad(), empty(), Piece(make_notes(0, 4, 60))]
    together = pitch.pitch_entropy(batch(*pieces))
    alone = [pitch.pitch_entropy(batch(p))[0] for p in pieces]
    np.testing.assert_array_equal(together, alone)


def test_a_pitch_outside_midi_range_is_a_clear_error_naming_the_piece():
    notes = make_notes([0], 4, [60])
    notes["pitch"] = 130
    with pytest.raises(ValueError, match="bad-piece: pitch 130"):
        batch(Piece(notes, meta={"id": "bad-piece"}))
