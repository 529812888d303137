"""The one way musebench finds and reads MIDI files, shared by ``data`` and ``score``.

:func:`list_midi_files` walks a folder (following symbolic links) and returns the
``.mid``/``.midi`` files and, as :class:`~musebench.datasets.sources.Skipped`, what is
named like one but cannot be read as one: a directory named ``*.mid``, a dangling link,
a link loop (a folder link pointing back into its own ancestry). :func:`read_one` reads
one file into a Piece or a Skipped with a one-line reason (unreadable, no notes, beyond
the limits of :mod:`musebench.datasets.limits`); no file raises. ``midi:<folder>``
(:mod:`musebench.datasets.sources.midi_folder`) and ``musebench score`` both go through
these two functions, so they keep and skip the same files for the same reasons.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from musebench.datasets.limits import limit_violation
from musebench.datasets.midi import MidiReadError, read_midi
from musebench.datasets.piece import Piece
from musebench.datasets.sources.base import Skipped

MIDI_SUFFIXES: tuple[str, ...] = (".mid", ".midi")


def list_midi_files(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """The MIDI files under ``folder`` (sorted; links followed) and the skipped entries."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    _walk(Path(folder), {os.path.realpath(folder)}, files, skipped)
    return sorted(files), sorted(skipped, key=lambda s: s.path)


def _walk(folder: Path, ancestors: set[str], files: list[Path], skipped: list[Skipped]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        skipped.append(Skipped(str(folder), f"cannot list folder ({error.strerror})"))
        return
    for entry in entries:
        path = Path(entry.path)
        midi_name = path.suffix.lower() in MIDI_SUFFIXES
        if entry.is_symlink() and not path.exists():
            if midi_name or _is_loop(path):
                skipped.append(Skipped(str(path), _broken_link_reason(path)))
            continue
        if entry.is_dir(follow_symlinks=True):
            real = os.path.realpath(path)
            if real in ancestors:
                skipped.append(Skipped(str(path), "symbolic link loop (points back into "
                                                  "its own parent folders)"))
            elif midi_name:
                skipped.append(Skipped(str(path), "a directory named like a MIDI file"))
            else:
                _walk(path, ancestors | {real}, files, skipped)
        elif midi_name:
            if entry.is_file(follow_symlinks=True):
                files.append(path)
            else:
                skipped.append(Skipped(str(path), "not a regular file"))


def _is_loop(path: Path) -> bool:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return True
    except OSError as error:
        return error.errno == 40  # ELOOP
    return False


def _broken_link_reason(path: Path) -> str:
    if _is_loop(path):
        return "symbolic link loop"
    return f"dangling symbolic link (to {os.readlink(path)})"


def read_one(job: tuple[str, str, int, str], keep_empty: bool = False
             ) -> tuple[Piece | Skipped, str | None]:
    """Parse one file (may run in a worker process): the Piece or a Skipped, and any
    warning.

    Args:
        job: ``(path, piece id, steps_per_beat, source name)``.
        keep_empty: keep a file without notes (``score``: an empty generated sample is a
            sample, scored as such); data sets skip it.
    """
    path, piece_id, steps_per_beat, source = job
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            piece = read_midi(path, steps_per_beat=steps_per_beat, id=piece_id, source=source)
        except (MidiReadError, OSError) as error:
            return Skipped(path, _one_line(str(error).removeprefix(f"{path}: "))), None
        except Exception as error:  # noqa: BLE001 - one broken file must not stop the build
            reason = f"unexpected {type(error).__name__} while reading: {error}"
            return Skipped(path, _one_line(reason)), None
    warning = "; ".join(str(w.message) for w in caught) or None
    if warning:
        piece.meta["read_warning"] = warning
    if len(piece.notes) == 0 and not keep_empty:
        return Skipped(path, "no notes (only drums or empty tracks)"), warning
    if reason := limit_violation(piece):
        return Skipped(path, reason), warning
    return piece, warning


def _one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())
