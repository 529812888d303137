"""music21 corpus sources: Bach chorales (4 voices, derived chords) and ABC folk tunes."""

from __future__ import annotations

from pathlib import Path

import pytest

from musebench.datasets.cache import load
from musebench.datasets.piece import Piece
from musebench.datasets.sources import get_source
from musebench.datasets.sources.base import Skipped
from musebench.datasets.sources.music21_corpus import (
    BachChorales,
    EssenFolksongs,
    chorale_files,
    corpus_root,
    parse_abc_file,
    parse_chorale,
    split_abc_tunes,
)

BWV269 = corpus_root() / "bach" / "bwv269.mxl"


@pytest.fixture(scope="module")
def bwv269() -> Piece:
    piece = parse_chorale(str(BWV269))
    assert isinstance(piece, Piece)
    return piece


def test_chorale_list_has_350_unique_files() -> None:
    files = chorale_files()
    assert len(files) == 350 and len(set(files)) == 350


def test_chorale_has_four_voices_melody_key_and_bar_grid(bwv269: Piece) -> None:
    assert bwv269.id == "bach/bwv269" and bwv269.meta["source"] == "bach"
    assert bwv269.meta["track_names"] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert bwv269.meta["melody_track"] == 0
    assert sorted(set(bwv269.notes["track"].tolist())) == [0, 1, 2, 3]
    assert bwv269.key == (7, "major")  # "Aus meines Herzens Grunde", G major
    assert (bwv269.steps_per_beat, bwv269.beats_per_bar) == (4, 3)
    # One-beat pickup in 3/4: the first note sits on beat 3 of an empty first bar.
    assert int(bwv269.notes["start"].min()) == 8
    # The soprano opens G4 (pickup) | G4 (half note) D5.
    soprano = bwv269.notes[bwv269.notes["track"] == 0]
    assert soprano["pitch"][:3].tolist() == [67, 67, 74]


def test_chorale_chords_match_a_hand_analysis_of_the_first_phrase(bwv269: Piece) -> None:
    # BWV 269, first phrase (to the fermata on V), one chord per beat, worked out by hand
    # from the four voices (bass, tenor, alto, soprano):
    #  8 G2 B3 D4 G4  I      12 G3 B3 D4 G4  I      16 E3 C4>B3 E4 G4  vi (C passing)
    # 20 F#3 A3 D4 D5 V6     24 G3 G3 D4 B4  I      28 D3 F#3 D4 B4>A4 V (B passing)
    # 32 E3 G3 B3 G4  vi     36 C3 C4>B3 E4>D4 G4  IV (passing B, D)
    # 40 A2>B2 C4 E4>F#4 G4>A4  ii7 (A C E G; second half passing)
    # 44 G2 D4 G4 B4  I      48 D3 D4 F#4 A4  V      52 D3 D4 F#4 A4  V (fermata)
    expected = ["G:maj", "G:maj", "E:min", "D:maj", "G:maj", "D:maj", "E:min", "C:maj",
                "A:min", "G:maj", "D:maj", "D:maj"]
    chords = [c for c in bwv269.chord_list() if 8 <= c.start < 56]
    assert [c.start for c in chords] == list(range(8, 56, 4))
    assert [c.label for c in chords] == expected


def test_non_four_part_chorale_is_skipped_with_its_part_count() -> None:
    skipped = parse_chorale(str(corpus_root() / "bach" / "bwv8.6.mxl"))
    assert isinstance(skipped, Skipped) and "5 parts" in skipped.reason


def test_bach_source_limit_reads_the_first_files_in_worker_processes() -> None:
    source = get_source("bach")
    assert isinstance(source, BachChorales) and source.needs_data_root is False
    limited = BachChorales(limit=3, workers=2)
    items = list(limited.read(None))
    assert [i.id for i in items] == [f"bach/{p.stem}" for p in chorale_files()[:3]]
    assert limited.options() == {"limit": 3}
    assert limited.files_signature(None).startswith("music21 ")


