"""Property-based fuzzing of every input reader: mutated MIDI files, TheoryTab XML and
event JSON, derived from the committed fixture and (when ``MUSEBENCH_DATA`` is set) the
real shared samples, are each either read or skipped with a reason; none raises, and none
takes longer than hypothesis's per-example deadline (so none hangs).

Bounded in time: a fixed number of examples per reader, derandomised so CI sees the same
inputs on every run.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musebench.datasets.limits import limit_violation
from musebench.datasets.midi_files import read_one
from musebench.datasets.piece import Piece
from musebench.datasets.sources.fixture import FIXTURE_DIR
from musebench.datasets.sources.theorytab import TheoryTabError, read_event_json, read_xml

FUZZ = settings(max_examples=400, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

XML_SEED = """<?xml version="1.0"?><theorytab><version>1.3</version>
<meta><key>D</key><mode>6</mode><beats_in_measure>4</beats_in_measure><BPM>90</BPM>
<title>seed</title></meta><data><segment><numMeasures>2</numMeasures><melody><voice><notes>
<note><scale_degree>3</scale_degree><octave>0</octave><isRest>0</isRest>
<start_beat_abs>0</start_beat_abs><note_length>1.5</note_length></note>
<note><scale_degree>5s</scale_degree><octave>-1</octave><isRest>0</isRest>
<start_beat_abs>2</start_beat_abs><note_length>2</note_length></note></notes></voice>
</melody><harmony><chord><sd>1</sd><sec>5</sec><borrowed>-3</borrowed><isRest>0</isRest>
<start_beat_abs>0</start_beat_abs><chord_duration>4</chord_duration></chord><chord><sd>4</sd>
<isRest>0</isRest><start_beat_abs>4</start_beat_abs><chord_duration>4</chord_duration>
</chord></harmony></segment></data></theorytab>"""
EVENT_SEED = json.dumps({
    "version": "1", "num_measures": 2,
    "metadata": {"key": "D", "mode": 6, "beats_in_measure": 4, "BPM": 90, "title": "seed"},
    "tracks": {"melody": [{"pitch": 2, "isRest": False, "event_on": 0, "event_off": 1.5},
                          None, {"pitch": 9, "isRest": True, "event_on": 2, "event_off": 4}],
               "chord": [{"root": 2, "quality": "m", "isRest": False, "event_on": 0,
                          "event_off": 4, "sus": None}]}})


def shared(pattern: str, count: int) -> list[Path]:
    """The first ``count`` files of the shared data matching ``pattern`` (none if unset)."""
    root = os.environ.get("MUSEBENCH_DATA")
    if not root or not Path(root).is_dir():
        return []
    found = []
    for folder, _, names in sorted(os.walk(root)):
        found += [Path(folder) / n for n in sorted(names) if Path(n).match(pattern)]
        if len(found) >= count:
            break
    return [p for p in found[:count] if p.stat().st_size < 200_000]


MIDI_SEEDS = [p.read_bytes() for p in sorted(FIXTURE_DIR.glob("*.mid"))[:6]] + [
    p.read_bytes() for p in shared("*.mid", 4)]
XML_SEEDS = [XML_SEED] + [p.read_text("utf-8", "replace") for p in shared("*.xml", 4)]
EVENT_SEEDS = [EVENT_SEED] + [p.read_text("utf-8", "replace")
                              for p in shared("*_symbol_key.json", 4)]

position = st.floats(0, 1, allow_nan=False)
byte_edit = st.one_of(
    st.tuples(st.just("set"), position, st.integers(0, 255)),
    st.tuples(st.just("cut"), position, st.just(0)),
    st.tuples(st.just("insert"), position, st.integers(0, 255)),
    st.tuples(st.just("vlq"), position, st.integers(1, 4)),  # a huge delta time
    st.tuples(st.just("division"), st.just(0.0), st.integers(0, 65535)),
)


def mutate_bytes(data: bytes, edits: list[tuple[str, float, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value in edits:
        at = int(where * max(len(out) - 1, 0))
        if kind == "set" and out:
            out[at] = value
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = bytes([value])
        elif kind == "vlq":
            out[at:at] = b"\xff" * value + b"\x7f"
        elif kind == "division" and len(out) >= 14:
            out[12:14] = value.to_bytes(2, "big")
    return bytes(out)


def check_piece(piece: Piece) -> None:
    """What every consumer of a Piece reads must be computable without error."""
    assert piece.n_steps >= 0
    assert limit_violation(piece) is None or isinstance(limit_violation(piece), str)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(seed=st.sampled_from(MIDI_SEEDS), edits=st.lists(byte_edit, min_size=1, max_size=6))
def test_mutated_midi_is_read_or_skipped(scratch: Path, seed: bytes, edits) -> None:
    path = scratch / "fuzz.mid"
    path.write_bytes(mutate_bytes(seed, edits))
    result, _ = read_one((str(path), "fuzz.mid", 4, "fuzz"))
    if isinstance(result, Piece):
        check_piece(result)
    else:
        assert result.reason and "\n" not in result.reason


HOSTILE = st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "NaN", "1e308", "-1", "0", "-0", "abc", "", " ",
                     "99999999999", "1e12", "3.5", "9", "-9", "1s", "8f", "0x10", "\u0663"]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)


@FUZZ
@given(seed=st.sampled_from(XML_SEEDS), data=st.data())
def test_mutated_theorytab_xml_is_read_or_skipped(scratch: Path, seed: str, data) -> None:
    text = seed
    for _ in range(data.draw(st.integers(1, 4))):
        fields = [i for i in range(len(text)) if text.startswith(">", i)
                  and i + 1 < len(text) and text[i + 1] != "<"]
        if fields and data.draw(st.booleans()):
            start = data.draw(st.sampled_from(fields)) + 1
            end = text.find("<", start)
            value = data.draw(HOSTILE).replace("<", "").replace("&", "")
            text = text[:start] + value + text[end if end > 0 else len(text):]
        else:
            text = text[:int(data.draw(position) * len(text))]
    path = scratch / "fuzz.xml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        check_piece(read_xml(path))
    except TheoryTabError as error:
        assert str(path) in str(error)


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    yield path


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                        st.just([]), st.just({}), st.sampled_from([math.inf, -1, 10**12]))


@FUZZ
@given(seed=st.sampled_from(EVENT_SEEDS), data=st.data())
def test_mutated_event_json_is_read_or_skipped(scratch: Path, seed: str, data) -> None:
    document = json.loads(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        target = data.draw(st.sampled_from(list(leaves(document))))
        if not target:
            document = data.draw(JSON_VALUES)
            continue
        holder = document
        for step in target[:-1]:
            holder = holder[step]
        holder[target[-1]] = data.draw(JSON_VALUES)
    text = json.dumps(document)
    if data.draw(st.booleans()):
        text = text[:int(data.draw(position) * len(text))]
    path = scratch / "fuzz_symbol_key.json"
    path.write_text(text, encoding="utf-8")
    try:
        check_piece(read_event_json(path))
    except TheoryTabError as error:
        assert str(path) in str(error)
