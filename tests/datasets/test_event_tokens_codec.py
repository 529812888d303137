"""Event-token codec (datasets/codecs/event_tokens.py): hand-encoded tokens, round trips on
the fixture and on real jsb pieces, and the per-event -> per-time-step conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.event_tokens import (
    NOTE_OFF,
    NOTE_ON,
    START,
    TIME_SHIFT,
    EventTokenCodec,
    events_to_steps,
    rank_within,
)
from musebench.datasets.piece import Piece, make_notes


def note_key(notes: np.ndarray) -> np.ndarray:
    return np.sort(notes[["start", "duration", "pitch", "velocity"]])


def test_a_small_piece_encodes_to_the_hand_written_tokens():
    codec = EventTokenCodec(max_shift=4, velocity_bins=128)
    piece = Piece(make_notes([0, 0, 2, 9], [2, 5, 1, 3], [60, 64, 60, 67], [80, 90, 80, 70]),
                  length=14)
    vel = codec.velocity_offset
    on, off = NOTE_ON, NOTE_OFF
    shift = TIME_SHIFT - 1  # shift + k = TIME_SHIFT(k)
    expected = [START, vel + 80, on + 60, vel + 90, on + 64, shift + 2,  # t=0
                off + 60, vel + 80, on + 60, shift + 1,                  # t=2: re-struck C
                off + 60, shift + 2, off + 64, shift + 4,                 # t=3, t=5
                vel + 70, on + 67, shift + 3, off + 67, shift + 2]         # t=9, t=12, end 14
    encoded = codec.encode(piece)
    assert encoded["tokens"].tolist() == expected
    assert encoded["step"].tolist() == [0] * 6 + [2] * 4 + [3, 3, 5, 5, 9, 9, 9, 12, 12]
    assert encoded["until"][-1] == 14
    decoded = codec.decode(encoded)
    assert np.array_equal(note_key(decoded.notes), note_key(piece.notes))
    assert decoded.n_steps == 14


def test_velocity_bins_and_long_gaps():
    codec = EventTokenCodec(max_shift=8, velocity_bins=32)
    piece = Piece(make_notes([0, 30], [1, 2], [60, 62], [81, 100]), length=32)
    tokens = codec.encode(piece)["tokens"]
    shifts = codec.shift_of(tokens)
    assert shifts.sum() == 32 and shifts.max() == 8
    decoded = codec.decode({"tokens": tokens})
    assert decoded.notes["velocity"].tolist() == [80, 100]  # 81 -> bin 20 -> 80
    assert decoded.notes["start"].tolist() == [0, 30]


def test_decoding_tolerates_unpaired_events():
    codec = EventTokenCodec(max_shift=4)
    tokens = np.array([START, NOTE_OFF + 50, NOTE_ON + 60, TIME_SHIFT + 1, NOTE_ON + 62,
                       TIME_SHIFT, NOTE_OFF + 62])
    piece = codec.decode({"tokens": tokens})
    # the open C runs to the end (step 3); D lasts 1 step; the stray note-off is ignored
    assert sorted(zip(piece.notes["pitch"].tolist(), piece.notes["start"].tolist(),
                      piece.notes["duration"].tolist(), strict=True)) == [(60, 0, 3), (62, 2, 1)]


def test_rank_within():
    assert rank_within(np.array([5, 3, 5, 5, 3])).tolist() == [0, 0, 1, 2, 1]


def test_round_trip_on_the_fixture(session_cache: Path):
    from musebench.datasets.sources.fixture import Fixture

    codec = EventTokenCodec(velocity_bins=128)
    pieces = [p for p in Fixture().read(None) if isinstance(p, Piece)]
    assert pieces
    for piece in pieces:
        decoded = codec.decode(codec.encode(piece))
        assert np.array_equal(note_key(decoded.notes), note_key(piece.notes)), piece.meta


def test_round_trip_on_real_jsb_pieces(data_root: Path):
    from musebench.datasets.sources.boulanger import JSBChorales

    codec = EventTokenCodec()
    pieces = [p for p in JSBChorales().read(data_root) if isinstance(p, Piece)]
    assert len(pieces) > 300
    for piece in pieces:
        encoded = codec.encode(piece)
        assert int(encoded["until"][-1]) == piece.n_steps
        decoded = codec.decode(encoded)
        assert np.array_equal(note_key(decoded.notes), note_key(piece.notes)), piece.meta
        assert decoded.n_steps == piece.n_steps


def test_events_to_steps_sums_events_onto_their_steps():
    log_prob = torch.tensor([[-1.0, -2.0, -0.5, -0.25, -3.0], [-1.0, -1.0, 0.0, 0.0, 0.0]])
    # piece 0: two events at step 0, a 2-step shift from 0, an event at 2, a shift from 2
    step = torch.tensor([[0, 0, 0, 2, 2], [0, 0, 0, 0, 0]])
    until = torch.tensor([[0, 0, 2, 2, 3], [0, 1, 0, 0, 0]])
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    per_step, step_mask = events_to_steps(log_prob, step, until, mask)
    assert per_step.tolist() == [[-3.5, 0.0, -3.25], [-2.0, 0.0, 0.0]]
    assert step_mask.tolist() == [[True, True, True], [True, False, False]]
    torch.testing.assert_close((per_step * step_mask).sum(1), (log_prob * mask).sum(1))


def test_events_after_the_last_shift_count_whatever_the_batch():
    """A sequence's closing events (after its last time shift: note-offs at its final step)
    count on its last step, alone or beside a longer sequence. Before, they landed past the
    shorter one's mask and were dropped, so a piece's test figure depended on its batch."""
    # one 2-step shift from step 0, then two note-offs at step 2 (= its number of steps)
    short = (torch.tensor([-1.0, -0.5, -0.25]), torch.tensor([0, 2, 2]), torch.tensor([2, 2, 2]))
    alone, _ = events_to_steps(short[0][None], short[1][None], short[2][None],
                               torch.ones(1, 3, dtype=torch.bool))
    assert alone.tolist() == [[-1.0, -0.75]]
    batched, mask = events_to_steps(
        torch.stack([short[0], torch.tensor([-2.0, -2.0, -2.0])]),
        torch.stack([short[1], torch.tensor([0, 0, 4])]),
        torch.stack([short[2], torch.tensor([0, 4, 5])]), torch.ones(2, 3, dtype=torch.bool))
    assert batched[0].tolist() == [-1.0, -0.75, 0.0, 0.0, 0.0]
    assert mask.tolist() == [[True, True, False, False, False], [True] * 5]
    assert (batched * mask).sum(1).tolist() == [-1.75, -6.0]


def test_events_to_steps_of_a_window_counts_from_its_first_token():
    per_step, mask = events_to_steps(torch.tensor([[-1.0, -1.0]]), torch.tensor([[5, 5]]),
                                     torch.tensor([[5, 7]]), torch.tensor([[True, True]]))
    assert per_step.tolist() == [[-2.0, 0.0]] and mask.tolist() == [[True, True]]


def test_bad_codec_options_are_clear_errors():
    with pytest.raises(ValueError, match="velocity_bins"):
        EventTokenCodec(velocity_bins=0)
