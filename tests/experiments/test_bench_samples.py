"""The sample writer: MIDI, a PNG per sample and a grid always; WAV only where fluidsynth
and a soundfont are installed."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from musebench.datasets.piece import Chord, Piece, make_chords, make_notes
from musebench.experiments.samples import find_soundfont, write_samples


def melody(i: int) -> Piece:
    return Piece(make_notes(np.arange(16) * 4, 4, 60 + (np.arange(16) * (i + 1)) % 12),
                 chords=make_chords([Chord(0, 64, 0, "maj")]), meta={"id": f"m{i}"})


def test_midi_png_and_grid_are_written_for_every_sample(tmp_path):
    written = write_samples([melody(i) for i in range(3)], tmp_path / "s", audio=False)
    assert [p.name for p in written.midi] == ["sample_000.mid", "sample_001.mid",
                                              "sample_002.mid"]
    assert all(p.stat().st_size > 1000 for p in written.png)
    assert written.grid == tmp_path / "s" / "grid.png" and written.wav == []
    back = Piece.from_midi(written.midi[1])
    np.testing.assert_array_equal(back.notes["pitch"], melody(1).notes["pitch"])
    assert back.chord_list()[0].label == "C:maj"


def test_no_samples_write_no_grid(tmp_path):
    assert write_samples([], tmp_path, audio=False).grid is None


@pytest.mark.slow  # synthesising audio takes a few seconds
@pytest.mark.skipif(shutil.which("fluidsynth") is None or find_soundfont() is None,
                    reason="fluidsynth or a GM soundfont is not installed (make install-audio)")
def test_wav_is_rendered_where_fluidsynth_is_installed(tmp_path):
    written = write_samples([melody(0)], tmp_path, audio=True)
    assert len(written.wav) == 1
    with wave.open(str(written.wav[0])) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds > 5  # 64 sixteenth steps at the default tempo, plus the release
