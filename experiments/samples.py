"""Write generated samples where a person can hear and see them.

For each sample: ``sample_XXX.mid`` (chords as markers), ``sample_XXX.png`` (its piano
roll) and, when the ``fluidsynth`` program and a General MIDI soundfont are installed
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
import numpy as np  # noqa: E402

from musebench.datasets.audio import find_soundfont, render_wav  # noqa: E402
from musebench.datasets.piece import Piece  # noqa: E402


@dataclass
class WrittenSamples:
    """Paths of what :func:`write_samples` wrote (``wav`` empty without fluidsynth)."""

    midi: list[Path] = field(default_factory=list)
    png: list[Path] = field(default_factory=list)
    wav: list[Path] = field(default_factory=list)
    grid: Path | None = None


def _pitch_window(roll: np.ndarray) -> tuple[int, int]:
    """The sounding pitch range of ``roll`` with a little margin (C3..C6 when empty)."""
    used = np.flatnonzero(roll.any(axis=0))
    if len(used) == 0:
        return 48, 84
    return max(int(used[0]) - 2, 0), min(int(used[-1]) + 3, 128)


def draw_roll(ax: plt.Axes, piece: Piece, title: str | None = None) -> None:
    """Draw ``piece``'s piano roll (with bar lines) on ``ax``."""
    roll = piece.pianoroll()
    low, high = _pitch_window(roll)
    ax.imshow(roll[:, low:high].T, origin="lower", aspect="auto", cmap="Greys",
              interpolation="nearest", extent=(0, max(len(roll), 1), low, high))
    for bar in range(0, len(roll) + 1, piece.steps_per_bar):
        ax.axvline(bar, color="tab:blue", linewidth=0.4, alpha=0.5)
    ax.set_title(title or piece.id, fontsize=8)
    ax.tick_params(labelsize=6)


def save_roll(piece: Piece, path: Path) -> Path:
    """A PNG of ``piece``'s piano roll."""
    fig, ax = plt.subplots(figsize=(6, 2.5), dpi=80)
    draw_roll(ax, piece)
    ax.set_xlabel("step", fontsize=7)
    ax.set_ylabel("MIDI pitch", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_grid(pieces: list[Piece], path: Path, columns: int = 4) -> Path:
    """One PNG with every piece's roll in a grid."""
    rows = max(1, -(-len(pieces) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 1.6 * rows), dpi=70,
                             squeeze=False)
    for ax in axes.ravel()[len(pieces):]:
        ax.axis("off")
    for ax, piece in zip(axes.ravel(), pieces, strict=False):
        draw_roll(ax, piece)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_samples(pieces: list[Piece], folder: Path, audio: bool = True) -> WrittenSamples:
    """Write MIDI, a PNG per sample, a grid PNG and (if possible) WAV into ``folder``.

    Args:
        pieces: the generated samples.
        folder: created if missing.
        audio: try to render WAV (skipped silently when fluidsynth or a soundfont is absent).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = WrittenSamples()
    soundfont = find_soundfont() if audio and shutil.which("fluidsynth") else None
    for i, piece in enumerate(pieces):
        stem = folder / f"sample_{i:03d}"
        written.midi.append(piece.to_midi(stem.with_suffix(".mid")))
        written.png.append(save_roll(piece, stem.with_suffix(".png")))
        if soundfont is not None:
            wav = render_wav(stem.with_suffix(".mid"), stem.with_suffix(".wav"), soundfont)
            if wav is not None:
                written.wav.append(wav)
    if pieces:
        written.grid = save_grid(pieces, folder / "grid.png")
    return written