def test_abc_file_yields_one_piece_per_tune_and_skips_a_broken_tune(tmp_path: Path) -> None:
    abc = tmp_path / "tunes.abc"
    abc.write_text(
        "X:1\nT:Scale\nM:4/4\nL:1/4\nK:G\nG A B c|d2 d2|]\n\n"
        "X:2\nT:Broken\nM:4/4\nL:1/4\nK:G\nG A (3B c|]\n\n"
        "X:3\nT:Waltz\nM:3/4\nL:1/8\nK:Dm\nD2 F2 A2|d6|]\n")
    items = parse_abc_file(str(abc), "essen")
    pieces = [i for i in items if isinstance(i, Piece)]
    assert [p.id for p in pieces][0] == "essen/tunes#1"
    scale = pieces[0]
    assert scale.notes["pitch"].tolist() == [67, 69, 71, 72, 74, 74]
    assert scale.notes["start"].tolist() == [0, 4, 8, 12, 16, 24]
    assert scale.key == (7, "major") and scale.beats_per_bar == 4
    waltz = [p for p in pieces if p.id == "essen/tunes#3"][0]
    assert waltz.key == (2, "minor") and waltz.beats_per_bar == 3
    assert waltz.notes["duration"].tolist() == [4, 4, 4, 12]


def test_unparseable_tune_is_skipped_alone(tmp_path: Path) -> None:
    abc = tmp_path / "bad.abc"
    abc.write_text("X:1\nT:Fine\nM:4/4\nL:1/4\nK:C\nC D E F|]\n\nX:2\nT:Bad\nM:4/4\nK:Zz\n\n")
    items = parse_abc_file(str(abc), "oneills")
    assert isinstance(items[0], Piece)
    assert all(isinstance(i, Skipped) and "bad.abc#X:2" in i.path for i in items[1:])
    assert len(items) == 2


def test_key_field_or_key_analysis(tmp_path: Path) -> None:
    # An A-minor tune under a bare "K:C" signature (as every Essen K: field is written).
    abc = tmp_path / "minor.abc"
    abc.write_text("X:1\nT:Minor\nM:4/4\nL:1/4\nK:C\nA, C E A|E C A,2|B, D E ^G|A4|]\n")
    assert parse_abc_file(str(abc), "oneills")[0].key == (0, "major")
    assert parse_abc_file(str(abc), "essen", analyse_key=True)[0].key == (9, "minor")
    assert EssenFolksongs.analyse_key is True and get_source("oneills").analyse_key is False


def test_real_essen_tunes_parse_with_file_and_tune_ids(tmp_path: Path) -> None:
    first_file = EssenFolksongs().files()[0]
    header, tunes = split_abc_tunes(first_file.read_text(encoding="latin-1"))
    assert len(tunes) > 300
    excerpt = tmp_path / first_file.name
    excerpt.write_text(header + "".join(text for _, text in tunes[:4]), encoding="latin-1")
    pieces = parse_abc_file(str(excerpt), "essen", analyse_key=True)
    assert [p.id for p in pieces] == [f"essen/{first_file.stem}#{n}" for n, _ in tunes[:4]]
    assert all(isinstance(p, Piece) and len(p.notes) and p.key is not None for p in pieces)
    assert pieces[0].meta["title"] == "Das Hildebrandslied"


@pytest.mark.slow
def test_bach_source_yields_332_four_part_chorales(session_cache: Path) -> None:
    # 371 iterator entries, 350 distinct files (see chorale_files), 18 not in four parts.
    # Read through the session's cache, which stores what the source yielded: the corpus is
    # parsed once for every test that needs it (a minute on one core).
    data = load("bach")
    pieces = data.pieces
    assert len(pieces) + len(data.manifest["skipped"]) == 350 and len(pieces) == 332
    assert len({p.id for p in pieces}) == 332
    assert all(len(p.meta["track_names"]) == 4 and len(p.chords) for p in pieces)
