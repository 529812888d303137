"""Boulanger sources (datasets/sources/boulanger.py): official splits, exact rolls, safe pickles."""

from __future__ import annotations

import os
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from musebench.datasets.cache import load
from musebench.datasets.codecs import FrameRollCodec
from musebench.datasets.sources import Skipped, SourceError
from musebench.datasets.sources.boulanger import (
    JSB16thSeparated,
    JSBChorales,
    JSBQuarterPickle,
    load_restricted_npz,
    load_restricted_pickle,
    steps_to_roll,
    voices_to_notes,
)

# Table of the data README (pieces and steps per split).
PUBLISHED = {
    "jsb": ((229, 76, 77), (13_807, 4_602, 4_725)),
    "nottingham": ((694, 173, 170), (176_561, 45_513, 44_463)),
    "pianomidi": ((87, 12, 25), (75_911, 8_540, 19_036)),
    "musedata": ((524, 135, 124), (245_202, 82_755, 64_339)),
}
SPLIT_VARIABLES = (("train", "traindata"), ("valid", "validdata"), ("test", "testdata"))


def cells(rolls: list[np.ndarray]) -> np.ndarray:
    """A MATLAB 1 x N cell array of rolls, as scipy.io writes it."""
    out = np.empty((1, len(rolls)), dtype=object)
    for i, roll in enumerate(rolls):
        out[0, i] = roll
    return out


@pytest.fixture
def small_mat_root(tmp_path: Path) -> tuple[Path, dict[str, list[np.ndarray]]]:
    """A data root with a hand-made JSB_Chorales.mat (random rolls, trailing silence)."""
    rng = np.random.default_rng(1)
    rolls = {}
    for split, _ in SPLIT_VARIABLES:
        rolls[split] = []
        for length in (5, 9):
            roll = (rng.random((length, 88)) < 0.05).astype(np.uint8)
            roll[-2:] = 0
            rolls[split].append(roll)
    (tmp_path / "boulanger").mkdir()
    scipy.io.savemat(tmp_path / "boulanger" / "JSB_Chorales.mat",
                     {variable: cells(rolls[split]) for split, variable in SPLIT_VARIABLES})
    return tmp_path, rolls


def test_mat_pieces_reproduce_the_rolls_exactly_with_official_splits(small_mat_root) -> None:
    root, rolls = small_mat_root
    pieces = list(JSBChorales().read(root))
    codec = FrameRollCodec(21, 108)
    expected = [(split, roll) for split, _ in SPLIT_VARIABLES for roll in rolls[split]]
    assert len(pieces) == len(expected)
    for piece, (split, roll) in zip(pieces, expected, strict=True):
        assert piece.split == split
        assert piece.n_steps == len(roll)
        np.testing.assert_array_equal(codec.encode(piece)["roll"], roll)
        assert piece.steps_per_beat == 1
        assert piece.meta["frame_rate"] == "one frame per quarter note"


def test_pieces_get_derived_chords(small_mat_root) -> None:
    root, _ = small_mat_root
    pieces = list(JSBChorales().read(root))
    assert any(len(p.chords) for p in pieces)


def test_roll_with_wrong_width_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "boulanger").mkdir()
    good = np.zeros((4, 88), np.uint8)
    good[0, 39] = 1
    scipy.io.savemat(tmp_path / "boulanger" / "JSB_Chorales.mat",
                     {"traindata": cells([good, np.zeros((4, 50), np.uint8)]),
                      "validdata": cells([good]), "testdata": cells([good])})
    items = list(JSBChorales().read(tmp_path))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(items) == 4 and len(skipped) == 1
    assert "jsb/train/001" in skipped[0].path and "(4, 50)" in skipped[0].reason


def test_missing_mat_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="JSB_Chorales.mat not found"):
        list(JSBChorales().read(tmp_path))


def test_restricted_unpickler_loads_plain_data_with_numpy_scalars(tmp_path: Path) -> None:
    data = {"train": [[(np.int64(60), np.int64(64)), ()]], "valid": [], "test": [[(72,)]]}
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(data, protocol=2))
    assert load_restricted_pickle(path) == data


