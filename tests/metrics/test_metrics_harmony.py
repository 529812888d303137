"""Harmony metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.metrics import harmony
from musebench.metrics.batch import NoteBatch

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def scale_over_c_and_g() -> Piece:
    """C-major scale in quarters; C major chord in bar 1, G major in bar 2."""
    return Piece(make_notes(np.arange(8) * 4, 4, C_MAJOR),
                 chords=make_chords([(0, 16, 0, "maj"), (16, 16, 7, "maj")]), key=(0, "major"))


def conformance(piece: Piece) -> tuple[float, float, float]:
    b = NoteBatch.from_pieces([piece])
    c = harmony.ChordBatch.from_pieces([piece])
    return (harmony.chord_conformance_notes(b, c)[0], harmony.chord_conformance_duration(b, c)[0],
            harmony.chord_tone_ratio(b, c)[0])


def test_chord_conformance_counts_only_chord_tones():
    # C chord: C, E are chord tones (D, F not); G chord: G, B (A, high C not): 4 of 8
    notes, duration, _ = conformance(scale_over_c_and_g())
    assert notes == pytest.approx(0.5)
    assert duration == pytest.approx(0.5)


def test_duration_variant_weights_long_chord_tones():
    piece = Piece(make_notes([0, 12], [12, 4], [60, 62]),
                  chords=make_chords([(0, 16, 0, "maj")]))
    notes, duration, _ = conformance(piece)
    assert notes == pytest.approx(0.5)
    assert duration == pytest.approx(12 / 16)


def test_chord_tone_ratio_credits_steps_into_chord_tones():
    # non-chord tones D (-> E), F (-> G), A (-> B) resolve by step; the high C is last
    _, _, ratio = conformance(scale_over_c_and_g())
    assert ratio == pytest.approx((4 + 3) / 8)


def test_notes_without_a_chord_are_left_out():
    piece = Piece(make_notes([0, 20], 4, [60, 61]), chords=make_chords([(0, 16, 0, "min")]))
    notes, _, _ = conformance(piece)
    assert notes == 1.0
    no_chords = Piece(make_notes([0], 4, [60]))
    assert np.isnan(conformance(no_chords)[0])


def test_scale_consistency_of_a_scale_and_a_chromatic_run():
    b = NoteBatch.from_pieces([scale_over_c_and_g(), Piece(make_notes(np.arange(12), 1,
                                                                       60 + np.arange(12)))])
    np.testing.assert_allclose(harmony.scale_consistency(b), [1.0, 7 / 12])
    assert harmony.scale_consistency_36(b)[1] == pytest.approx(7 / 12)


def test_harmonic_minor_counts_only_in_the_36_scale_variant():
    # A harmonic minor: A B C D E F G#
    piece = Piece(make_notes(np.arange(7) * 4, 4, [69, 71, 72, 74, 76, 77, 80]))
    b = NoteBatch.from_pieces([piece])
    assert harmony.scale_consistency(b)[0] == pytest.approx(6 / 7)
    assert harmony.scale_consistency_36(b)[0] == 1.0


def test_in_scale_rate_uses_the_piece_key():
    piece = Piece(make_notes([0, 4], 4, [60, 61]), key=(0, "major"))
    b = NoteBatch.from_pieces([piece, piece])
    rate = harmony.in_scale_rate(b, [(0, "major"), None])
    assert rate[0] == pytest.approx(0.5) and np.isnan(rate[1])
    # D natural minor (D E F G A Bb C) holds C, not C#; a modal key is undefined
    minor = harmony.in_scale_rate(b, [(2, "minor"), (0, "dorian")])
    assert minor[0] == pytest.approx(0.5) and np.isnan(minor[1])


def test_tonal_distance_of_identical_tracks_is_zero_and_fifths_by_hand():
    same = Piece(make_notes(0, 16, [60, 48], track=[0, 1]))
    # C vs G: the fifths circle gives |e^{i 7pi/6 * 7} - 1| ... computed from Phi directly
    fifth = Piece(make_notes(0, 16, [60, 55], track=[0, 1]))
    b = NoteBatch.from_pieces([same, fifth, Piece(make_notes(0, 16, 60))])
    distance = harmony.tonal_distance(b)
    phi = harmony.TONAL_CENTROID
    assert distance[0] == pytest.approx(0.0)
    assert distance[1] == pytest.approx(np.linalg.norm(phi[:, 0] - phi[:, 7]))
    assert np.isnan(distance[2])


def test_tonal_centroid_row_norms_are_harte_radii():
    norms = np.linalg.norm(harmony.TONAL_CENTROID.reshape(3, 2, 12), axis=1)
    np.testing.assert_allclose(norms, [[1] * 12, [1] * 12, [0.5] * 12])
