"""Audio of the clips: rendered once with fluidsynth, cached by content.

The rendering is the bench's own (:func:`musebench.experiments.samples.render_wav`, the
same fluidsynth call and General MIDI soundfont as the samples' WAV files), then
compressed to Ogg Vorbis with ``soundfile`` (about a tenth of the WAV's size, which
matters for listeners on a phone); WAV is kept where Ogg cannot be written. A clip's
audio is ``<cache>/<hash>.ogg``, the hash over the MIDI bytes and the soundfont's name,
so an unchanged clip is never rendered twice, by this study or the next.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from musebench.experiments.samples import find_soundfont, render_wav

MIME = {".ogg": "audio/ogg", ".wav": "audio/wav"}


def audio_problem() -> str | None:
    """Why no audio can be rendered here (None when fluidsynth and a soundfont are found)."""
    if shutil.which("fluidsynth") is None:
        return ("the fluidsynth program is not installed (make install-audio, or "
                "apt-get install fluidsynth fluid-soundfont-gm)")
    if find_soundfont() is None:
        return ("no General MIDI soundfont found (apt-get install fluid-soundfont-gm, or "
                "set MUSEBENCH_SOUNDFONT to an .sf2 file)")
    return None


def render_clip(midi: Path, cache: Path) -> Path:
    """The cached audio of ``midi`` (rendered now if missing).

    Raises:
        RuntimeError: no fluidsynth or soundfont, or fluidsynth failed on ``midi``.
    """
    problem = audio_problem()
    if problem:
        raise RuntimeError(f"cannot render audio: {problem}")
    soundfont = find_soundfont()
    digest = hashlib.sha256(midi.read_bytes() + soundfont.name.encode()).hexdigest()[:20]
    for suffix in MIME:
        if (cache / f"{digest}{suffix}").is_file():
            return cache / f"{digest}{suffix}"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        wav = render_wav(midi, Path(scratch) / "clip.wav", soundfont)
        if wav is None:
            raise RuntimeError(f"fluidsynth could not render {midi}")
        target = cache / f"{digest}.ogg"
        try:
            import soundfile

            data, rate = soundfile.read(wav)
            soundfile.write(Path(scratch) / "clip.ogg", data, rate, format="OGG",
                            subtype="VORBIS")
            (Path(scratch) / "clip.ogg").replace(target)
        except (ImportError, RuntimeError, OSError):
            target = cache / f"{digest}.wav"
            wav.replace(target)
    return target
