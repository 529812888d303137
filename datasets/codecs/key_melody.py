"""The input vectors of Magenta's ``KeyMelodyEncoderDecoder`` (Melody RNN ``attention_rnn``).

For each step ``t`` of a melody of :mod:`~musebench.datasets.codecs.melody_events` event
classes, the input describes the melody up to and including ``t``, in this order:

- the pitch of the sounding note, one-hot over the range (all zero in silence);
- "a note sounds", "silence";
- "attack": the last NO_EVENT or note-on was a note-on (a NOTE_OFF leaves it as it was);
- direction: +1 if the last note-on rose from the one before, -1 if it fell, kept when
  it repeats the pitch, 0 before any change;
- per lookback distance ``d``: whether ``events[t] == events[t - d]``;
- a ``counter_bits``-bit +-1 binary counter of ``t + 1`` (Magenta: 7 bits);
- "the next step starts a 16-step bar";
- the major keys holding the most note-ons so far (1 for each key tied at the maximum;
  all 1 before any note);
- the same over the last three distinct pitches played (most recent kept on a repeat).

The features depend on the whole history, so they are computed by a scan over time,
vectorised over the batch; generation recomputes them on its history at each step.
"""

from __future__ import annotations

import numpy as np

from musebench.datasets.codecs.melody_events import FIRST_NOTE, MAJOR_SCALE, NO_EVENT, NOTE_OFF

#: Steps per bar of the "start of bar" input (Magenta's ``DEFAULT_STEPS_PER_BAR``).
STEPS_PER_BAR = 16
#: ``KEY_OF[pc, key]`` = 1 where pitch class ``pc`` is in the scale of major key ``key``.
KEY_OF = np.array([[float((pc - key) % 12 in MAJOR_SCALE) for key in range(12)]
                   for pc in range(12)])


def key_input_size(n_pitches: int, n_distances: int, counter_bits: int) -> int:
    """Length of one input vector (74 for Magenta's 36 pitches, 2 distances, 7 bits)."""
    return n_pitches + 2 + 1 + 1 + n_distances + counter_bits + 1 + 12 + 12


def key_flags(pitch_class_counts: np.ndarray) -> np.ndarray:
    """``(B, 12)``: 1 for every major key whose scale holds the most of the counted notes."""
    per_key = pitch_class_counts @ KEY_OF
    return (per_key == per_key.max(-1, keepdims=True)).astype(np.float32)


def key_melody_inputs(events: np.ndarray, min_note: int, n_pitches: int,
                      distances: tuple[int, ...], counter_bits: int) -> np.ndarray:
    """``(B, T, key_input_size)`` float32 inputs of ``(B, T)`` event classes."""
    batch, steps = events.shape
    out = np.zeros((batch, steps, key_input_size(n_pitches, len(distances), counter_bits)),
                   dtype=np.float32)
    rows = np.arange(batch)
    current = np.full(batch, -1)          # sounding pitch index, -1 in silence
    attack = np.zeros(batch, dtype=bool)
    direction = np.zeros(batch)
    last3 = np.full((batch, 3), -1)       # distinct recent pitch indices, oldest first
    counts = np.zeros((batch, 12))        # note-ons per pitch class so far
    for t in range(steps):
        event = events[:, t]
        is_on = event >= FIRST_NOTE
        pitch = event - FIRST_NOTE
        attack = np.where(event == NO_EVENT, False, attack | is_on)
        current = np.where(event == NOTE_OFF, -1, np.where(is_on, pitch, current))
        previous = last3[:, -1]
        moved = is_on & (previous >= 0) & (pitch != previous)
        direction = np.where(moved, np.sign(pitch - previous), direction)
        # drop the pitch if it is among the last three, then push it (for note-ons only)
        kept = np.where(last3 == pitch[:, None], -1, last3)
        kept = np.take_along_axis(kept, np.argsort(kept >= 0, axis=1, kind="stable"), 1)
        last3 = np.where(is_on[:, None], np.c_[kept[:, 1:], pitch], last3)
        counts[rows[is_on], (pitch[is_on] + min_note) % 12] += 1

        sounding = current >= 0
        out[rows[sounding], t, current[sounding]] = 1
        out[:, t, n_pitches] = sounding
        out[:, t, n_pitches + 1] = ~sounding
        out[:, t, n_pitches + 2] = attack
        out[:, t, n_pitches + 3] = direction
        at = n_pitches + 4
        for i, d in enumerate(distances):
            if t >= d:
                out[:, t, at + i] = event == events[:, t - d]
        at += len(distances)
        out[:, t, at: at + counter_bits] = ((t + 1) >> np.arange(counter_bits)) % 2 * 2 - 1
        at += counter_bits
        out[:, t, at] = (t + 1) % STEPS_PER_BAR == 0
        recent = np.zeros((batch, 12))
        for slot in range(3):
            valid = last3[:, slot] >= 0
            recent[rows[valid], (last3[valid, slot] + min_note) % 12] += 1
        out[:, t, at + 1: at + 13] = key_flags(counts)
        out[:, t, at + 13: at + 25] = key_flags(recent)
    return out
