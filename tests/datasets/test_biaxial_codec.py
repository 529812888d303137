"""The biaxial codec: play/articulate encoding, lossless decoding, hand-checked features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.biaxial import BiaxialCodec, states_to_notes
from musebench.datasets.piece import Piece, make_notes


@pytest.fixture
def jsb_pieces(data_root: Path) -> list[Piece]:
    from musebench.datasets.sources.boulanger import JSBChorales

    pieces = [p for p in JSBChorales().read(data_root) if isinstance(p, Piece)]
    assert len(pieces) == 229 + 76 + 77
    return pieces


def restruck_piece() -> Piece:
    # C4 struck twice without a rest, a held E4, a chord, and a note at each range edge.
    return Piece(make_notes([0, 2, 0, 4, 4, 6, 7], [2, 2, 6, 1, 3, 1, 1],
                            [60, 60, 64, 67, 72, 24, 101]))


def test_encode_marks_restruck_notes_as_articulated() -> None:
    codec = BiaxialCodec()
    arrays = codec.encode(restruck_piece())
    column = 60 - codec.lowest
    assert arrays["play"].shape == arrays["articulate"].shape == (8, 78)
    np.testing.assert_array_equal(arrays["play"][:5, column], [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(arrays["articulate"][:5, column], [1, 0, 1, 0, 0])
    np.testing.assert_array_equal(arrays["beat"], np.arange(8))


def test_decode_inverts_encode_on_notes() -> None:
    codec = BiaxialCodec()
    piece = restruck_piece()
    decoded = codec.decode(codec.encode(piece))
    np.testing.assert_array_equal(decoded.notes[["start", "duration", "pitch"]],
                                  piece.notes[["start", "duration", "pitch"]])


def test_notes_outside_the_78_note_range_are_dropped() -> None:
    codec = BiaxialCodec()
    piece = Piece(make_notes([0, 0, 0], 2, [23, 60, 102]))
    decoded = codec.decode(codec.encode(piece))
    assert decoded.notes["pitch"].tolist() == [60]


def test_states_without_articulation_merge_a_held_run_into_one_note() -> None:
    play = np.zeros((5, 2), dtype=bool)
    play[1:4, 1] = True
    notes = states_to_notes(play, np.zeros_like(play), lowest=50)
    assert notes[["start", "duration", "pitch"]].tolist() == [(1, 3, 51)]


def test_round_trip_is_lossless_on_real_jsb_pieces(jsb_pieces: list[Piece]) -> None:
    codec = BiaxialCodec()
    for piece in jsb_pieces[::10]:
        pitches = piece.notes["pitch"]
        assert pitches.min() >= codec.lowest and pitches.max() <= codec.highest, piece.id
        decoded = codec.decode(codec.encode(piece))
        np.testing.assert_array_equal(decoded.pianoroll(), piece.pianoroll(), err_msg=piece.id)
        np.testing.assert_array_equal(decoded.notes[["start", "duration", "pitch"]],
                                      piece.notes[["start", "duration", "pitch"]],
                                      err_msg=piece.id)


def test_note_features_match_a_hand_computation() -> None:
    codec = BiaxialCodec(lowest=60, highest=83)  # 24 notes, C4..B5
    play = torch.zeros(1, 2, 24)
    articulate = torch.zeros(1, 2, 24)
    play[0, 0, [0, 4, 12]] = 1.0  # C4, E4, C5 sound at step 0
    articulate[0, 0, 4] = 1.0     # E4 is struck there
    beat = torch.tensor([[2, 5]])
    features = codec.note_features(play, articulate, beat)
    assert features.shape == (1, 2, 24, codec.n_features) == (1, 2, 24, 79)
    first, second = features[0, 0], features[0, 1]
    # step 0 sees only silence: vicinity and context are zero; beat 2 = bits (0, 1, 0, 0)
    assert first[:, 13:75].abs().sum() == 0
    np.testing.assert_array_equal(first[0, 75:].numpy(), [-1, 1, -1, -1])
    np.testing.assert_array_equal(second[0, 75:].numpy(), [1, -1, 1, -1])
    # note 2 (D4): position and pitch class
    assert second[2, 0] == pytest.approx(2 / 23)
    assert second[2, 1:13].argmax() == 2
    # vicinity of D4 (offsets -12..+12, pairs play/articulate): C4 at -2, E4 at +2, C5 at +10
    vicinity = second[2, 13:63].reshape(25, 2)
    expected = torch.zeros(25, 2)
    expected[12 - 2, 0] = 1
    expected[12 + 2] = torch.tensor([1.0, 1.0])
    expected[12 + 10, 0] = 1
    torch.testing.assert_close(vicinity, expected)
    # context of D4: pitch-class counts C=2, E=1, rotated so index i is pc (2 + i) mod 12
    context = second[2, 63:75]
    assert context[(0 - 2) % 12] == 2 and context[(4 - 2) % 12] == 1 and context.sum() == 3
