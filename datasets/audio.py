"""MIDI to audio: fluidsynth with a General MIDI soundfont, compressed through soundfile.

Audio is optional: without the ``fluidsynth`` program or a soundfont (``make
install-audio``) nothing is rendered and callers show MIDI only. Compressed audio is Ogg
Vorbis (a few dozen kB per sample where a WAV is megabytes), FLAC where libsndfile lacks
Vorbis.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SOUNDFONTS: tuple[str, ...] = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)


def find_soundfont() -> Path | None:
    """``$MUSEBENCH_SOUNDFONT`` or the first installed GM soundfont, else None."""
    candidates = [os.environ.get("MUSEBENCH_SOUNDFONT", ""), *SOUNDFONTS]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def can_render() -> bool:
    """Whether fluidsynth and a soundfont are installed."""
    return shutil.which("fluidsynth") is not None and find_soundfont() is not None


def render_wav(midi: Path, wav: Path, soundfont: Path, sample_rate: int = 22050) -> Path | None:
    """Render ``midi`` to ``wav`` with fluidsynth; None (and no file) if it fails."""
    command = ["fluidsynth", "-ni", "-g", "0.8", "-r", str(sample_rate), "-F", str(wav),
               str(soundfont), str(midi)]
    result = subprocess.run(command, capture_output=True, timeout=120, check=False)
    if result.returncode != 0 or not wav.exists():
        wav.unlink(missing_ok=True)
        return None
    return wav


#: Frames handed to libsndfile per write: its Vorbis encoder crashed the process
#: (segmentation fault) on a 460-second sample written in one call (C-RNN-GAN's classical
#: samples, 10 million frames); in blocks it encodes any length.
BLOCK_FRAMES = 65536


def write_blocks(target: Path, data: Any, rate: int, **format_args: str) -> None:
    """Write ``data`` (frames x channels) to ``target`` :data:`BLOCK_FRAMES` at a time."""
    import soundfile

    channels = 1 if data.ndim == 1 else data.shape[1]
    with soundfile.SoundFile(str(target), "w", samplerate=rate, channels=channels,
                             **format_args) as out:
        for start in range(0, len(data), BLOCK_FRAMES):
            out.write(data[start:start + BLOCK_FRAMES])


def compress(wav: Path, stem: Path) -> Path:
    """``wav`` as ``stem.ogg`` (Vorbis), or ``stem.flac`` where Vorbis is not available."""
    import soundfile

    data, rate = soundfile.read(str(wav))
    target = stem.with_suffix(".ogg")
    try:
        write_blocks(target, data, rate, format="OGG", subtype="VORBIS")
    except (soundfile.LibsndfileError, ValueError, TypeError):
        target.unlink(missing_ok=True)
        target = stem.with_suffix(".flac")
        write_blocks(target, data, rate, format="FLAC")
    return target


def midi_to_compressed(midi: Path, stem: Path) -> Path | None:
    """Render ``midi`` and write it compressed at ``stem`` (suffix added); None without
    fluidsynth or a soundfont, or when rendering fails."""
    soundfont = find_soundfont()
    if shutil.which("fluidsynth") is None or soundfont is None:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        wav = render_wav(midi, Path(scratch) / "audio.wav", soundfont)
        return compress(wav, stem) if wav else None
