"""The samples of the report: piano rolls, audio files beside the HTML, MIDI downloads.

For each run entry the first :data:`PER_MODEL` MIDI samples of its latest run folder with
samples (those committed with an official row, its ``samples`` relative to its results
store; else ``<folder>/samples/*.mid``, a relative folder relative to its store) are copied into the report's asset folder, rendered to compressed audio there (Ogg Vorbis
through soundfile, or an existing WAV of the run compressed) when fluidsynth is installed,
and linked from the page: labelled players, MIDI download links, and one piano roll per
model embedded as PNG (:mod:`.rolls`, one pitch scale for every panel of the report), with
the first :data:`FIGURES_PER_MODEL` figures the model drew of its samples where it draws
any (``MusicGenerator.write_figures``: the LSTM with attention's attention maps).
"""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.datasets.audio import compress, midi_to_compressed
from musebench.datasets.midi import read_midi
from musebench.leaderboard.rolls import pitch_scale, roll_png

if TYPE_CHECKING:
    from musebench.leaderboard.render import Entry

PER_MODEL = 2
FIGURES_PER_MODEL = 2


def sample_midis(entry: Entry) -> list[Path]:
    """The first :data:`PER_MODEL` MIDI samples of the entry's latest run with samples
    committed beside its store (official rows), else of its latest run folder that has any."""
    for files in reversed(entry.kept):
        found = [path for path in files if path.is_file()]
        if found:
            return found[:PER_MODEL]
    for folder in reversed(entry.folders):
        found = sorted((folder / "samples").glob("*.mid"))
        if found:
            return found[:PER_MODEL]
    return []


def model_figures(entry: Entry) -> list[Path]:
    """The first :data:`FIGURES_PER_MODEL` figures of the entry's latest run that has any."""
    for files in reversed(entry.figures):
        found = [path for path in files if path.is_file()]
        if found:
            return found[:FIGURES_PER_MODEL]
    return []


def figures_html(entry: Entry, label: str) -> str:
    """The entry's model figures embedded as PNG, each captioned with its file name."""
    out = []
    for path in model_figures(entry):
        png = base64.b64encode(path.read_bytes()).decode()
        caption = html.escape(f"{label}: {path.stem.replace('-', ' ')}")
        out.append(f'<figure class="model-figure"><img alt="{caption}" '
                   f'src="data:image/png;base64,{png}"><figcaption>{caption}</figcaption>'
                   "</figure>")
    return "\n".join(out)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def samples_html(groups: list[tuple[Entry, str]], assets: Path | None) -> str:
    """Per (entry, label): a piano roll, labelled audio players and MIDI links.

    Args:
        groups: the run entries with the label to show.
        assets: the folder beside the HTML that receives MIDI and audio files (links are
            relative to its parent); None: no files are written, rolls only.
    """
    found = [(entry, label, sample_midis(entry)) for entry, label in groups]
    pieces = {path: read_midi(path) for _, _, paths in found for path in paths}
    scale = pitch_scale(list(pieces.values()))
    out = []
    for entry, label, paths in found:
        out.append(f"<h3>Samples: {html.escape(label)}</h3>")
        if not paths:
            out.append("<p>(no samples found for this row)</p>")
            out.append(figures_html(entry, label))
            continue
        png = base64.b64encode(roll_png(pieces[paths[0]], label, scale)).decode()
        out.append(f'<img class="roll" alt="piano roll of {html.escape(label)}" '
                   f'src="data:image/png;base64,{png}">')
        if not len(pieces[paths[0]].chords):
            out.append("<p class=note>Unconditional samples: no chords.</p>")
        out.append(figures_html(entry, label))
        if assets is None:
            continue
        out.append("<ul class=players>")
        for number, path in enumerate(paths, start=1):
            out.append(_player(entry, label, number, path, assets))
        out.append("</ul>")
    return "\n".join(out)


def _player(entry: Entry, label: str, number: int, midi: Path, assets: Path) -> str:
    """One list item: the sample's labelled audio player (when audio can be made) and its
    MIDI download link; the files are written into ``assets``."""
    assets.mkdir(parents=True, exist_ok=True)
    stem = assets / _slug(f"{entry.dataset}-{entry.view}-{entry.model}-{entry.preset}"
                          f"{'-official' if entry.official else ''}-{number}")
    shutil.copyfile(midi, stem.with_suffix(".mid"))
    wav = midi.with_suffix(".wav")
    audio = compress(wav, stem) if wav.is_file() else midi_to_compressed(midi, stem)
    name = f"{label}, sample {number}"
    link = f"{assets.name}/{stem.with_suffix('.mid').name}"
    parts = [f"<li><span class=label>{html.escape(name)}</span> "]
    if audio is not None:
        mime = "audio/ogg" if audio.suffix == ".ogg" else "audio/flac"
        parts.append(f'<audio controls preload="none" aria-label="{html.escape(name)}" '
                     f'title="{html.escape(name)}"><source src="{assets.name}/{audio.name}" '
                     f'type="{mime}"></audio> ')
    else:
        parts.append("(no audio: fluidsynth or a soundfont is not installed) ")
    parts.append(f'<a download href="{html.escape(link)}">MIDI</a></li>')
    return "".join(parts)
