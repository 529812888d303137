"""MIDI-like event tokens (Oore et al. 2018; Huang et al., Music Transformer, ICLR 2019).

A piece is a stream of tokens on the Piece's step grid::

    0                      start token (also the padding value; masked by ``lengths``)
    1 .. 128               NOTE_ON(pitch)
    129 .. 256             NOTE_OFF(pitch)
    257 .. 256+max_shift   TIME_SHIFT(k steps), k = 1..max_shift
    then velocity_bins     VELOCITY(bin): the velocity of the following note-ons

At each time, note-offs come first (low to high), then the note-ons (low to high), each
preceded by a VELOCITY token when its velocity bin differs from the previous note-on's.
Gaps longer than ``max_shift`` are several time shifts; trailing shifts run to the end of
the piece, so the token stream covers exactly ``piece.n_steps`` steps.

Besides ``tokens`` the codec gives, per token, ``step`` (the grid step at which it takes
effect) and ``until`` (the step reached after it): :func:`events_to_steps` uses them to
turn per-event log-probabilities into per-time-step figures (see its docstring).

Round trip: lossless on notes (start, duration, pitch; velocity up to its bin, exact with
``velocity_bins=128``) when no two notes of one pitch overlap; tracks are merged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.piece import Piece, make_notes

START = 0
NOTE_ON = 1
NOTE_OFF = 129
TIME_SHIFT = 257


class EventTokenCodec(Codec):
    """Piece <-> ``tokens`` (int64) with their ``step``/``until`` grid positions.

    Args:
        max_shift: longest single TIME_SHIFT, in grid steps.
        velocity_bins: velocity resolution (bin ``b`` decodes to velocity
            ``b * 128 // velocity_bins``, at least 1).
    """

    name = "event_tokens"
    time_keys = ("tokens", "step", "until")
    #: Words of the tracks protocol (issue #11): note by note, polyphonic; not a frame roll
    #: (its likelihood is per time step through :func:`events_to_steps` all the same).
    capabilities = frozenset({"notes", "polyphony"})

    def __init__(self, max_shift: int = 32, velocity_bins: int = 32) -> None:
        if max_shift < 1 or not 1 <= velocity_bins <= 128:
            raise ValueError(f"event tokens: max_shift {max_shift} must be >= 1 and "
                             f"velocity_bins {velocity_bins} in 1..128")
        self.max_shift = max_shift
        self.velocity_bins = velocity_bins

    @property
    def velocity_offset(self) -> int:
        return TIME_SHIFT + self.max_shift

    @property
    def vocab_size(self) -> int:
        return self.velocity_offset + self.velocity_bins

    def shift_of(self, tokens: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Steps each token advances time by (0 unless it is a TIME_SHIFT)."""
        is_shift = (tokens >= TIME_SHIFT) & (tokens < self.velocity_offset)
        return (tokens - TIME_SHIFT + 1) * is_shift

    # ---------------------------------------------------------------- encode
    def encode(self, piece: Piece) -> Arrays:
        notes = piece.notes
        bins = notes["velocity"].astype(np.int64) * self.velocity_bins // 128
        ends = notes["start"].astype(np.int64) + notes["duration"]
        # events: (time, kind 0 = off / 1 = on, pitch, token); on-events sorted by (time, pitch)
        on = np.lexsort((notes["pitch"], notes["start"]))
        on_time, on_pitch, on_bin = notes["start"][on], notes["pitch"][on], bins[on]
        changed = np.r_[True, on_bin[1:] != on_bin[:-1]]
        time = np.concatenate([ends, on_time, on_time[changed]]).astype(np.int64)
        pitch = np.concatenate([notes["pitch"], on_pitch, on_pitch[changed]]).astype(np.int64)
        # order within a time: offs (0), then per note-on its velocity (1) before it (2)
        kind = np.concatenate([np.zeros(len(notes)), np.full(len(on), 2),
                               np.ones(int(changed.sum()))])
        order = np.where(kind == 0, 0, 1)
        token = np.concatenate([NOTE_OFF + notes["pitch"].astype(np.int64), NOTE_ON + on_pitch,
                                self.velocity_offset + on_bin[changed]])
        sort = np.lexsort((kind, pitch, order, time))
        time, token = time[sort], token[sort]
        # time shifts before each event, and after the last one up to the piece's end
        gaps = np.diff(np.r_[time, max(piece.n_steps, int(time.max(initial=0)))], prepend=0)
        tokens = np.concatenate([[START], self._interleave(gaps, token)])
        until = np.cumsum(self.shift_of(tokens))
        return {"tokens": tokens.astype(np.int64), "step": (until - self.shift_of(tokens)),
                "until": until}

    def _interleave(self, gaps: np.ndarray, events: np.ndarray) -> np.ndarray:
        """Tokens: for each event, the TIME_SHIFTs covering its gap then the event; the
        last gap (one longer than ``events``) ends the stream with shifts only."""
        counts = -(-gaps // self.max_shift)  # shifts per gap
        is_event = np.r_[np.ones(len(events), dtype=bool), False]
        sizes = counts + is_event
        out = np.empty(int(sizes.sum()), dtype=np.int64)
        block_end = np.cumsum(sizes)
        event_at = (block_end - 1)[is_event]
        out[event_at] = events
        shift_at = np.ones(len(out), dtype=bool)
        shift_at[event_at] = False
        shifts = np.full(int(counts.sum()), self.max_shift, dtype=np.int64)
        last = np.cumsum(counts)[counts > 0] - 1
        shifts[last] = gaps[counts > 0] - (counts[counts > 0] - 1) * self.max_shift
        out[shift_at] = TIME_SHIFT - 1 + shifts
        return out

    # ---------------------------------------------------------------- decode
    def decode(self, arrays: Arrays, **meta: Any) -> Piece:
        """Notes from tokens: the k-th NOTE_OFF of a pitch ends its k-th NOTE_ON; a note-on
        left open ends where the stream ends; a note-off without a note-on is ignored."""
        tokens = np.asarray(arrays["tokens"], dtype=np.int64)
        until = np.cumsum(self.shift_of(tokens))
        time = until - self.shift_of(tokens)
        is_velocity = tokens >= self.velocity_offset
        last_velocity = np.maximum.accumulate(np.where(is_velocity, np.arange(len(tokens)), -1))
        velocity_bin = np.where(last_velocity >= 0,
                                tokens[np.maximum(last_velocity, 0)] - self.velocity_offset,
                                self.velocity_bins * 80 // 128)
        is_on = (tokens >= NOTE_ON) & (tokens < NOTE_OFF)
        is_off = (tokens >= NOTE_OFF) & (tokens < TIME_SHIFT)
        on_pitch, on_time = tokens[is_on] - NOTE_ON, time[is_on]
        off_pitch, off_time = tokens[is_off] - NOTE_OFF, time[is_off]
        on_rank, off_rank = rank_within(on_pitch), rank_within(off_pitch)
        end = int(until[-1]) if len(until) else 0
        ends = np.full(len(on_pitch), end, dtype=np.int64)
        # match (pitch, rank) pairs between offs and ons
        off_key = off_pitch * (len(tokens) + 1) + off_rank
        on_key = on_pitch * (len(tokens) + 1) + on_rank
        by_key = np.argsort(off_key)
        at = np.minimum(np.searchsorted(off_key[by_key], on_key), max(len(off_key) - 1, 0))
        found = off_key[by_key][at] == on_key if len(off_key) else np.zeros(len(on_key), bool)
        ends[found] = off_time[by_key][at][found]
        keep = ends > on_time
        velocity = np.maximum(velocity_bin[is_on] * 128 // self.velocity_bins, 1)
        notes = make_notes(on_time[keep], (ends - on_time)[keep], on_pitch[keep], velocity[keep])
        return Piece(notes, length=end, meta=meta)


def rank_within(values: np.ndarray) -> np.ndarray:
    """Each element's occurrence index among equal earlier values (``[5, 3, 5] -> [0, 0, 1]``)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.r_[0, np.flatnonzero(sorted_values[1:] != sorted_values[:-1]) + 1]
    run = np.repeat(first, np.diff(np.r_[first, len(values)]))
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values)) - run
    return ranks


def events_to_steps(
    log_prob: torch.Tensor, step: torch.Tensor, until: torch.Tensor, token_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-event log-probabilities -> per-time-step log-probabilities and their step mask.

    The log-probability of a whole sequence is the sum over its events; this spreads that
    sum over the grid steps it covers so that "log-likelihood per time step" means the same
    as for the frame models (total log-probability / number of steps): each event's
    log-probability is added to the step at which it takes effect (``step``, relative to the
    sequence's first token), and the sequence covers ``until[last] - step[first]`` steps;
    the events after its last time shift, which take effect at the step after its last,
    are added to its last step. A step inside a long time shift gets 0; the totals, and so
    the per-step average over all steps, are exact, and a sequence's do not depend on the
    others in its batch.

    Args:
        log_prob: ``(B, N)`` log-probability of each scored token.
        step: ``(B, N)`` grid step of each token (``EventTokenCodec``'s ``step``).
        until: ``(B, N)`` step reached after each token.
        token_mask: ``(B, N)`` bool, True on real scored tokens (padding excluded).

    Returns:
        ``(B, T)`` per-step log-probabilities and ``(B, T)`` bool mask of real steps.
    """
    step, until = step.long(), until.long()
    first = step[:, :1]
    last = token_mask.long().sum(1).clamp(min=1) - 1
    n_steps = until.gather(1, last[:, None])[:, 0] - first[:, 0]
    total_steps = max(int(n_steps.max()), 1)
    # the events after a sequence's last time shift (its closing note-offs) take effect at
    # its step n_steps, one past its last: they count on its last step, whatever the batch
    own_last = (n_steps.clamp(min=1) - 1)[:, None]
    index = torch.minimum((step - first).clamp(min=0), own_last) * token_mask
    per_step = torch.zeros(len(log_prob), total_steps, dtype=log_prob.dtype,
                           device=log_prob.device)
    per_step.scatter_add_(1, index, log_prob * token_mask)
    mask = torch.arange(total_steps, device=log_prob.device)[None, :] < n_steps[:, None]
    return per_step, mask
