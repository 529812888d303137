"""TheoryTab sections: scale degrees to MIDI pitches, chords, XML == event JSON, bad files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from musebench.datasets.piece import Piece
from musebench.datasets.sources import get_source
from musebench.datasets.sources.base import Skipped
from musebench.datasets.sources.theorytab import (
    TheoryTab,
    degree_offset,
    mode_scale,
    parse_xml_text,
    read_event_json,
    read_xml,
    xml_chord,
)

UNSTEADY = "x/x-ambassadors/unsteady/intro"


@pytest.fixture(scope="module")
def sections(data_root: Path) -> list[Piece | Skipped]:
    return list(get_source("theorytab").read(data_root))


def chord(**fields: str) -> ET.Element:
    element = ET.Element("chord")
    for name, value in fields.items():
        ET.SubElement(element, name).text = value
    return element


def test_mode_scales_and_degrees() -> None:
    assert mode_scale(1) == (0, 2, 4, 5, 7, 9, 11)   # ionian
    assert mode_scale(2) == (0, 2, 3, 5, 7, 9, 10)   # dorian
    assert mode_scale(6) == (0, 2, 3, 5, 7, 8, 10)   # aeolian
    assert degree_offset("3", 6) == 3 and degree_offset("4f", 1) == 4
    assert degree_offset("5s", 1) == 8


def test_chord_root_and_quality_follow_mode_borrowing_secondary_and_sus() -> None:
    a_minor, c_major = (9, 6), (0, 1)
    assert xml_chord(chord(sd="5"), *a_minor) == (4, "min")                  # v in A minor
    assert xml_chord(chord(sd="5", borrowed="0"), *a_minor) == (4, "maj")    # V from A major
    assert xml_chord(chord(sd="7", borrowed="0"), *a_minor) == (8, "dim")    # vii° from A major
    assert xml_chord(chord(sd="5", sec="6"), *c_major) == (4, "maj")         # V/vi in C: E
    assert xml_chord(chord(sd="4", sec="7"), *a_minor) == (0, "maj")  # IV/VII in Am: IV of G = C
    assert xml_chord(chord(sd="4", sus="sus2"), *c_major) == (5, "other")


def test_tag_names_xml_forbids_are_renamed() -> None:
    root = parse_xml_text("<a><sections><_Intro%20and%20Verse>1</_Intro%20and%20Verse>"
                          "</sections></a>")
    assert root.find("sections")[0].text == "1"


def test_all_twenty_sections_are_kept_or_skipped_with_reason(sections: list) -> None:
    assert len(sections) == 20
    skipped = [s for s in sections if isinstance(s, Skipped)]
    pieces = [s for s in sections if isinstance(s, Piece)]
    assert len(skipped) == 2 and all("empty section" in s.reason for s in skipped)
    with_melody = [p for p in pieces if p.meta["has_melody"]]
    chords_only = [p for p in pieces if not p.meta["has_melody"]]
    assert len(with_melody) == 15 and len(chords_only) == 3
    assert all(len(p.chords) for p in pieces) and all(len(p.notes) == 0 for p in chords_only)
    assert all(p.meta["melody_track"] == 0 and p.meta["source"] == "theorytab" for p in pieces)
    assert len({p.id for p in pieces}) == 18


def test_event_json_gives_the_same_notes_and_chords_for_every_section(
        data_root: Path, sections: list) -> None:
    events = {p.id: p for p in TheoryTab(format="event").read(data_root) if isinstance(p, Piece)}
    pieces = [s for s in sections if isinstance(s, Piece)]
    assert set(events) == {p.id for p in pieces}
    for piece in pieces:
        other = events[piece.id]
        assert np.array_equal(piece.notes, other.notes), piece.id
        assert np.array_equal(piece.chords, other.chords), piece.id
        assert (piece.key, piece.beats_per_bar) == (other.key, other.beats_per_bar)


def test_first_bar_of_unsteady_intro_note_by_note(data_root: Path) -> None:
    # D ionian. XML bar 1: degree 3 oct 0 at beat 0 for 1.5 beats -> F#4 (66), steps 0-6;
    # degree 5 oct 0 at beat 1.5 for 2 beats -> A4 (69), steps 6-14; then a rest.
    piece = read_xml(data_root / "theorytab" / "xml" / f"{UNSTEADY}.xml")
    first_bar = piece.notes[piece.notes["start"] < 16]
    assert first_bar[["start", "duration", "pitch"]].tolist() == [(0, 6, 66), (6, 8, 69)]
    assert piece.key == (2, "major") and piece.beats_per_bar == 4
    # Chords: vi (B minor), IV sus2 (G, no third: other), I (D major), one bar each.
    assert [(c.start, c.duration, c.label) for c in piece.chord_list()[:3]] == [
        (0, 16, "B:min"), (16, 16, "G:other"), (32, 16, "D:maj")]


def test_malformed_files_are_skipped_and_the_build_goes_on(data_root: Path,
                                                           tmp_path: Path) -> None:
    good = data_root / "theorytab" / "xml" / f"{UNSTEADY}.xml"
    folder = tmp_path / "theorytab" / "xml" / "a"
    folder.mkdir(parents=True)
    (folder / "good.xml").write_text(good.read_text())
    (folder / "truncated.xml").write_text(good.read_text()[:500])
    (folder / "no_key.xml").write_text(good.read_text().replace("<key>D</key>", "<key>H</key>"))
    items = list(TheoryTab().read(tmp_path))
    assert [type(i).__name__ for i in items] == ["Piece", "Skipped", "Skipped"]
    assert "invalid field" in items[1].reason and "not readable" in items[2].reason

    events = tmp_path / "theorytab" / "event" / "a"
    events.mkdir(parents=True)
    (events / "broken_symbol_key.json").write_text('{"tracks": ')
    (events / "fields_symbol_key.json").write_text('{"metadata": {}, "tracks": {}}')
    skipped = list(TheoryTab(format="event").read(tmp_path))
    assert all(isinstance(s, Skipped) for s in skipped) and len(skipped) == 2
    with pytest.raises(ValueError, match="broken_symbol_key.json: not readable JSON"):
        read_event_json(events / "broken_symbol_key.json")
