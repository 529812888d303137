"""Written MIDI carries the chords as a quiet track of their own, which reading leaves out."""

from __future__ import annotations

import numpy as np
import symusic

from musebench.datasets.midi import CHORD_TRACK, CHORD_VELOCITY, read_midi, write_midi
from musebench.datasets.piece import Chord, Piece, make_chords, make_notes


def test_chords_are_a_separate_quiet_track_and_reading_ignores_it(tmp_path):
    melody = make_notes(np.arange(8) * 4, 4, [72, 74, 76, 77, 79, 77, 76, 74])
    chords = make_chords([Chord(0, 16, 0, "maj"), Chord(16, 16, 9, "min")])
    path = write_midi(Piece(melody, chords=chords), tmp_path / "s.mid")
    score = symusic.Score(str(path))
    assert [t.name for t in score.tracks] == ["track 0", CHORD_TRACK]
    pad = score.tracks[1].notes.numpy()
    # C major from C3 (48): C E G; A minor from A3 (57): A C E, over steps 0-16 and 16-32
    assert sorted(pad["pitch"][pad["time"] == 0]) == [48, 52, 55]
    assert sorted(pad["pitch"][pad["time"] == 16 * 120]) == [57, 60, 64]
    assert set(pad["duration"]) == {16 * 120} and set(pad["velocity"]) == {CHORD_VELOCITY}
    back = read_midi(path)
    assert np.array_equal(back.notes["pitch"], melody["pitch"])
    assert [c.label for c in back.chord_list()] == ["C:maj", "A:min"]


def test_a_piece_without_chords_has_no_chord_track(tmp_path):
    path = write_midi(Piece(make_notes([0, 4], 4, [60, 62])), tmp_path / "u.mid")
    assert [t.name for t in symusic.Score(str(path)).tracks] == ["track 0"]
