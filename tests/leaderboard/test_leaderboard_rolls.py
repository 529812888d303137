"""Piano rolls share one pitch scale with note names, chord symbols and the model's name."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from musebench.datasets.piece import Chord, Piece, make_chords, make_notes  # noqa: E402
from musebench.leaderboard.rolls import (  # noqa: E402
    chord_symbol,
    draw_roll,
    note_name,
    pitch_scale,
)


def test_note_names_chord_symbols_and_the_shared_scale():
    assert [note_name(p) for p in (60, 61, 69, 48)] == ["C4", "C#4", "A4", "C3"]
    assert [chord_symbol(c) for c in ("C:maj", "A:min", "B:dim", "Eb:aug")] == [
        "C", "Am", "B°", "Eb+"]
    low = Piece(make_notes([0], 4, [50]))  # D3
    high = Piece(make_notes([0], 4, [75]))  # Eb5
    assert pitch_scale([low, high]) == (48, 84)  # C3 .. C6: whole octaves from C
    assert pitch_scale([]) == (48, 84)


def test_a_panel_has_note_ticks_bar_lines_chords_once_and_the_title():
    chords = make_chords([Chord(0, 4, 0, "maj"), Chord(4, 4, 0, "maj"), Chord(8, 8, 9, "min")])
    piece = Piece(make_notes(np.arange(4) * 4, 4, [60, 64, 67, 69]), chords=chords)
    fig, ax = plt.subplots()
    draw_roll(ax, piece, "midinet, sample 1", (48, 84))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C3", "C4", "C5", "C6"]
    assert [t.get_text() for t in ax.texts] == ["C", "Am"]  # the repeated C labelled once
    assert ax.get_title() == "midinet, sample 1"
    assert len(ax.lines) == 2  # bar lines at steps 0 and 16 (one bar)
    ax.clear()
    draw_roll(ax, Piece(make_notes([0], 4, [60])), "markov, sample 1", (48, 84))
    assert ax.get_title() == "markov, sample 1 (no chords: unconditional)"
    plt.close(fig)
