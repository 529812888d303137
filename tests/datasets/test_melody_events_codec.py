"""Magenta's melody event codec: events, squash, lookback features and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.codecs.melody_events import (
    NO_EVENT,
    NOTE_OFF,
    MelodyEventCodec,
    binary_counter,
    class_events,
)
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources.music21_corpus import chorale_files, parse_chorale

FIELDS = ["start", "duration", "pitch"]


def on(pitch: int, low: int = 48) -> int:
    """The note-on class of ``pitch`` in a range starting at ``low``."""
    return pitch - low + 2


def test_events_mark_note_on_note_off_and_held_steps() -> None:
    # C4 for 2 steps, a 2-step rest, E4 for 4 steps, G4 right after it to the piece's end
    piece = Piece(make_notes([0, 4, 8], [2, 4, 4], [60, 64, 67]), length=12)
    encoded = MelodyEventCodec(transpose_to_key=None).encode(piece)
    assert encoded["events"].tolist() == [on(60), 0, NOTE_OFF, 0, on(64), 0, 0, 0,
                                          on(67), 0, 0, 0]
    assert encoded["labels"].tolist() == encoded["events"].tolist()  # no lookback: the events
    assert encoded["lookback"].shape == (12, 0) and int(encoded["transpose"]) == 0


def test_squash_moves_a_g_major_melody_to_c_centred_in_the_range() -> None:
    # G A B C F# D: only G major holds all six (C and D major hold five) -> key 7, shift -7;
    # centre (66 + 74) / 2 = 70, target (48 + 84 - 1) / 2 = 65.5: 65.5 - 63 = 2.5 -> 0 octaves
    piece = Piece(make_notes([0, 4, 8, 12, 16, 20], 4, [67, 69, 71, 72, 66, 74]))
    codec = MelodyEventCodec()
    encoded = codec.encode(piece)
    assert int(encoded["transpose"]) == -7
    assert encoded["events"][::4].tolist() == [on(p) for p in (60, 62, 64, 65, 59, 67)]
    decoded = codec.decode(encoded)
    assert decoded.notes["pitch"].tolist() == [67, 69, 71, 72, 66, 74]  # back in G


def test_notes_outside_the_range_fold_by_octaves() -> None:
    codec = MelodyEventCodec(transpose_to_key=None)
    assert codec.fold(np.array([40, 48, 83, 84, 100])).tolist() == [52, 48, 83, 72, 76]


def test_decode_ends_notes_at_the_next_note_on_or_note_off() -> None:
    events = np.array([NO_EVENT, on(60), NO_EVENT, on(62), NOTE_OFF, NO_EVENT, on(64), NO_EVENT])
    notes = MelodyEventCodec().decode({"events": events}).notes
    assert notes[FIELDS].tolist() == [(1, 2, 60), (3, 1, 62), (6, 2, 64)]


def test_round_trip_is_exact_on_real_bach_melodies() -> None:
    codec = MelodyEventCodec(lookback_distances=(16, 32))
    shifted = 0
    pieces = [parse_chorale(str(path)) for path in chorale_files()[:8]]
    pieces = [p for p in pieces if isinstance(p, Piece)]  # a few files are not SATB
    assert len(pieces) >= 6
    for piece in pieces:
        encoded = codec.encode(piece)
        assert len(encoded["events"]) == piece.n_steps
        shifted += int(encoded["transpose"]) != 0
        decoded = codec.decode(encoded)
        assert decoded.notes[FIELDS].tolist() == piece.melody().notes[FIELDS].tolist(), piece.id
    assert shifted > 0  # the squash really moved some melodies and decode moved them back


def bars_melody() -> np.ndarray:
    """Three 4/4 bars of quarter notes: C D E F, C D E F (a repeat of bar 1), G A B C."""
    pitches = [60, 62, 64, 65] * 2 + [67, 69, 71, 72]
    piece = Piece(make_notes(np.arange(12) * 4, 4, pitches), length=48)
    return MelodyEventCodec(transpose_to_key=None, lookback_distances=(16, 32)).encode(piece)


def test_lookback_labels_fire_where_the_melody_repeats() -> None:
    encoded = bars_melody()
    n = 38  # event classes; 38 = repeat 1 bar, 39 = repeat 2 bars
    labels = encoded["labels"]
    onsets = np.arange(0, 48, 4)
    held = np.setdiff1d(np.arange(48), onsets)
    # bar 1: plain note-ons; bar 2 repeats bar 1 -> class 38; bar 3 is new -> plain again
    assert labels[onsets].tolist() == [on(p) for p in (60, 62, 64, 65)] + [n] * 4 + [
        on(p) for p in (67, 69, 71, 72)]
    # every held step (NO_EVENT): within 2 bars Magenta's rule labels it "repeat 2 bars";
    # after that it matches the NO_EVENT two bars back, and the farther repeat wins
    assert (labels[held] == n + 1).all()


def test_lookback_inputs_are_the_events_a_bar_back_and_the_repeat_flags() -> None:
    encoded = bars_melody()
    events, lookback, repeats = encoded["events"], encoded["lookback"], encoded["repeats"]
    # the event one bar before the *next* step: events[t - 15], NO_EVENT before the start
    assert lookback[15, 0] == events[0] == on(60) and lookback[14, 0] == NO_EVENT
    assert lookback[31, 1] == events[0] and lookback[30, 1] == NO_EVENT
    # the current step repeats the one a bar ago throughout bar 2, never in bar 1
    assert repeats[16:32, 0].all() and not repeats[:16, 0].any()
    assert not repeats[32, 0] and not repeats[32, 1]  # G after C: no repeat
    assert repeats[33, 1]  # a held step two bars after a held step
    assert encoded["position"].tolist() == list(range(48))


def test_repeat_classes_decode_to_the_events_they_look_back_at() -> None:
    lookback = torch.tensor([[on(60), NO_EVENT]])
    options = class_events(lookback, 38)
    assert options.shape == (1, 40)
    assert options[0, :38].tolist() == list(range(38))
    assert options[0, 38:].tolist() == [on(60), NO_EVENT]


def test_binary_counter_codes_the_next_position() -> None:
    counter = binary_counter(torch.tensor([0, 15, 31]), 5)
    # positions 1, 16 and 32 as 16th, 8th, quarter, half, whole bits (+1 / -1)
    assert counter.tolist() == [[1, -1, -1, -1, -1], [-1, -1, -1, -1, 1],
                                [-1, -1, -1, -1, -1]]


def test_a_range_narrower_than_an_octave_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 12 pitches"):
        MelodyEventCodec(min_note=60, max_note=70)
