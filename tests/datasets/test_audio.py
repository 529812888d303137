"""Compressed audio: a WAV becomes a much smaller Ogg Vorbis file of the same length, and a
MIDI file renders straight to one (where fluidsynth and a soundfont are installed)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from musebench.datasets.audio import can_render, compress, midi_to_compressed
from musebench.datasets.piece import Piece, make_notes


def test_compress_writes_a_small_ogg_of_the_same_duration(tmp_path):
    rate = 22050
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate)
    soundfile.write(tmp_path / "a.wav", np.stack([tone, tone], axis=1), rate)
    out = compress(tmp_path / "a.wav", tmp_path / "a")
    assert out.suffix in (".ogg", ".flac")
    data, back_rate = soundfile.read(out)
    assert back_rate == rate and abs(len(data) - 2 * rate) < rate // 10
    assert out.stat().st_size < (tmp_path / "a.wav").stat().st_size / 4


@pytest.mark.skipif(not can_render(), reason="fluidsynth or a soundfont is not installed")
def test_midi_renders_to_compressed_audio(tmp_path):
    midi = Piece(make_notes(np.arange(4) * 4, 4, [60, 64, 67, 72])).to_midi(tmp_path / "m.mid")
    out = midi_to_compressed(midi, tmp_path / "m")
    assert out is not None and out.is_file() and soundfile.info(out).duration > 1.5
