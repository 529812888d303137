"""The biaxial LSTM's representation: play/articulate states of 78 notes and their features.

Daniel Johnson, "Composing music with recurrent neural networks" (2015,
https://www.danieldjohnson.com/2015/08/03/composing-music-with-recurrent-neural-networks/)
and Johnson, "Generating polyphonic music using tied parallel networks" (EvoMUSART 2017).

A piece becomes, per time step ``t`` and note ``n`` of MIDI pitches ``lowest..highest``
(default 24-101, 78 notes):
    ``play[t, n]``        1 where the pitch sounds at step ``t``;
    ``articulate[t, n]``  1 where a note of that pitch starts at ``t`` (so a re-struck
                          pitch is told apart from a held one);
    ``beat[t]``           the step's position in its bar (``t mod steps_per_bar``).

The network's input at ``(t, n)`` is built from the *previous* step's state by
:func:`note_features` (vectorised over batch, time and notes), as in Johnson's model:
    position [1]      ``n / (N - 1)``: Johnson feeds the raw index ``n`` (data.py lines
                      6-7 and 33-34). Scaled on purpose: it is the same function class
                      (the first layer's weight absorbs the factor ``N - 1``), but a raw
                      value up to 77 beside 0/1 and +-1 features saturates the gates of
                      a freshly initialised LSTM;
    pitch class [12]  one-hot of ``(lowest + n) mod 12``;
    vicinity [50]     previous (play, articulate) pairs of notes ``n-12 .. n+12`` (0 off the
                      edge);
    context [12]      previous step's count of sounding notes per pitch class, rotated so
                      that index ``i`` counts pitch class ``(pc(n) + i) mod 12``;
    beat [bits]       the binary digits of this step's position in the bar, as +-1.
Sources without articulation (the Boulanger frame rolls) give an onset only at the
start of each run of a pitch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes

VICINITY = 12


class BiaxialCodec(Codec):
    """Piece <-> ``play`` / ``articulate`` ``(T, N)`` arrays and ``beat`` ``(T,)`` positions.

    Args:
        lowest: lowest MIDI pitch modelled (Johnson: 24).
        highest: highest MIDI pitch modelled (Johnson: 101). Notes outside are dropped on
            encoding.
        beat_bits: binary digits of the bar position fed to the network (4 = 16 steps).
        steps_per_beat: grid of decoded pieces.
        beats_per_bar: bar length of decoded pieces.
    """

    name = "biaxial"
    time_keys = ("play", "articulate", "beat")
    capabilities = frozenset({"frames", "polyphony"})

    def __init__(self, lowest: int = 24, highest: int = 101, beat_bits: int = 4,
                 steps_per_beat: int = 4, beats_per_bar: int = 4) -> None:
        if highest < lowest:
            raise ValueError(f"BiaxialCodec: highest ({highest}) < lowest ({lowest})")
        self.lowest = lowest
        self.highest = highest
        self.beat_bits = beat_bits
        self.steps_per_beat = steps_per_beat
        self.beats_per_bar = beats_per_bar

    @property
    def n_notes(self) -> int:
        return self.highest - self.lowest + 1

    @property
    def n_features(self) -> int:
        """Width of :func:`note_features`' last axis."""
        return 1 + 12 + 2 * (2 * VICINITY + 1) + 12 + self.beat_bits

    def encode(self, piece: Piece) -> Arrays:
        play = piece.pianoroll(self.lowest, self.highest)
        articulate = piece.onsets(self.lowest, self.highest) & play
        beat = np.arange(piece.n_steps, dtype=np.int64) % piece.steps_per_bar
        return {"play": play.astype(np.float32), "articulate": articulate.astype(np.float32),
                "beat": beat}

    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        play = np.asarray(arrays["play"]) > 0.5
        articulate = (np.asarray(arrays["articulate"]) > 0.5) & play
        return Piece(states_to_notes(play, articulate, self.lowest), length=len(play),
                     steps_per_beat=self.steps_per_beat, beats_per_bar=self.beats_per_bar,
                     meta=meta)

    def note_features(self, play: torch.Tensor, articulate: torch.Tensor,
                      beat: torch.Tensor) -> torch.Tensor:
        """Network input of every (step, note) from the previous step's state.

        Args:
            play: ``(..., T, N)`` play states; step ``t``'s features read step ``t - 1``
                (zeros before the first step).
            articulate: ``(..., T, N)`` articulate states, same convention.
            beat: ``(..., T)`` integer bar positions of the steps being predicted.

        Returns:
            ``(..., T, N, n_features)`` float features (see the module docstring).
        """
        previous = torch.stack([play, articulate], dim=-1).float()
        previous = torch.cat([torch.zeros_like(previous[..., :1, :, :]),
                              previous[..., :-1, :, :]], dim=-3)
        return self.features_from_state(previous, beat)

    def features_from_state(self, previous: torch.Tensor, beat: torch.Tensor) -> torch.Tensor:
        """Features from an explicit previous state ``(..., N, 2)`` (play, articulate) and
        the bar position ``(...)`` of the step being predicted: ``(..., N, n_features)``."""
        n = self.n_notes
        lead = previous.shape[:-2]
        device = previous.device
        notes = torch.arange(n, device=device)
        pitch_class = (notes + self.lowest) % 12
        position = (notes.float() / max(n - 1, 1)).unsqueeze(-1)
        class_onehot = torch.nn.functional.one_hot(pitch_class, 12).float()
        padded = torch.nn.functional.pad(previous, (0, 0, VICINITY, VICINITY))
        vicinity = padded.unfold(-2, 2 * VICINITY + 1, 1).transpose(-1, -2).flatten(-2)  # (N, 25*2)
        counts = previous[..., 0] @ class_onehot  # (..., 12)
        rotate = (pitch_class.unsqueeze(-1) + torch.arange(12, device=device)) % 12
        context = counts[..., rotate]  # (..., N, 12)
        digits = (beat.unsqueeze(-1) >> torch.arange(self.beat_bits, device=device)) & 1
        beat_code = (2.0 * digits.float() - 1.0).unsqueeze(-2).expand(*lead, n, self.beat_bits)
        constant = torch.cat([position, class_onehot], dim=-1).expand(*lead, n, 13)
        return torch.cat([constant, vicinity, context, beat_code], dim=-1)


def states_to_notes(play: np.ndarray, articulate: np.ndarray, lowest: int) -> np.ndarray:
    """Notes from ``(T, N)`` bool play/articulate states.

    A note starts where a pitch plays and either articulates or did not play the step
    before; it lasts until the pitch stops or is articulated again.
    """
    steps, width = play.shape
    before = np.zeros((steps + 1, width), dtype=bool)
    before[1:] = play
    starts = play & (articulate | ~before[:-1])
    plays_next = np.zeros_like(play)
    plays_next[:-1] = play[1:]
    starts_next = np.zeros_like(play)
    starts_next[:-1] = starts[1:]
    ends = play & (~plays_next | starts_next)
    on_step, on_pitch = np.nonzero(starts)
    end_step, end_pitch = np.nonzero(ends)
    on = np.lexsort((on_step, on_pitch))
    off = np.lexsort((end_step, end_pitch))
    return make_notes(on_step[on], end_step[off] + 1 - on_step[on], on_pitch[on] + lowest)
