"""Run configurations: one YAML per model, presets merged over it, dotted overrides on top.

A config may start with ``extends: other.yaml`` (a file in the same folder): it is that
file with this one's values merged over it, so a variant (``midinet_model1.yaml``) is the
few lines that differ. The resolved config is checked against the signatures that consume
it (:mod:`musebench.experiments.validation`) before anything runs.

``experiments/configs/<model>.yaml`` has the sections ``model`` (the class's keyword
arguments), ``data`` (:class:`~musebench.datasets.datamodule.MusicDataModule` arguments),
``trainer`` (``pl.Trainer`` arguments), ``generate`` (``n`` and sampling options) and
``presets`` (``smoke``/``standard``/``paper``: nested dicts merged over the base),
``train_timesteps`` (the training budget), optionally ``track_settings`` (an official
track's own values, :func:`resolve_track_settings`), and optionally ``early_stopping``
(``EarlyStopping`` arguments such as ``patience``; the monitored metric is the model's
``monitor``).
Command-line overrides ``--set model.hidden=64`` are parsed as YAML scalars. A preset or
override key that is not in the base config is an error naming it (``trainer`` and
``generate`` keys are checked against ``pl.Trainer`` and generation instead), so a typo
never silently does nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from musebench.arguments import ArgumentError
from musebench.experiments.validation import check_config, is_default
from musebench.models import MODELS, get_model

CONFIG_DIR = Path(__file__).parent / "configs"
SECTIONS: tuple[str, ...] = ("model", "data", "trainer", "generate")
PRESETS: tuple[str, ...] = ("smoke", "standard", "paper")
#: Sections whose keys are free-form: any MusicDataModule / Trainer / generate keyword may be
#: added (the signature check, :func:`check_config`, names an unknown one).
OPEN_SECTIONS: tuple[str, ...] = ("data", "trainer", "generate")


class ConfigError(ValueError):
    """A config file or override that does not make sense; the message names the key."""


def config_path(model: str) -> Path:
    """The YAML file of ``model``."""
    return CONFIG_DIR / f"{model}.yaml"


def merge(base: dict[str, Any], override: dict[str, Any], *, strict: bool, where: str = "") -> dict:
    """``base`` with ``override`` merged in recursively (a new dict; inputs untouched).

    Args:
        base: the config to update.
        override: nested values to put over it.
        strict: if True, a key of ``override`` missing from ``base`` is an error (outside
            :data:`OPEN_SECTIONS`).
        where: dotted prefix of ``base``, for error messages.

    Raises:
        ConfigError: an unknown key under ``strict``.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        dotted = f"{where}.{key}" if where else str(key)
        top = dotted.split(".")[0]
        if strict and key not in merged and top not in OPEN_SECTIONS:
            known = ", ".join(sorted(map(str, merged))) or "(none)"
            raise ConfigError(f"unknown config key {dotted!r}; known keys here: {known}")
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value, strict=strict, where=dotted)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_config(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The YAML file at ``path`` with its ``extends:`` chain resolved (bases first).

    Raises:
        FileNotFoundError: ``path`` or a file it extends is missing.
        ConfigError: ``extends`` is not a file name, or the chain is a cycle.
    """
    if path in chain:
        raise ConfigError(f"{path}: 'extends' cycle: {' -> '.join(p.name for p in chain)}")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such config file")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path}: extends = {parent!r}: expected a config file name")
    base = read_config(path.parent / (parent if parent.endswith(".yaml") else f"{parent}.yaml"),
                       (*chain, path))
    return merge(base, raw, strict=False)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["model.hidden=64", "data.source=bach"]`` as a nested dict (values parsed as YAML).

    Raises:
        ConfigError: a pair without ``=`` or with an empty key.
    """
    nested: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {pair!r} is not of the form section.key=value")
        parts = key.strip().split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw) if raw else ""
    return nested


def file_config(path: Path, preset: str) -> dict[str, Any]:
    """The YAML file at ``path`` with ``preset`` merged over it (no overrides).

    Raises:
        FileNotFoundError: ``path`` or a file it extends is missing.
        ConfigError: a missing section, an unknown preset, or a preset key not in the base.
    """
    raw = read_config(path)
    missing = [s for s in SECTIONS if s not in raw]
    if missing:
        raise ConfigError(f"{path}: missing section(s) {', '.join(missing)}")
    presets = raw.pop("presets", {}) or {}
    if preset not in presets:
        raise ConfigError(f"{path}: unknown preset {preset!r}; valid presets: "
                          f"{', '.join(sorted(presets)) or '(none)'}")
    try:
        return merge(raw, presets[preset] or {}, strict=True)
    except ConfigError as error:
        raise ConfigError(f"{path}: preset {preset!r}: {error}") from None


