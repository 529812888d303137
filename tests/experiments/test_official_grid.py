"""The tracks protocol and the official grid (issue #11, items 1 and 6), smoke-sized."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from musebench.experiments import official, tracks
from musebench.experiments.tracks import Cell
from musebench.leaderboard.store import append_row, read_rows
from musebench.leaderboard.tracks import track_table

TINY = """
preset: smoke
seeds_first: 1
seeds_other: 1
samples_kept: 2
tracks:
  melody:
    title: Melody with chords
    datasets: [fixture]
    view: melody
    requires: [notes]
    headline: [chord_conformance_notes, within_condition_diversity, collapsed]
"""


def test_models_join_tracks_by_capability() -> None:
    protocol = tracks.load_protocol()
    caps = tracks.capabilities("smoke")
    melody, poly, classical, multi = (tracks.members(protocol.track(t), caps)
                                      for t in ("melody", "polyphonic", "classical", "multitrack"))
    assert {"midinet", "midinet_model1", "midinet_model2", "lstm_attention", "crnngan",
            "music_transformer", "melody_rnn", "melody_rnn_lookback", "melody_rnn_attention",
            "markov", "random"} == set(melody)
    assert poly == ["biaxial", "pianoroll_lstm", "rnn_nade"]  # the codecs that hold frames
    assert set(classical) == {"crnngan", "biaxial", "pianoroll_lstm", "rnn_nade",
                              "music_transformer"}
    assert multi == ["musegan", "musegan_composer", "musegan_jamming"]  # codecs with tracks
    assert protocol.track("multitrack").datasets == ("jsb16",)
    cells = tracks.cells(protocol, caps, ["polyphonic"])
    jsb = [c for c in cells if c.dataset == "jsb"]
    assert sorted({c.seed for c in jsb}) == [0, 1, 2]           # 3 seeds on the first dataset
    assert {c.seed for c in cells if c.dataset == "musedata"} == {0}
    part = tracks.cells(protocol, caps, ["polyphonic"], [0, 2], ["jsb"], ["rnn_nade"])
    assert part == [Cell("polyphonic", "jsb", "rnn_nade", 0), Cell("polyphonic", "jsb", "rnn_nade", 2)]
    with pytest.raises(ValueError, match="no chosen track has model 'midinet'"):
        tracks.cells(protocol, caps, ["polyphonic"], models=["midinet"])
    with pytest.raises(ValueError, match="dataset 'jsb32'"):
        tracks.cells(protocol, caps, datasets=["jsb32"])


def test_bad_protocol_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "tracks.yaml"
    path.write_text(TINY.replace("view: melody", "view: chords"))
    with pytest.raises(ValueError, match="track melody: view = 'chords'"):
        tracks.load_protocol(path)
    with pytest.raises(ValueError, match="unknown track 'drums'"):
        tracks.load_protocol().track("drums")


def test_smoke_grid_runs_records_and_resumes(tmp_path: Path, data_root: Path) -> None:
    path = tmp_path / "tracks.yaml"
    path.write_text(TINY)
    protocol = tracks.load_protocol(path)
    store = tmp_path / "results" / "official.jsonl"
    cells = [Cell("melody", "fixture", "markov", 0), Cell("melody", "fixture", "random", 0)]
    assert "2 cell(s) to run, 0 already done" in official.describe(cells, [], "smoke")
    # markov's row from before a config change, and a user's own (not official) run
    earlier = {"run_id": "old", "model": "markov", "dataset": "fixture", "preset": "smoke",
               "seed": 0, "metrics": {}, "track": "melody", "official": True,
               "folder": str(tmp_path / "old-run")}
    append_row(earlier, store)
    append_row(dict(earlier, run_id="mine", official=False, folder="elsewhere"), store)
    rows = official.run_grid(protocol, cells, store, tmp_path / "runs", data_root,
                             allow_dirty=True, say=lambda _: None)
    assert [r["run_id"] for r in read_rows(store)][0] == "mine"  # kept; "old" replaced
    stored = [r for r in read_rows(store) if r["run_id"] != "mine"]
    assert len(stored) == 2 and {r["model"] for r in stored} == {"markov", "random"}
    for row in stored:
        assert row["track"] == "melody" and row["view"] == "melody"
        assert len(row["code_hash"]) == 16 and row["clean_tree"] is False
        assert 0 <= row["ceiling"]["chord_conformance_notes"] <= 1
        assert "within_condition_diversity" in row["metrics"]
        assert row["budget"]["max_epochs"] == 0
        assert len(row["samples"]) == 2
        assert all((store.parent / p).is_file() for p in row["samples"])
    assert {r["config_hash"] for r in stored} == {
        official.config_hash(official.cell_config(c, protocol)) for c in cells}
    todo, skipped = official.pending(cells, stored, protocol)
    assert todo == [] and skipped == cells
    changed = official.pending(cells, stored, protocol,
                               hasher=lambda m, d, p: "other" if m == "random" else
                               official.code_hash(m, d, p))
    assert changed[0] == [cells[1]]
    table = track_table([dict(r, clean_tree=True) for r in rows], "melody", "fixture",
                        ["chord_conformance_notes"])
    assert list(table["row"]) == ["markov", "markov (ceiling)", "random", "random (ceiling)"]
    trial = track_table(rows, "melody", "fixture", ["chord_conformance_notes"])
    assert list(trial["row"])[:2] == ["markov (trial)", "markov (trial) (ceiling)"]


def test_code_hash_follows_the_model_file() -> None:
    files = official.dependency_files("midinet", "bach", "smoke")
    names = {p.name for p in files}
    assert {"midinet.py", "base.py", "music21_corpus.py", "harmony.py", "scoring.py"} <= names
    assert official.code_hash("midinet", "bach", "smoke") != official.code_hash(
        "markov", "bach", "smoke")


def test_code_hash_reads_musebench_files_only_wherever_the_venv_lies(monkeypatch) -> None:
    """A clone's ``make install`` puts ``.venv`` inside the package's folder: the bases from
    torch and Lightning then sat under it and joined the hash, so a clean clone saw every
    official row as stale. Here every file is under the package folder ("/")."""
    from musebench.models import get_model

    monkeypatch.setattr(official, "_PACKAGE", Path("/"))
    files = official._class_files(get_model("rnn_nade"))
    assert [f.name for f in files] == ["rnn_nade.py", "likelihood_generator.py", "base.py"]


def test_code_hash_follows_the_models_helper_modules() -> None:
    """MidiNet's networks live in ``midinet_layers.py`` and the Music Transformer's in
    ``relative_attention.py``: the hash read only class files, so a change to either left
    every row of these models looking current."""
    def edited(name: str):
        def read(relative: str) -> bytes | None:
            content = official._read_worktree(relative)
            return content + b"# edited\n" if relative == name and content else content
        return read

    today = official.code_hash("midinet", "bach", "smoke")
    assert official.code_hash("midinet", "bach", "smoke",
                              edited("models/midinet_layers.py")) != today
    assert official.code_hash("midinet", "bach", "smoke",
                              edited("models/musegan_layers.py")) == today
    names = {p.name for p in official.dependency_files("music_transformer", "bach", "smoke")}
    assert "relative_attention.py" in names and "midinet_layers.py" not in names


def test_rehash_reads_each_rows_files_at_its_commit(tmp_path: Path) -> None:
    """A repository holding markov's files: a row made at the commit whose files equal
    today's gets today's hash; one made where a file differed does not; a dirty row keeps
    its hash; an unknown commit is an error naming the cell."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              cwd=tmp_path, check=True, capture_output=True,
                              text=True).stdout.strip()
    git("init", "-q")
    files = official.dependency_files("markov", "bach", "standard")
    for path in files:
        target = tmp_path / path.relative_to(official._PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    git("add", ".")
    git("commit", "-qm", "today's files")
    same = git("rev-parse", "HEAD")
    (tmp_path / "models" / "count_baseline.py").write_text("# another model\n")
    git("commit", "-qam", "changed")
    other = git("rev-parse", "HEAD")
    base = {"official": True, "model": "markov", "dataset": "bach",
            "protocol_preset": "standard", "seed": 0, "code_hash": "old"}
    rows = [dict(base, git_commit=same, clean_tree=True),
            dict(base, git_commit=other, clean_tree=True),
            dict(base, git_commit="dirty", clean_tree=False)]
    assert official.rehash(rows, tmp_path) == 2
    today = official.code_hash("markov", "bach", "standard")
    assert [r["code_hash"] for r in rows][0] == today
    assert rows[1]["code_hash"] not in (today, "old") and rows[2]["code_hash"] == "old"
    with pytest.raises(RuntimeError, match="bach/markov/seed 0: commit 0+ is not"):
        official.rehash([dict(base, git_commit="0" * 40, clean_tree=True)], tmp_path)


def test_dirty_tree_is_refused(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-qm", "one")
    assert len(official.check_clean_tree(tmp_path)) == 40
    (tmp_path / "leaderboard" / "results").mkdir(parents=True)
    (tmp_path / "leaderboard" / "results" / "official.jsonl").write_text("")
    git("add", "leaderboard")
    git("commit", "-qm", "store")
    (tmp_path / "leaderboard" / "results" / "official.jsonl").write_text("{}\n")
    assert len(official.check_clean_tree(tmp_path)) == 40   # the grid's own output
    (tmp_path / "a.txt").write_text("2")
    with pytest.raises(RuntimeError, match="uncommitted changes \\(a.txt\\)"):
        official.check_clean_tree(tmp_path)


def test_cost_is_the_sum_of_the_configs_budgets() -> None:
    from musebench.experiments.config import load_config

    cells = [Cell("melody", "bach", "midinet", s) for s in range(3)]
    cells.append(Cell("melody", "bach", "markov", 0))
    expected = 3 * load_config("midinet", "standard")["budget_minutes"] + load_config(
        "markov", "standard")["budget_minutes"]
    assert official.cost_minutes(cells, "standard") == pytest.approx(expected)
    assert official.cost_minutes(cells, "smoke") == pytest.approx(4 * 0.5)
    assert "estimated cost 2 min at preset 'smoke'" in official.describe(cells, [], "smoke")


def test_a_tracks_max_length_reaches_the_cell_config_and_the_bench(tmp_path: Path,
                                                                  monkeypatch) -> None:
    path = tmp_path / "tracks.yaml"
    path.write_text(TINY.replace("    view: melody\n", "    view: melody\n    max_length: 64\n"))
    protocol = tracks.load_protocol(path)
    assert protocol.track("melody").max_length == 64
    cell = Cell("melody", "fixture", "pianoroll_lstm", 0)
    config = official.cell_config(cell, protocol)
    assert config["data"]["max_length"] == 64
    plain = official.cell_config(cell, tracks.load_protocol(_tiny(tmp_path)))
    assert "max_length" not in plain["data"]
    assert official.config_hash(config) != official.config_hash(plain)
    calls = []

    def fake_bench(*args, **kwargs):
        calls.append(kwargs)

    monkeypatch.setattr("musebench.experiments.bench.bench", fake_bench)
    official.run_grid(protocol, [cell], tmp_path / "o.jsonl", tmp_path / "runs",
                      allow_dirty=True, say=lambda _: None)
    assert calls[0]["max_length"] == 64 and calls[0]["view"] == "melody"
    bad = TINY.replace("    view: melody\n", "    view: melody\n    max_length: 0\n")
    path.write_text(bad)
    with pytest.raises(ValueError, match="max_length = 0"):
        tracks.load_protocol(path)


def _tiny(folder: Path) -> Path:
    path = folder / "plain.yaml"
    path.write_text(TINY)
    return path


def test_a_row_is_stale_when_its_code_or_config_or_track_changed() -> None:
    protocol = tracks.load_protocol(tracks.PROTOCOL)
    cell = Cell("melody", "bach", "markov", 0)
    current = {"official": True, "track": "melody", "dataset": "bach", "model": "markov",
               "seed": 0, "config_hash": official.config_hash(official.cell_config(cell, protocol)),
               "code_hash": official.code_hash("markov", "bach", protocol.preset)}
    rows = [current, dict(current, code_hash="0" * 16), dict(current, config_hash="0" * 16),
            dict(current, track="gone"), dict(current, dataset="gone"),
            {"model": "markov", "dataset": "bach"}]   # the user's own run: never stale
    assert official.stale_rows(rows, protocol) == [False, True, True, True, True, False]


TWO_TRACKS = TINY + """  full:
    title: Full
    datasets: [fixture]
    view: full
    requires: [notes]
    headline: [pitch_range]
"""


def _with_track_settings(monkeypatch, settings: dict) -> None:
    """Every model config file reads as if it had these ``track_settings``."""
    from musebench.experiments import config

    real = config.file_config

    def file_config(*args, **kwargs):
        return dict(real(*args, **kwargs), track_settings=dict(settings))

    monkeypatch.setattr(config, "file_config", file_config)


def test_a_tracks_own_settings_reach_its_cells_and_leave_the_other_tracks_alone(
        tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_TRACKS)
    protocol = tracks.load_protocol(path)
    melody = Cell("melody", "fixture", "pianoroll_lstm", 0)
    full = Cell("full", "fixture", "pianoroll_lstm", 0)
    before = {c: official.config_hash(official.cell_config(c, protocol)) for c in (melody, full)}
    default = official.cell_config(full, protocol)["train_timesteps"]
    _with_track_settings(monkeypatch, {"melody": {"train_timesteps": 777,
                                                  "model": {"steps": 12}}})
    config = official.cell_config(melody, protocol)
    assert config["train_timesteps"] == 777 and config["model"]["steps"] == 12
    assert "track_settings" not in config
    assert official.config_hash(config) != before[melody]
    other = official.cell_config(full, protocol)
    assert other["train_timesteps"] == default and "track_settings" not in other
    assert official.config_hash(other) == before[full]  # its rows stay current
    calls = []
    monkeypatch.setattr("musebench.experiments.bench.bench",
                        lambda *args, **kwargs: calls.append(kwargs))
    official.run_grid(protocol, [melody], tmp_path / "o.jsonl", tmp_path / "runs",
                      allow_dirty=True, say=lambda _: None)
    assert calls[0]["track"] == "melody"


def test_every_configs_track_settings_name_tracks_of_the_protocol() -> None:
    from musebench.experiments.config import CONFIG_DIR, read_config

    names = {t.name for t in tracks.load_protocol().tracks}
    for path in CONFIG_DIR.glob("*.yaml"):
        assert set(read_config(path).get("track_settings") or {}) <= names, path.name


def test_a_tracks_setting_the_config_lacks_is_an_error_naming_it(monkeypatch) -> None:
    from musebench.experiments.config import ConfigError, load_config

    _with_track_settings(monkeypatch, {"melody": {"model": {"nosuch": 1}}})
    with pytest.raises(ConfigError, match="track_settings.melody: unknown config key "
                                          "'model.nosuch'"):
        load_config("pianoroll_lstm", "smoke", track="melody")
    load_config("pianoroll_lstm", "smoke", track="full")  # another track's: not applied
    _with_track_settings(monkeypatch, {"melody": 5})
    with pytest.raises(ConfigError, match="track_settings = .*must map track names"):
        load_config("pianoroll_lstm", "smoke")


def test_overrides_win_over_a_tracks_settings(monkeypatch) -> None:
    from musebench.experiments.config import load_config

    _with_track_settings(monkeypatch, {"melody": {"train_timesteps": 777}})
    config = load_config("pianoroll_lstm", "smoke", ["train_timesteps=5"], track="melody")
    assert config["train_timesteps"] == 5


def test_the_bench_trains_a_tracks_own_budget(tmp_path: Path, monkeypatch) -> None:
    import yaml

    from musebench.experiments import bench

    _with_track_settings(monkeypatch, {"melody": {"train_timesteps": 777}})
    result = bench.bench("markov", "fixture", "smoke", out=tmp_path / "runs",
                         results=tmp_path / "r.jsonl", audio=False, track="melody")
    assert yaml.safe_load((result.out / "config.yaml").read_text())["train_timesteps"] == 777
    plain = bench.bench("markov", "fixture", "smoke", out=tmp_path / "runs",
                        results=tmp_path / "r.jsonl", audio=False)
    config = yaml.safe_load((plain.out / "config.yaml").read_text())
    assert config.get("train_timesteps") != 777 and "track_settings" not in config


