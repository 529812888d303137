"""Rhythm and texture metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import rhythm
from musebench.metrics.batch import NoteBatch


def batch(*pieces: Piece) -> NoteBatch:
    return NoteBatch.from_pieces(list(pieces))


def test_empty_bar_rate_counts_bars_without_sound():
    # a whole note in bar 1, bars 2 and 3 empty, a quarter in bar 4
    piece = Piece(make_notes([0, 48], [16, 4], [60, 62]))
    assert rhythm.empty_bar_rate(batch(piece))[0] == pytest.approx(2 / 4)


def test_sustained_note_fills_every_beat_it_sounds_in():
    # a half note then silence: 2 of 4 beats empty
    piece = Piece(make_notes(0, 8, 60), length=16)
    assert rhythm.empty_beat_rate(batch(piece))[0] == pytest.approx(0.5)
    assert rhythm.empty_bar_rate(batch(piece))[0] == 0


def test_all_rests_is_fully_empty_and_zero_length_is_undefined():
    rests = Piece(make_notes([], [], []), length=32)
    assert rhythm.empty_bar_rate(batch(rests))[0] == 1
    assert rhythm.empty_beat_rate(batch(rests))[0] == 1
    nothing = Piece(make_notes([], [], []))
    assert np.isnan(rhythm.empty_bar_rate(batch(nothing))[0])
    assert np.isnan(rhythm.polyphony(batch(nothing))[0])


def test_groove_consistency_of_a_repeated_bar_is_one():
    starts = np.r_[np.arange(4) * 4, 16 + np.arange(4) * 4]
    assert rhythm.groove_consistency(batch(Piece(make_notes(starts, 4, 60))))[0] == 1


def test_groove_consistency_counts_hamming_distance():
    # bar 1 onsets at 0, 4, 8, 12; bar 2 only at 0: distance 3 over 16 positions
    piece = Piece(make_notes([0, 4, 8, 12, 16], 4, 60), length=32)
    assert rhythm.groove_consistency(batch(piece))[0] == pytest.approx(1 - 3 / 16)
    assert np.isnan(rhythm.groove_consistency(batch(Piece(make_notes(0, 4, 60))))[0])


def test_qualified_note_rate_uses_a_32nd_note_threshold():
    piece = Piece(make_notes([0, 8], [1, 4], [60, 62]), steps_per_beat=8)
    # a 32nd note is one step at 8 steps per beat: both qualify
    assert rhythm.qualified_note_rate(batch(piece))[0] == 1
    assert rhythm.qualified_note_rate(batch(piece), min_beats=0.25)[0] == pytest.approx(0.5)


def test_note_density_and_inter_onset_intervals():
    # onsets 0, 0, 4, 12 (two notes at 0): 4 notes in 1 bar; IOIs 1 and 2 beats
    piece = Piece(make_notes([0, 0, 4, 12], 4, [60, 64, 62, 65]))
    b = batch(piece)
    assert rhythm.note_density(b)[0] == 4
    assert rhythm.ioi_mean(b)[0] == pytest.approx(1.5)
    assert rhythm.ioi_std(b)[0] == pytest.approx(0.5)


def test_note_length_histogram_classes():
    piece = Piece(make_notes([0, 16, 24], [16, 8, 6], [60, 62, 64]))
    hist = rhythm.note_length_histogram(batch(piece))[0]
    # whole, half, dotted quarter
    assert hist[0] == hist[1] == hist[6] == pytest.approx(1 / 3)


def test_polyphony_of_a_sustained_triad():
    piece = Piece(make_notes(0, 16, [60, 64, 67]), length=32)
    b = batch(piece)
    assert rhythm.polyphony(b)[0] == 3
    assert rhythm.polyphony_rate(b)[0] == pytest.approx(0.5)


def test_unison_in_two_tracks_sounds_as_one_pitch():
    piece = Piece(make_notes([0, 2], [4, 4], [60, 60], track=[0, 1]))
    b = batch(piece)
    # pitch 60 sounds for steps 0..5 once: polyphony 1, never two pitches at once
    assert rhythm.polyphony(b)[0] == 1
    assert rhythm.polyphony_rate(b)[0] == 0


def test_repetitions_of_a_melody_played_twice():
    # C D E C D E: bigrams CD DE EC CD DE -> 2 repeats; trigrams CDE DEC ECD CDE -> 1
    piece = Piece(make_notes(np.arange(6) * 4, 4, [60, 62, 64, 60, 62, 64]))
    b = batch(piece)
    assert rhythm.repetitions(b, 2)[0] == 2
    assert rhythm.repetitions(b, 3)[0] == 1
    assert rhythm.repetitions(b, 4)[0] == 0
    assert rhythm.repetitions(batch(Piece(make_notes(0, 4, 60))), 2)[0] == 0


def test_repetitions_do_not_cross_pieces():
    a = Piece(make_notes([0, 4], 4, [60, 62]))
    assert rhythm.repetitions(batch(a, a), 2).tolist() == [0, 0]
    with pytest.raises(ValueError, match="n must be"):
        rhythm.repetitions(batch(a), 10)


def test_notes_beyond_the_grid_are_cut_at_the_piece_length():
    # length 8: the note at step 8 is dropped and the one crossing the end is cut
    piece = Piece(make_notes([0, 6, 8], [2, 10, 4], [60, 62, 64]), length=8)
    b = batch(piece)
    assert b.duration.tolist() == [2, 2]
    assert rhythm.note_density(b)[0] == 2
    assert rhythm.empty_beat_rate(b)[0] == pytest.approx(0.0)
    assert rhythm.polyphony_rate(b)[0] == 0
