"""Every numeric TheoryTab field is validated, in XML and event JSON alike: a section with
an infinite, NaN, negative, huge or out-of-range value is skipped with the field named,
and the rest of the source is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musebench.datasets.piece import Piece
from musebench.datasets.sources.theorytab import TheoryTab

XML = """<?xml version="1.0"?><theorytab><version>1.3</version>
<meta><key>C</key><mode>{mode}</mode><beats_in_measure>{beats}</beats_in_measure>
<BPM>100</BPM><title>t</title></meta><data><segment><numMeasures>{measures}</numMeasures>
<melody><voice><notes>{notes}</notes></voice></melody>
<harmony>{chords}</harmony></segment></data></theorytab>"""
NOTE = ("<note><scale_degree>1</scale_degree><octave>{octave}</octave><isRest>0</isRest>"
        "<start_beat_abs>{start}</start_beat_abs><note_length>{length}</note_length></note>")
CHORD = ("<chord><sd>1</sd><isRest>0</isRest><start_beat_abs>0</start_beat_abs>"
         "<chord_duration>4</chord_duration></chord>")


def xml(mode="1", beats="4", measures="1", octave="0", start="0", length="1",
        empty=False) -> str:
    note = "" if empty else NOTE.format(octave=octave, start=start, length=length)
    return XML.format(mode=mode, beats=beats, measures=measures, notes=note,
                      chords="" if empty else CHORD)


BAD_XML = {
    "infinite measures": (xml(measures="inf"), "numMeasures='inf'"),
    "NaN measures": (xml(measures="nan"), "numMeasures='nan'"),
    "negative start beat": (xml(start="-4"), "start_beat_abs='-4'"),
    "huge start beat": (xml(start="1e12"), "start_beat_abs='1e12'"),
    "0 beats per measure": (xml(beats="0"), "beats_in_measure='0'"),
    "negative beats per measure": (xml(beats="-3"), "beats_in_measure='-3'"),
    "octave giving pitch 660": (xml(octave="50"), "octave='50'"),
    "mode 9 in an empty section": (xml(mode="9", empty=True), "mode='9'"),
    "non-numeric length": (xml(length="abc"), "note_length='abc' is not a number"),
}


def source_folder(root: Path, kind: str, files: dict[str, str]) -> Path:
    folder = root / "theorytab" / kind / "a" / "artist" / "song"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("case", list(BAD_XML))
def test_a_bad_xml_field_skips_the_section_naming_the_field(tmp_path: Path, case: str):
    text, message = BAD_XML[case]
    root = source_folder(tmp_path, "xml", {"bad.xml": text, "good.xml": xml()})
    items = list(TheoryTab().read(root))
    pieces = [i for i in items if isinstance(i, Piece)]
    skipped = [i for i in items if not isinstance(i, Piece)]
    assert [p.id for p in pieces] == ["theorytab/a/artist/song/good"]
    assert len(skipped) == 1 and skipped[0].path.endswith("bad.xml")
    assert "invalid field" in skipped[0].reason and message in skipped[0].reason


def event(num_measures=1, on=0, pitch=0, root=0, beats=4, mode=1) -> str:
    return json.dumps({
        "version": "1", "num_measures": num_measures,
        "metadata": {"key": "C", "mode": mode, "beats_in_measure": beats, "BPM": 100},
        "tracks": {"melody": [{"pitch": pitch, "isRest": False, "event_on": on,
                               "event_off": 1}],
                   "chord": [{"root": root, "quality": "", "isRest": False, "event_on": 0,
                              "event_off": 4}]}})


BAD_EVENTS = {
    "infinite measures": (event(num_measures=float("inf")), "num_measures=inf"),
    "NaN measures": (event(num_measures=float("nan")), "num_measures=nan"),
    "negative onset": (event(on=-2), "event_on=-2"),
    "pitch 600": (event(pitch=600), "pitch=600"),
    "infinite root": (event(root=float("inf")), "root=inf"),
    "0 beats": (event(beats=0), "beats_in_measure=0"),
    "mode 9": (event(mode=9), "mode=9"),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_bad_event_field_skips_the_section_naming_the_field(tmp_path: Path, case: str):
    text, message = BAD_EVENTS[case]
    root = source_folder(tmp_path, "event", {"bad_symbol_key.json": text,
                                             "good_symbol_key.json": event()})
    items = list(TheoryTab(format="event").read(root))
    assert [i.id for i in items if isinstance(i, Piece)] == ["theorytab/a/artist/song/good"]
    skipped = [i for i in items if not isinstance(i, Piece)]
    assert len(skipped) == 1 and message in skipped[0].reason


def test_the_good_section_reads_as_middle_c(tmp_path: Path):
    root = source_folder(tmp_path, "xml", {"good.xml": xml(octave="-1")})
    (piece,) = TheoryTab().read(root)
    assert piece.notes["pitch"].tolist() == [48]