class Exploit:
    """Unpickling this would run ``os.system``."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickle_carrying_code_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"train": [Exploit()]}))
    with pytest.raises(SourceError, match=r"evil\.pkl: refused to unpickle .*refused global"):
        load_restricted_pickle(path)


def test_steps_to_roll_places_pitches_and_rejects_out_of_range() -> None:
    roll = steps_to_roll([(21, 108), (), (60,)])
    assert roll.shape == (3, 88)
    assert np.flatnonzero(roll[0]).tolist() == [0, 87] and not roll[1].any() and roll[2, 39]
    with pytest.raises(ValueError, match="pitch outside"):
        steps_to_roll([(20,)])


def test_real_pickle_matches_the_mat_rolls(data_root: Path) -> None:
    mat = scipy.io.loadmat(data_root / "boulanger" / "JSB_Chorales.mat")
    pieces = list(JSBQuarterPickle().read(data_root))
    codec = FrameRollCodec(21, 108)
    for split, variable in SPLIT_VARIABLES:
        rolls = mat[variable].ravel()
        chosen = [p for p in pieces if p.split == split]
        assert len(chosen) == len(rolls)
        for piece, roll in zip(chosen, rolls, strict=True):
            np.testing.assert_array_equal(codec.encode(piece)["roll"], roll)


@pytest.mark.parametrize("name", [
    "jsb", "nottingham", "pianomidi", pytest.param("musedata", marks=pytest.mark.slow)])
def test_real_sets_have_the_published_counts_and_exact_rolls(data_root: Path, name: str) -> None:
    data = load(name, data_root)
    pieces, steps = PUBLISHED[name]
    counts = data.manifest["counts"]
    assert tuple(counts[s]["pieces"] for s in ("train", "valid", "test")) == pieces
    assert tuple(counts[s]["steps"] for s in ("train", "valid", "test")) == steps
    source = {"jsb": "JSB_Chorales", "nottingham": "Nottingham", "pianomidi": "Piano_midi",
              "musedata": "MuseData"}[name]
    mat = scipy.io.loadmat(data_root / "boulanger" / f"{source}.mat")
    codec = FrameRollCodec(21, 108)
    for split, variable in SPLIT_VARIABLES:
        for piece, roll in zip(data.split(split), mat[variable].ravel(), strict=True):
            np.testing.assert_array_equal(codec.encode(piece)["roll"], roll)


def test_voices_become_one_note_per_run_with_voice_tracks() -> None:
    nan = np.nan
    voices = np.array([[72, 60], [72, 60], [nan, 62], [74, 62], [74, nan]])
    notes = voices_to_notes(voices)
    assert notes[["start", "duration", "pitch", "track"]].tolist() == [
        (0, 2, 60, 1), (0, 2, 72, 0), (2, 2, 62, 1), (3, 2, 74, 0)]
    with pytest.raises(ValueError, match="integers in 0..127"):
        voices_to_notes(np.array([[60.5]]))


def test_npz_object_array_carrying_code_is_refused(tmp_path: Path) -> None:
    plain = np.empty(2, dtype=object)
    plain[0], plain[1] = np.array([[60.0, np.nan]]), np.array([[62.0, 55.0]])
    np.savez(tmp_path / "plain.npz", train=plain)
    assert load_restricted_npz(tmp_path / "plain.npz")["train"][1].tolist() == [[62.0, 55.0]]
    evil = np.empty(1, dtype=object)
    evil[0] = Exploit()
    np.savez(tmp_path / "evil.npz", train=evil)
    with pytest.raises(SourceError, match=r"evil\.npz: refused to read .*refused global"):
        load_restricted_npz(tmp_path / "evil.npz")


def test_real_16th_note_voices_have_the_official_split_sizes(data_root: Path) -> None:
    pieces = list(JSB16thSeparated().read(data_root))
    assert Counter(p.split for p in pieces) == {"train": 229, "valid": 76, "test": 77}
    assert all(set(np.unique(p.notes["track"])) <= {0, 1, 2, 3} for p in pieces)
    assert pieces[0].melody().notes["pitch"].tolist()[:2] == [74, 75]
