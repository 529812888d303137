"""The shared Piece container (datasets/piece.py): construction, views, slicing, transposition."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import (
    CHORD_DTYPE,
    Chord,
    Piece,
    make_chords,
    make_notes,
    skyline,
)


def test_make_notes_sorts_by_start_then_pitch() -> None:
    notes = make_notes([4, 0, 0], 2, [60, 67, 64])
    assert notes["start"].tolist() == [0, 0, 4]
    assert notes["pitch"].tolist() == [64, 67, 60]


def test_n_steps_is_the_last_note_end_unless_length_is_set() -> None:
    notes = make_notes([0, 2], [2, 5], [60, 62])
    assert Piece(notes).n_steps == 7
    assert Piece(notes, length=12).n_steps == 12
    assert Piece(make_notes([], [], [])).n_steps == 0


def test_pianoroll_marks_sounding_steps_and_onsets_only_first_steps() -> None:
    piece = Piece(make_notes([0, 1], [3, 1], [60, 62]), length=4)
    roll = piece.pianoroll(60, 62)
    assert roll.tolist() == [[True, False, False], [True, False, True],
                             [True, False, False], [False, False, False]]
    onsets = piece.onsets(60, 62)
    assert onsets[:, 0].tolist() == [True, False, False, False]
    assert onsets[:, 2].tolist() == [False, True, False, False]


def test_pianoroll_cuts_notes_beyond_length_and_outside_range() -> None:
    piece = Piece(make_notes([0, 2], [10, 1], [20, 60]), length=3)
    roll = piece.pianoroll(21, 108)
    assert roll.shape == (3, 88)
    assert roll.sum() == 1 and roll[2, 60 - 21]


def test_invalid_notes_are_rejected() -> None:
    with pytest.raises(ValueError, match="duration >= 1"):
        Piece(make_notes([0], [0], [60]), meta={"id": "bad"})
    with pytest.raises(TypeError, match="NOTE_DTYPE"):
        Piece(np.zeros(3))
    with pytest.raises(TypeError, match="CHORD_DTYPE"):
        Piece(make_notes([0], [1], [60]), chords=np.zeros(1))


def test_slice_clips_and_rebases_notes_and_chords() -> None:
    piece = Piece(make_notes([0, 6], [8, 4], [60, 64]),
                  chords=make_chords([Chord(0, 8, 0, "maj"), Chord(8, 8, 7, "maj")]),
                  meta={"id": "p"})
    part = piece.slice(4, 12)
    assert part.n_steps == 8
    assert part.notes[["start", "duration", "pitch"]].tolist() == [(0, 4, 60), (2, 4, 64)]
    assert part.chord_list() == [Chord(0, 4, 0, "maj"), Chord(4, 4, 7, "maj")]
    assert part.id == "p@4"


def test_bars_cover_the_piece_in_steps_per_bar_chunks() -> None:
    piece = Piece(make_notes([0, 17], [1, 1], [60, 62]), beats_per_bar=4, steps_per_beat=4)
    bars = piece.bars()
    assert len(bars) == 2
    assert bars[1].notes["start"].tolist() == [1]


def test_transpose_shifts_notes_chords_and_key_and_drops_out_of_range() -> None:
    piece = Piece(make_notes([0, 0], 1, [60, 126]), chords=make_chords([Chord(0, 1, 11, "min")]),
                  key=(11, "minor"))
    up = piece.transpose(3)
    assert up.notes["pitch"].tolist() == [63]
    assert up.chord_list() == [Chord(0, 1, 2, "min")]
    assert up.key == (2, "minor")
    assert piece.notes["pitch"].tolist() == [60, 126]


def test_skyline_keeps_the_top_note_cut_at_the_next_onset() -> None:
    notes = make_notes([0, 0, 2], [4, 4, 2], [60, 67, 64])
    top = skyline(notes)
    assert top[["start", "duration", "pitch"]].tolist() == [(0, 2, 67), (2, 2, 64)]


def test_melody_uses_the_marked_track_when_there_is_one() -> None:
    notes = make_notes([0, 0], 4, [60, 72], track=[0, 1])
    assert Piece(notes, meta={"melody_track": 0}).melody().notes["pitch"].tolist() == [60]
    assert Piece(notes).melody().notes["pitch"].tolist() == [72]


def test_chord_label_and_pitch_classes() -> None:
    chord = Chord(0, 4, 9, "min")
    assert chord.label == "A:min"
    assert chord.pitch_classes() == (9, 0, 4)
    assert make_chords([]).dtype == CHORD_DTYPE
