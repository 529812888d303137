"""The arena's systems and pairs: clips from a results store and the real data, the
condition marker in MIDI, same-condition pairing, sanity pairs."""

from __future__ import annotations

import numpy as np
import pytest
import symusic
from arena_study import make_results

from musebench.arena.pairs import PairSampler
from musebench.arena.systems import REAL, study_systems
from musebench.datasets import load
from musebench.datasets.midi import read_midi, write_midi
from musebench.datasets.piece import Piece, make_notes
from musebench.leaderboard.store import read_rows


def test_condition_travels_through_midi(tmp_path):
    piece = Piece(make_notes([0, 4], 4, [60, 62]), meta={"id": "x", "condition": "jsb/12@32"})
    assert read_midi(write_midi(piece, tmp_path / "x.mid")).meta["condition"] == "jsb/12@32"
    del piece.meta["condition"]
    assert "condition" not in read_midi(write_midi(piece, tmp_path / "y.mid")).meta


def test_study_systems_are_the_models_and_the_real_data(tmp_path):
    systems = study_systems(read_rows(make_results(tmp_path)), tmp_path / "w", bars=2)
    by_name = {s.name: s for s in systems}
    assert set(by_name) == {REAL, "midinet", "random"}
    assert by_name["midinet"].conditional and not by_name["random"].conditional
    conditions = {c.condition for c in by_name["midinet"].clips}
    assert conditions == {"fixture/bwv115_6", "fixture/bwv117_4"}
    assert {c.condition for c in by_name[REAL].clips} == conditions
    clip = read_midi(by_name["midinet"].clips[0].midi)
    assert clip.n_steps == 2 * 16 and "condition" not in clip.meta  # cut, and blind


def test_pairs_share_the_condition_and_sanity_pairs_are_real_against_random(tmp_path):
    systems = study_systems(read_rows(make_results(tmp_path)), tmp_path / "w")
    sampler = PairSampler(systems, "random", sanity_rate=0.2, seed=0)
    draws = [sampler.draw() for _ in range(400)]
    conditional = {"midinet", REAL}
    for pair in draws:
        assert pair.a.system != pair.b.system
        if {pair.a.system, pair.b.system} == conditional:
            assert pair.a.condition == pair.b.condition is not None
    sanity = [p for p in draws if p.sanity_winner]
    assert all({p.a.system, p.b.system} == {REAL, "random"} and p.sanity_winner == REAL
               for p in sanity)
    assert 0.12 < len(sanity) / len(draws) < 0.28
    first_is = np.array([p.a.system == REAL for p in draws if REAL in (p.a.system, p.b.system)])
    assert 0.4 < first_is.mean() < 0.6  # the order is random


def test_rows_of_two_datasets_are_refused(tmp_path):
    rows = read_rows(make_results(tmp_path))
    rows[1]["dataset"] = "jsb"
    with pytest.raises(ValueError, match="one dataset"):
        study_systems(rows, tmp_path / "w")


def test_bench_marks_the_conditions_of_a_conditional_models_samples():
    from musebench.experiments.bench import mark_conditions
    from musebench.models import get_model

    conditions = [Piece(make_notes([0], 4, [60]), meta={"id": c}) for c in ("c0", "c1")]
    samples = [Piece(make_notes([0], 4, [62]), meta={"id": f"s{i}"}) for i in range(3)]
    samples[2].meta["condition"] = "own"  # a model's own record is kept
    model = get_model("midinet").__new__(get_model("midinet"))  # no weights needed
    mark_conditions(model, samples, conditions)
    assert [s.meta["condition"] for s in samples] == ["c0", "c1", "own"]
    unconditional = get_model("random").__new__(get_model("random"))
    mark_conditions(unconditional, [fresh := Piece(make_notes([0], 4, [62]))], conditions)
    assert "condition" not in fresh.meta


def test_clips_carry_no_chord_track_so_conditional_systems_do_not_stand_out(tmp_path):
    from musebench.arena.systems import write_clip
    from musebench.datasets.midi import CHORD_TRACK

    piece = load("fixture").split("test")[0]
    assert len(piece.chords), "the fixture's chorales carry chords"
    clip = write_clip(piece, "real", piece.meta["id"], tmp_path, bars=2)
    tracks = [track.name for track in symusic.Score(str(clip.midi)).tracks]
    assert CHORD_TRACK not in tracks and tracks
    assert len(piece.chords), "the caller's piece keeps its chords"
