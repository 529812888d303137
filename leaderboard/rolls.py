"""Piano rolls, all drawn alike (the report's, and the bench's sample PNGs): one pitch scale for every panel, labelled
with note names, bar lines, the conditioning chords' symbols along the top, and the model's
name as the title (a repeated chord is labelled once). A panel shows the first :data:`MAX_BARS` bars of one sample."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from musebench.datasets.piece import PITCH_NAMES, Piece

MAX_BARS = 8


def note_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI pitch: 60 → ``C4``."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def chord_symbol(label: str) -> str:
    """A lead-sheet symbol of a ``ROOT:quality`` label: ``C:maj`` → ``C``, ``A:min`` →
    ``Am``, ``B:dim`` → ``B°``, ``C:aug`` → ``C+``."""
    root, _, quality = label.partition(":")
    return root + {"maj": "", "min": "m", "dim": "°", "aug": "+"}.get(quality, "")


def pitch_scale(pieces: list[Piece]) -> tuple[int, int]:
    """(lowest, highest) pitch shown on every panel: all the pieces' notes, padded to whole
    octaves from C (C3..C6 when there are no notes)."""
    pitches = np.concatenate([p.notes["pitch"] for p in pieces]) if pieces else np.array([])
    if len(pitches) == 0:
        return 48, 84
    return int(pitches.min()) // 12 * 12, (int(pitches.max()) // 12 + 1) * 12


def draw_roll(ax: Any, piece: Piece, title: str, scale: tuple[int, int],
              max_bars: int | None = MAX_BARS, max_labels: int = 24) -> None:
    """Draw ``piece`` (its first ``max_bars`` bars; all when None) on the matplotlib axes
    ``ax`` on the pitch ``scale``: note-name ticks on every C, bar numbers, bar lines,
    chord symbols along the top (a chord starting within 1/``max_labels`` of the panel
    after the last label is left unlabelled, so symbols never overlap), ``title`` (marked
    when the piece has no chords)."""
    low, high = scale
    steps = piece.n_steps if max_bars is None else min(piece.n_steps,
                                                       max_bars * piece.steps_per_bar)
    steps = steps or piece.steps_per_bar
    roll = piece.pianoroll(low, high)[:steps]
    ax.imshow(roll.T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
              extent=(0, steps, low - 0.5, high + 0.5), vmin=0, vmax=1)
    for bar in range(0, steps + 1, piece.steps_per_bar):
        ax.axvline(bar, color="tab:blue", linewidth=0.5, alpha=0.6)
    ticks = list(range(low, high + 1, 12))
    ax.set_yticks(ticks, [note_name(t) for t in ticks], fontsize=7)
    ax.set_xticks(range(0, steps + 1, piece.steps_per_bar),
                  [str(i + 1) for i in range(steps // piece.steps_per_bar + 1)], fontsize=7)
    ax.set_xlabel("bar", fontsize=7)
    previous, last_x = None, -steps
    for chord in piece.chord_list():
        if chord.start < steps and chord.label != previous and (
                chord.start - last_x >= steps / max_labels):
            ax.text(chord.start + 0.2, high + 1, chord_symbol(chord.label), fontsize=7,
                    va="bottom", clip_on=False, color="tab:red")
            last_x = chord.start
        previous = chord.label
    ax.set_title(title + ("" if len(piece.chords) else " (no chords: unconditional)"),
                 fontsize=9, pad=14)


def roll_png(piece: Piece, title: str, scale: tuple[int, int]) -> bytes:
    """A PNG of ``piece``'s first bars on the shared pitch ``scale`` (:func:`draw_roll`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=80)
    draw_roll(ax, piece, title, scale)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
