"""Run configs: presets merged over the base, dotted overrides, clear errors on typos."""

from __future__ import annotations

import pytest
import yaml

from musebench.experiments.config import (
    CONFIG_DIR,
    PRESETS,
    SECTIONS,
    ConfigError,
    config_hash,
    load_config,
    parse_overrides,
    read_config,
)


def test_smoke_preset_overrides_only_what_it_names():
    config = load_config("markov", "smoke")
    assert config["data"]["source"] == "fixture"
    assert config["model"]["max_order"] == 4  # from the base, untouched by the preset
    assert config["preset"] == "smoke" and config["name"] == "markov"


def test_dotted_overrides_are_parsed_as_yaml_scalars():
    config = load_config("markov", "smoke", ["model.max_order=2", "model.smoothing=0.5",
                                             "trainer.devices=1", "data.window=null"])
    assert config["model"]["max_order"] == 2 and config["model"]["smoothing"] == 0.5
    assert config["trainer"]["devices"] == 1 and config["data"]["window"] is None


def test_unknown_config_key_names_it():
    with pytest.raises(ConfigError, match="'model.max_ordr'.*max_order"):
        load_config("markov", "smoke", ["model.max_ordr=2"])


def test_unknown_preset_and_model_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown preset 'huge'.*smoke"):
        load_config("markov", "huge")
    with pytest.raises(FileNotFoundError, match="no config for model 'nope'"):
        load_config("nope")


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError, match="not of the form"):
        parse_overrides(["model.max_order"])


def test_config_hash_changes_with_any_value():
    base = load_config("markov", "smoke")
    assert config_hash(base) == config_hash(load_config("markov", "smoke"))
    assert config_hash(base) != config_hash(load_config("markov", "smoke",
                                                        ["model.max_order=1"]))


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_model_config_has_the_sections_and_presets(path):
    raw = read_config(path)  # with its ``extends:`` chain resolved
    assert set(SECTIONS) <= set(raw), f"{path.name} lacks a section"
    assert set(PRESETS) <= set(raw["presets"]), f"{path.name} lacks a preset"
    smoke = load_config(path.stem, "smoke")
    assert smoke["data"]["source"] == "fixture", f"{path.name}: smoke must use fixture data"


def test_a_preset_with_an_unknown_key_names_the_file_preset_and_key(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"hidden": 8}, "data": {"source": "fixture"}, "trainer": {},
        "generate": {"n": 1}, "presets": {"smoke": {"model": {"hiden": 4}}}}))
    with pytest.raises(ConfigError, match=r"toy\.yaml: preset 'smoke': .*'model\.hiden'"):
        load_config("toy", "smoke", path=path)
