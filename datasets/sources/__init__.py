"""The registry of data sources: name -> Source class, imported lazily.

Importing a source module can be slow (music21), so the registry maps each name to
``module:Class`` and imports on first use. ``midi:<folder>`` selects any folder of
MIDI files.
"""

from __future__ import annotations

import importlib

from musebench.datasets.sources.base import Skipped, Source, SourceError
from musebench.util import did_you_mean

SOURCES: dict[str, str] = {
    "bach": "musebench.datasets.sources.music21_corpus:BachChorales",
    "essen": "musebench.datasets.sources.music21_corpus:EssenFolksongs",
    "oneills": "musebench.datasets.sources.music21_corpus:OneillsTunes",
    "theorytab": "musebench.datasets.sources.theorytab:TheoryTab",
    "fixture": "musebench.datasets.sources.fixture:Fixture",
    "jsb": "musebench.datasets.sources.boulanger:JSBChorales",
    "jsb-quarter": "musebench.datasets.sources.boulanger:JSBQuarterPickle",
    "jsb16": "musebench.datasets.sources.boulanger:JSB16thSeparated",
    "musedata": "musebench.datasets.sources.boulanger:MuseData",
    "nottingham": "musebench.datasets.sources.boulanger:Nottingham",
    "pianomidi": "musebench.datasets.sources.boulanger:PianoMidi",
    "classical": "musebench.datasets.sources.midi_folder:ClassicalMidi",
    "cello": "musebench.datasets.sources.cello:CelloSuites",
}


def source_names() -> list[str]:
    """Every registered source name (plus ``midi:<folder>`` for a user's own MIDI)."""
    return sorted(SOURCES)


def get_source(name: str) -> Source:
    """The Source registered as ``name``; ``midi:<folder>`` reads a folder of MIDI files.

    Raises:
        KeyError: unknown name (the message lists the valid ones).
        SourceError: ``midi:`` with an empty folder.
    """
    if name.startswith("midi:"):
        from musebench.datasets.sources.midi_folder import MidiFolder

        folder = name.removeprefix("midi:")
        if not folder.strip():
            raise SourceError("dataset 'midi:' names no folder: write midi:<folder> (an "
                              "empty path would scan the current folder)")
        return MidiFolder(folder)
    if name not in SOURCES:
        valid = ", ".join(source_names() + ["midi:<folder>"])
        raise KeyError(f"unknown dataset {name}{did_you_mean(name, SOURCES)} "
                       f"(valid names: {valid})")
    module, cls = SOURCES[name].split(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = ["SOURCES", "Skipped", "Source", "SourceError", "get_source", "source_names"]
