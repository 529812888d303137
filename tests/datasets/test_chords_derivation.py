"""derive_chords: one template-matched chord per beat, gaps where nothing sounds."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.chords import derive_chords, merge_equal_chords, with_derived_chords
from musebench.datasets.piece import CHORD_DTYPE, Piece, make_chords, make_notes


def block_chords(*beats: tuple[int, ...], beat: int = 4) -> Piece:
    """One block chord (all pitches a full beat) per beat; () = a silent beat."""
    starts, pitches = [], []
    for i, pitches_of_beat in enumerate(beats):
        starts += [i * beat] * len(pitches_of_beat)
        pitches += list(pitches_of_beat)
    return Piece(make_notes(starts, beat, pitches), length=len(beats) * beat)


def labels(chords: np.ndarray) -> list[tuple[int, int, str]]:
    piece = Piece(make_notes([], 1, []), chords=chords)
    return [(c.start, c.duration, c.label) for c in piece.chord_list()]


def test_each_triad_quality_and_inversion_is_recognised() -> None:
    piece = block_chords((48, 52, 55), (57, 60, 64), (59, 62, 65), (60, 64, 68), (52, 55, 60))
    assert labels(derive_chords(piece)) == [
        (0, 4, "C:maj"), (4, 4, "A:min"), (8, 4, "B:dim"), (12, 4, "C:aug"), (16, 4, "C:maj")]


def test_silent_beat_gets_no_chord_and_single_pitch_is_other() -> None:
    piece = block_chords((48, 52, 55), (), (50, 62))
    assert labels(derive_chords(piece)) == [(0, 4, "C:maj"), (8, 4, "D:other")]


def test_passing_note_weighs_by_duration() -> None:
    # C major beat whose top voice moves E (3 steps) -> F (1 step): still C major.
    notes = make_notes([0, 0, 0, 3], [4, 4, 3, 1], [48, 55, 64, 65])
    assert labels(derive_chords(Piece(notes))) == [(0, 4, "C:maj")]


def test_bass_breaks_the_tie_between_relative_triads() -> None:
    # A C E G: A minor and C major fit equally well; the bass decides.
    assert labels(derive_chords(block_chords((45, 60, 64, 67)))) == [(0, 4, "A:min")]
    assert labels(derive_chords(block_chords((48, 57, 64, 67)))) == [(0, 4, "C:maj")]


def test_window_length_and_merge() -> None:
    two_beat = block_chords((48, 52, 55), (48, 52, 55), (53, 57, 60), (53, 57, 60))
    assert labels(derive_chords(two_beat, steps_per_chord=8)) == [
        (0, 8, "C:maj"), (8, 8, "F:maj")]
    piece = block_chords((48, 52, 55), (48, 52, 55), (53, 57, 60), (48, 52, 55))
    assert labels(derive_chords(piece, merge=True)) == [
        (0, 8, "C:maj"), (8, 4, "F:maj"), (12, 4, "C:maj")]


def test_last_window_is_cut_at_the_piece_end() -> None:
    piece = Piece(make_notes([0], 6, [60]))
    assert labels(derive_chords(piece)) == [(0, 4, "C:other"), (4, 2, "C:other")]


def test_merge_keeps_gaps_apart() -> None:
    chords = make_chords([(0, 4, 0, "maj"), (8, 4, 0, "maj"), (12, 4, 0, "maj")])
    assert labels(merge_equal_chords(chords)) == [(0, 4, "C:maj"), (8, 8, "C:maj")]


def test_empty_piece_and_bad_window() -> None:
    empty = Piece(make_notes([], 1, []))
    assert derive_chords(empty).dtype == CHORD_DTYPE and len(derive_chords(empty)) == 0
    with pytest.raises(ValueError, match="steps_per_chord"):
        derive_chords(block_chords((60,)), steps_per_chord=-1)


def test_with_derived_chords_returns_a_copy_with_chords() -> None:
    piece = block_chords((48, 52, 55))
    derived = with_derived_chords(piece)
    assert len(piece.chords) == 0 and labels(derived.chords) == [(0, 4, "C:maj")]
    assert derived.meta["chords_derived"] is True and derived.notes is piece.notes
