"""MuseGAN's multi-track metrics (EB, UPC, QN, TD) on a four-track piece worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.datasets.piece import Piece, make_notes
from musebench.metrics import multitrack, per_piece, score
from musebench.metrics.batch import NoteBatch


def four_tracks() -> Piece:
    """Two 4/4 bars on a 16th grid (4 steps a beat), SATB:

    - soprano (0): C5, E5 quarters and a G5 eighth in bar 0; bar 1 silent;
    - alto (1): bar 0 silent; G4 for the whole of bar 1;
    - tenor (2): one C4 held across both bars (never an empty bar);
    - bass (3): C3 and C#3 sixteenths on beat 0 of bar 0; bar 1 silent.
    """
    notes = make_notes(start=[0, 4, 8, 16, 0, 0, 1], duration=[4, 4, 2, 16, 32, 1, 1],
                       pitch=[72, 76, 79, 67, 60, 48, 49], track=[0, 0, 0, 1, 2, 3, 3])
    return Piece(notes, length=32, meta={"id": "satb", "track_names": ["S", "A", "T", "B"]})


def centroid(chroma: dict[int, float]) -> np.ndarray:
    """Harte's 6-d tonal centroid of a chroma written out from its definition: the
    fifths, minor-thirds and major-thirds circles (radii 1, 1, 0.5), L1-normalised."""
    total = sum(chroma.values())
    out = np.zeros(6)
    for pc, weight in chroma.items():
        out += weight / total * np.array([
            np.sin(pc * 7 * np.pi / 6), np.cos(pc * 7 * np.pi / 6),
            np.sin(pc * 3 * np.pi / 2), np.cos(pc * 3 * np.pi / 2),
            0.5 * np.sin(pc * 2 * np.pi / 3), 0.5 * np.cos(pc * 2 * np.pi / 3)])
    return out


def test_eb_upc_qn_td_equal_hand_computed_values():
    figures = multitrack.multitrack_metrics(NoteBatch.from_pieces([four_tracks()]), 4)
    # EB counts EMPTY bars: soprano, alto and bass are silent in one bar of two, the tenor
    # never. The non-empty rate (MuseGAN code's reduce_any) would give 0.5, 0.5, 1, 0.5.
    assert [figures[f"eb_track{k}"][0] for k in range(4)] == [0.5, 0.5, 0.0, 0.5]
    assert figures["eb_tracks"][0] == pytest.approx(1.5 / 4)
    # UPC over non-empty bars: {C, E, G}; {G}; {C} in both bars; {C, C#}
    assert [figures[f"upc_track{k}"][0] for k in range(4)] == [3.0, 1.0, 1.0, 2.0]
    # QN, notes of >= 3 steps: 2 of 3 (the eighth is 2 steps); 1 of 1; 1 of 1; 0 of 2
    np.testing.assert_allclose([figures[f"qn_track{k}"][0] for k in range(4)],
                               [2 / 3, 1.0, 1.0, 0.0])
    # TD per beat where both tracks sound (C=0, C#=1, E=4, G=7):
    c, e, g = centroid({0: 1}), centroid({4: 1}), centroid({7: 1})
    c_and_csharp = centroid({0: 1, 1: 1})
    expected = {
        "td_track0_1": np.nan,                              # never together
        "td_track0_2": np.mean([0.0, np.linalg.norm(e - c), np.linalg.norm(g - c)]),
        "td_track0_3": np.linalg.norm(c - c_and_csharp),    # beat 0 only
        "td_track1_2": np.linalg.norm(g - c),               # four beats of G against C
        "td_track1_3": np.nan,
        "td_track2_3": np.linalg.norm(c - c_and_csharp),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(figures[name][0], value, err_msg=name)
    defined = [v for v in expected.values() if not np.isnan(v)]
    assert figures["td_tracks"][0] == pytest.approx(np.mean(defined))
    # G against C: fifths pi/6 apart, minor thirds pi/2, major thirds 2pi/3 (radius 0.5)
    assert np.linalg.norm(g - c) == pytest.approx(np.sqrt(
        (2 * np.sin(np.pi / 12)) ** 2 + 2 + (2 * 0.5 * np.sin(np.pi / 3)) ** 2))


def test_a_track_a_model_never_writes_is_all_empty_bars_by_its_name():
    piece = Piece(make_notes([0, 0], 16, [60, 48], track=[0, 1]), length=16,
                  meta={"track_names": ["S", "A", "T", "B"]})
    assert multitrack.n_tracks([piece]) == 4
    figures = multitrack.multitrack_metrics(NoteBatch.from_pieces([piece]), 4)
    assert figures["eb_track3"][0] == 1.0 and np.isnan(figures["upc_track3"][0])
    assert np.isnan(figures["qn_track3"][0]) and np.isnan(figures["td_track0_3"][0])


def test_melody_view_pieces_are_single_track_whatever_their_track_names():
    melody = four_tracks().melody()       # track 0's notes, the four track names kept
    assert melody.meta["track_names"] == ["S", "A", "T", "B"]
    assert multitrack.n_tracks([melody, melody]) == 1
    alto_only = Piece(make_notes([0], 4, [60], track=1), meta={"track_names": ["S", "A"]})
    assert multitrack.n_tracks([melody, alto_only]) == 1   # one track per piece
    assert multitrack.n_tracks([melody, four_tracks()]) == 4
    row = score([melody, melody], [melody], n_boot=10)
    assert not [k for k in row if k.startswith(("eb_", "upc_", "qn_", "td_"))]


def test_single_track_sets_get_no_multitrack_figures():
    mono = Piece(make_notes([0, 4], 4, [60, 62]), length=16)
    assert multitrack.multitrack_metrics(NoteBatch.from_pieces([mono]), 1) == {}
    row = score([mono, mono], [mono], n_boot=10)
    assert not [k for k in row if k.startswith(("eb_", "upc_", "qn_", "td_"))]


def test_the_scorer_reports_per_track_figures_with_intervals():
    piece = four_tracks()
    row = score([piece, piece], [piece], n_boot=10)
    assert row["eb_track2"] == 0.0 and row["eb_track0"] == 0.5
    assert row["upc_track0"] == 3.0 and row["upc_track0_ci_low"] == 3.0
    assert row["td_track0_1_undefined"] == 2.0
    assert "td_track1_2" in per_piece([piece])


def test_a_note_across_beats_and_bars_is_split_exactly():
    # one note of 20 steps from step 2: beats 0..5 hold 2, 4, 4, 4, 4, 2 steps of it
    batch = NoteBatch.from_pieces([Piece(make_notes(2, 20, 60), length=32)])
    beats, piece = multitrack.chroma(batch, 1, batch.steps_per_beat)
    assert beats[:, 0, 0].tolist() == [2, 4, 4, 4, 4, 2, 0, 0]
    assert piece.tolist() == [0] * 8
