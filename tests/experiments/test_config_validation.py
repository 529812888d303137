"""Configs compose (``extends:``) and are checked against the signatures that consume
them before any work: unknown keys, wrong types and out-of-range values are errors naming
the key, the value and what is allowed; the CLI exits 2 with no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from musebench.arguments import ArgumentError
from musebench.experiments.config import CONFIG_DIR, ConfigError, load_config, read_config
from musebench.models import MODELS, get_model


@pytest.mark.parametrize("override, message", [
    ("trainer.nosuch=1", r"trainer\.nosuch = 1: unknown key; allowed keys: .*max_epochs"),
    ("model.hidden=abc", r"model\.hidden = 'abc': expected int"),
    ("trainer.max_epochs=-3", r"trainer\.max_epochs = -3: must be at least -1"),
    ("generate.n=0", r"generate\.n = 0: must be at least 1"),
    ("generate.n=2.5", r"generate\.n = 2\.5: expected int"),
    ("data.transpose=[1]", r"data\.transpose = \[1\]: expected int or str"),
    ("data.batching=sorted", r"data\.batching = 'sorted': expected one of 'shuffle', "
                             r"'length_grouped'"),
    ("data.nosuch=1", r"data\.nosuch = 1: unknown key; allowed keys: .*batching"),
    ("trainer.precision=bf17", r"trainer\.precision = 'bf17': expected .*'bf16-mixed'"),
])
def test_a_bad_setting_is_a_config_error_naming_key_value_and_what_is_allowed(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("lstm_attention", "smoke", [override])


def test_length_grouped_batching_is_a_data_setting_of_its_own_hash():
    from musebench.experiments.config import config_hash

    grouped = load_config("rnn_nade", "smoke", ["data.batching=length_grouped"])
    assert grouped["data"]["batching"] == "length_grouped"
    default = load_config("rnn_nade", "smoke", ["data.batching=shuffle"])
    assert config_hash(default) == config_hash(load_config("rnn_nade", "smoke"))
    assert config_hash(grouped) != config_hash(default)


def test_an_unknown_or_mistyped_hyper_parameter_is_refused_by_the_model_itself():
    midinet = get_model("midinet")
    with pytest.raises(ArgumentError, match=r"MidiNet\.lamda1 = 5\.0: unknown key; "
                                            r"allowed keys: .*lambda1"):
        midinet(lamda1=5.0)
    with pytest.raises(ArgumentError, match=r"CRNNGAN\.optimizer = 'rmsprop': "
                                            r"expected one of 'adam', 'sgd'"):
        get_model("crnngan")(optimizer="rmsprop")
    with pytest.raises(TypeError, match="keyword only"):
        midinet(True)
    assert midinet(g_channels=8, d_channels=4).hparams.g_channels == 8


def test_an_unknown_model_key_in_a_config_file_is_named(tmp_path):
    path = tmp_path / "midinet.yaml"
    raw = read_config(CONFIG_DIR / "midinet.yaml")
    raw["model"]["lamda1"] = 5.0
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"model\.lamda1 = 5\.0: unknown key"):
        load_config("midinet", "smoke", path=path)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_config_passes_at_every_preset(name):
    tracks = read_config(CONFIG_DIR / f"{name}.yaml").get("track_settings") or {}
    for preset in ("smoke", "standard", "paper"):
        for track in (None, *tracks):  # and with each official track's own settings
            config = load_config(name, preset, track=track)
            get_model(name)(**config["model"])  # the model accepts what was validated


def test_a_variant_is_the_few_lines_that_differ_from_its_base():
    for variant, differs in (("midinet_model1", {"use_chord": False}),
                             ("midinet_model2", {"condition_layers": 2})):
        path = CONFIG_DIR / f"{variant}.yaml"
        assert len(path.read_text().splitlines()) < 10
        base, config = load_config("midinet", "paper"), load_config(variant, "paper")
        assert {k: v for k, v in config["model"].items() if base["model"][k] != v} == differs
        # and, where a variant trains at another rate, its own budget
        same = ("model", "name", "train_timesteps")
        assert {k: v for k, v in config.items() if k not in same} == \
            {k: v for k, v in base.items() if k not in same}


def test_extends_resolves_chains_and_names_cycles_and_missing_bases(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"model": {"x": 1, "y": 2}, "generate": {"n": 1}}))
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nmodel: {y: 3}\n")
    (tmp_path / "c.yaml").write_text("extends: b\ngenerate: {n: 4}\n")
    assert read_config(tmp_path / "c.yaml") == {"model": {"x": 1, "y": 3}, "generate": {"n": 4}}
    (tmp_path / "d.yaml").write_text("extends: e.yaml\n")
    (tmp_path / "e.yaml").write_text("extends: d.yaml\n")
    with pytest.raises(ConfigError, match="'extends' cycle"):
        read_config(tmp_path / "d.yaml")
    (tmp_path / "f.yaml").write_text("extends: nope.yaml\n")
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        read_config(tmp_path / "f.yaml")


def test_the_cli_refuses_a_bad_setting_with_exit_code_2_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "musebench", "bench", "--model", "markov", "--preset", "smoke",
         "--out", str(tmp_path), "--set", "generate.n=0"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "generate.n = 0: must be at least 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # refused before any run folder was made


