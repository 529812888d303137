"""Compressed audio: a WAV becomes a much smaller Ogg Vorbis file of the same length, and a
MIDI file renders straight to one (where fluidsynth and a soundfont are installed)."""

from __future__ import annotations

import subprocess
import sys

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


def test_compress_encodes_a_460_second_sample_without_crashing(tmp_path):
    """C-RNN-GAN's classical samples render to 460 s (10 million stereo frames): written in
    one call, libsndfile's Vorbis encoder crashed the process with a segmentation fault
    (the report's chromium test lost its worker). Run in a child, so a crash fails the
    test rather than the test run."""
    rate, seconds = 22050, 460
    t = np.arange(rate * seconds) / rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    soundfile.write(str(tmp_path / "long.wav"), np.stack([tone, tone], axis=1), rate)
    code = ("import sys; from pathlib import Path; from musebench.datasets.audio import compress;"
            "print(compress(Path(sys.argv[1]), Path(sys.argv[2])))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "long.wav"),
                           str(tmp_path / "long")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    written = soundfile.info(done.stdout.strip())
    assert abs(written.frames - rate * seconds) < rate // 10 and written.channels == 2
