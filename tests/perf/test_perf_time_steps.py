"""Time steps of a batch, as make perf counts them (perf/throughput.py): from the
collated tensors and the codec's ``steps_per_index``, padding excluded."""

from __future__ import annotations

import numpy as np

from musebench.datasets.codecs import BarRollCodec, FrameRollCodec
from musebench.perf.throughput import time_steps


def test_frame_roll_counts_real_frames_and_padded_positions() -> None:
    codec = FrameRollCodec()
    batch = codec.collate([{"roll": np.zeros((5, 88), np.float32)},
                           {"roll": np.zeros((3, 88), np.float32)}])
    assert time_steps(batch, codec) == (2, 8, 10)


def test_equal_windows_count_batch_times_length() -> None:
    codec = FrameRollCodec()
    batch = codec.collate([{"roll": np.zeros((4, 88), np.float32)}] * 3)
    assert time_steps(batch, codec) == (3, 12, 12)


def test_a_bar_roll_index_is_a_bar_of_steps() -> None:
    codec = BarRollCodec(steps_per_bar=16)
    example = {"bar": np.zeros((1, 1, 16, 128), np.float32),
               "previous": np.zeros((1, 1, 16, 128), np.float32),
               "chord": np.zeros((1, 13), np.float32)}
    batch = codec.collate([example] * 4)
    assert codec.steps_per_index == 16
    assert time_steps(batch, codec) == (4, 64, 64)
