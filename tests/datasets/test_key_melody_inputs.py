"""Magenta's KeyMelodyEncoderDecoder inputs (attention_rnn) on a hand-made melody."""

from __future__ import annotations

import numpy as np

from musebench.datasets.codecs.key_melody import key_input_size, key_melody_inputs
from musebench.datasets.codecs.melody_events import NO_EVENT, NOTE_OFF, MelodyEventCodec
from musebench.datasets.piece import Piece, make_notes

# offsets in the 74-value vector of 36 pitches, 2 distances, 7 counter bits
SOUNDING, SILENCE, ATTACK, DIRECTION = 36, 37, 38, 39
REPEATS, COUNTER, BAR_START, KEYS, RECENT_KEYS = 40, 42, 49, 50, 62


def on(pitch: int) -> int:
    return pitch - 48 + 2


def inputs(events: list[int]) -> np.ndarray:
    return key_melody_inputs(np.array([events]), 48, 36, (16, 32), 7)[0]


def test_size_is_magentas_74() -> None:
    assert key_input_size(36, 2, 7) == 74
    assert inputs([NO_EVENT] * 3).shape == (3, 74)


def test_pitch_attack_and_direction_follow_the_melody() -> None:
    # C4, held, NOTE_OFF, rest, E4, D4, D4 again
    x = inputs([on(60), NO_EVENT, NOTE_OFF, NO_EVENT, on(64), on(62), on(62)])
    assert x[0, 60 - 48] == 1 and x[0, SOUNDING] == 1 and x[0, SILENCE] == 0
    assert x[2, :36].sum() == 0 and x[2, SILENCE] == 1  # silence after the NOTE_OFF
    # attack: on at a note-on, off at NO_EVENT, and a NOTE_OFF leaves it as it was
    assert x[:, ATTACK].tolist() == [1, 0, 0, 0, 1, 1, 1]
    # direction: none before a second note, up to E4, down to D4, kept on the repeat
    assert x[:, DIRECTION].tolist() == [0, 0, 0, 0, 1, -1, -1]


def test_counter_bar_start_and_repeat_flags() -> None:
    events = [on(60)] + [NO_EVENT] * 15 + [on(60)] + [NO_EVENT] * 15
    x = inputs(events)
    # the counter codes t + 1: t = 0 -> 1, t = 15 -> 16
    assert x[0, COUNTER:COUNTER + 7].tolist() == [1, -1, -1, -1, -1, -1, -1]
    assert x[15, COUNTER:COUNTER + 7].tolist() == [-1, -1, -1, -1, 1, -1, -1]
    assert np.flatnonzero(x[:, BAR_START]).tolist() == [15, 31]  # the next step starts a bar
    assert x[16:, REPEATS].all() and not x[:16, REPEATS].any()  # bar 2 repeats bar 1
    assert not x[:, REPEATS + 1].any()  # no step is 32 steps in


def test_key_estimates_of_the_history_and_of_the_last_three_pitches() -> None:
    # C E G (keys holding all three: C, F, G major), then F# A (only G major holds C E G F#)
    x = inputs([on(60), on(64), on(67), on(66), on(69)])
    assert np.flatnonzero(x[0, KEYS:KEYS + 12]).tolist() == [0, 1, 3, 5, 7, 8, 10]  # C: 7 keys
    assert np.flatnonzero(x[2, KEYS:KEYS + 12]).tolist() == [0, 5, 7]
    assert np.flatnonzero(x[4, KEYS:KEYS + 12]).tolist() == [7]
    # the last three distinct pitches at step 4 are G F# A: G and D major hold them all
    assert np.flatnonzero(x[4, RECENT_KEYS:RECENT_KEYS + 12]).tolist() == [2, 7]
    silent = inputs([NO_EVENT])
    assert silent[0, KEYS:].tolist() == [1.0] * 24  # no notes: every key ties at zero


def test_the_recent_key_estimate_forgets_all_but_the_last_three_pitches() -> None:
    # C D E F#: the last three are D E F# (D, G and A major hold them); with C, only G major
    x = inputs([on(60), on(62), on(64), on(66)])
    assert np.flatnonzero(x[3, RECENT_KEYS:RECENT_KEYS + 12]).tolist() == [2, 7, 9]
    assert np.flatnonzero(x[3, KEYS:KEYS + 12]).tolist() == [7]


def test_the_codec_gives_the_inputs_of_the_whole_piece() -> None:
    piece = Piece(make_notes([0, 4], 4, [60, 64]), length=8)
    codec = MelodyEventCodec(transpose_to_key=None, lookback_distances=(16, 32),
                             key_inputs=True)
    encoded = codec.encode(piece)
    assert encoded["inputs"].shape == (8, 74)
    np.testing.assert_array_equal(encoded["inputs"], inputs(encoded["events"].tolist()))