def load_config(
    model: str,
    preset: str = "standard",
    overrides: list[str] | None = None,
    path: Path | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    """The resolved config of ``model``: base, then ``preset``, then the official
    ``track``'s settings (:func:`resolve_track_settings`), then ``overrides``.

    Args:
        model: registered model name (selects ``configs/<model>.yaml``).
        preset: one of :data:`PRESETS`.
        overrides: dotted ``key=value`` strings.
        path: another YAML file instead of the model's.
        track: the official track the run is a cell of (None: no track's settings).

    Raises:
        FileNotFoundError: no config for ``model``.
        ConfigError: unknown preset, missing section, unknown override key, a track's
            setting that is not in the base config, or a value that the model, data
            module, Trainer or generation does not accept.
    """
    path = path or config_path(model)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"{path}: no config for model {model!r}; configs exist for: {known}")
    config = resolve_track_settings(file_config(path, preset), track, where=str(path))
    config = merge(config, parse_overrides(overrides or []), strict=True)
    config["name"] = model
    config["preset"] = preset
    if model in MODELS:
        try:
            check_config(config, get_model(model))
        except ArgumentError as error:
            raise ConfigError(f"{model} config ({preset}): {error}") from None
    return config


def resolve_track_settings(config: dict[str, Any], track: str | None,
                           where: str = "config") -> dict[str, Any]:
    """``config`` with its ``track_settings`` resolved away: the entry for ``track``,
    where there is one, merged over it (its keys must be the config's own, as a preset's).

    A model's cost per time step, and the length it generates, differ between tracks
    (whole classical pieces against Bach's short melodies), so one budget cannot be the
    protocol's equal minutes on every track, nor one length its scored length (issue #11);
    ``track_settings: {classical: {train_timesteps: N}}`` sets a track's own (a budget
    even where the config has none; any other key must be the config's). The mapping
    is removed whatever the track, so only what a run uses names it (a config that adds
    one track's settings leaves the other tracks' runs and rows as they were).

    Raises:
        ConfigError: ``track_settings`` is not a mapping of track names to mappings, or an
            entry sets a key the config does not have.
    """
    config = dict(config)
    per_track = config.pop("track_settings", None) or {}
    if not isinstance(per_track, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in per_track.items()):
        raise ConfigError(f"{where}: track_settings = {per_track!r}: must map track names to "
                          "mappings of config values")
    if track is None or track not in per_track:
        return config
    config.setdefault("train_timesteps", None)  # a track may budget a model that has none
    try:
        return merge(config, per_track[track], strict=True)
    except ConfigError as error:
        raise ConfigError(f"{where}: track_settings.{track}: {error}") from None


#: Top-level config keys that describe a run without changing it: ``budget_minutes`` is
#: the official grid's stated cost estimate (:mod:`musebench.experiments.official`).
NOT_SETTINGS: frozenset[str] = frozenset({"budget_minutes"})


def identity(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that name a run: ``config`` less every value that its model's config
    file (with the preset) does not set and that equals the default of the signature
    taking it (:func:`~musebench.experiments.validation.is_default`).

    So ``--precision 32-true`` or ``--set trainer.num_nodes=1`` names the same run as
    leaving them out (``make bench`` then ``--resume`` finds it), while every value the
    config file sets is kept, so a config without such extras hashes as it always has.
    Keys of :data:`NOT_SETTINGS` say what a run costs, not how it runs, and are left out.
    """
    name = config.get("name")
    if name not in MODELS or not config_path(name).exists():
        return config
    model_cls = get_model(name)
    own = file_config(config_path(name), config["preset"])
    canonical = {k: v for k, v in copy.deepcopy(config).items() if k not in NOT_SETTINGS}
    for section in SECTIONS:
        for key, value in (config.get(section) or {}).items():
            if key not in (own.get(section) or {}) and is_default(f"{section}.{key}", value,
                                                                  model_cls):
                del canonical[section][key]
    return canonical


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of the run's :func:`identity` (keys sorted): equal for runs
    with equal settings, however explicitly they were given."""
    text = json.dumps(identity(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
