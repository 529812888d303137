"""Write generated samples where a person can hear and see them.

For each sample: ``sample_XXX.mid`` (chords as markers and as a quiet track of their own),
``sample_XXX.png`` (its piano roll, titled with the model's name, on one pitch scale for
the whole set: :mod:`musebench.leaderboard.rolls`) and, when the ``fluidsynth`` program and a General MIDI soundfont are installed
(``make install-audio``), ``sample_XXX.wav``. Plus ``grid.png`` with every roll side by
side. Audio is optional: without fluidsynth the bench still writes MIDI and images.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from musebench.datasets.audio import find_soundfont, render_wav  # noqa: E402
from musebench.datasets.piece import Piece  # noqa: E402
from musebench.leaderboard.rolls import draw_roll, pitch_scale  # noqa: E402


@dataclass
class WrittenSamples:
    """Paths of what :func:`write_samples` wrote (``wav`` empty without fluidsynth)."""

    midi: list[Path] = field(default_factory=list)
    png: list[Path] = field(default_factory=list)
    wav: list[Path] = field(default_factory=list)
    grid: Path | None = None


def save_roll(piece: Piece, path: Path, title: str, scale: tuple[int, int]) -> Path:
    """A PNG of ``piece``'s piano roll on the pitch ``scale``
    (:func:`musebench.leaderboard.rolls.draw_roll`)."""
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=80)
    draw_roll(ax, piece, title, scale, max_bars=None)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_grid(pieces: list[Piece], path: Path, title: str, columns: int = 4) -> Path:
    """One PNG with every piece's roll in a grid, all on one pitch scale."""
    scale = pitch_scale(pieces)
    rows = max(1, -(-len(pieces) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.5 * columns, 2.2 * rows), dpi=70,
                             squeeze=False)
    for ax in axes.ravel()[len(pieces):]:
        ax.axis("off")
    for i, (ax, piece) in enumerate(zip(axes.ravel(), pieces, strict=False)):
        draw_roll(ax, piece, f"{title}, sample {i + 1}", scale, max_bars=None, max_labels=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_samples(pieces: list[Piece], folder: Path, audio: bool = True,
                  title: str = "sample") -> WrittenSamples:
    """Write MIDI, a PNG per sample, a grid PNG and (if possible) WAV into ``folder``.

    Args:
        pieces: the generated samples.
        folder: created if missing.
        audio: try to render WAV (skipped silently when fluidsynth or a soundfont is absent).
        title: the model's name, the rolls' title (``<title>, sample <i>``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = WrittenSamples()
    soundfont = find_soundfont() if audio and shutil.which("fluidsynth") else None
    scale = pitch_scale(pieces)
    for i, piece in enumerate(pieces):
        stem = folder / f"sample_{i:03d}"
        written.midi.append(piece.to_midi(stem.with_suffix(".mid")))
        written.png.append(save_roll(piece, stem.with_suffix(".png"), f"{title}, sample {i + 1}",
                                     scale))
        if soundfont is not None:
            wav = render_wav(stem.with_suffix(".mid"), stem.with_suffix(".wav"), soundfont)
            if wav is not None:
                written.wav.append(wav)
    if pieces:
        written.grid = save_grid(pieces, folder / "grid.png", title)
    return written
