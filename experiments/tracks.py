"""The tracks protocol (``experiments/tracks.yaml``): which (track, dataset, model, seed)
cells the official grid runs, with models joining tracks by capability, never by name.

A :class:`Track` names its datasets, the view its rows are scored in, the capabilities a
model needs to join (``requires``), its headline metrics, optionally ``max_length``:
the longest example, in time steps, a model that trains on whole pieces gets there
(pieces of classical MIDI run to 17,000 frames and 126,000 event tokens), and optionally
``score_beats``: the length every scored piece of the track is cut to, samples, real data
and ceilings alike (pitch range, scale consistency and copy rates depend on length). :func:`members` asks every
registered model for its :attr:`~musebench.models.MusicGenerator.capabilities` (built
from its config at the protocol's preset); :func:`cells` expands the grid: the protocol's
``seeds_first`` seeds on each track's first dataset, ``seeds_other`` on the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from musebench.datasets.views import VIEWS

PROTOCOL = Path(__file__).parent / "tracks.yaml"


@dataclass(frozen=True)
class Track:
    """One table of the official leaderboard."""

    name: str
    title: str
    datasets: tuple[str, ...]
    view: str
    requires: frozenset[str]
    headline: tuple[str, ...]
    published: bool = False
    max_length: int | None = None  # whole pieces cut to this many time steps (long pieces)
    score_beats: int | None = None  # every scored piece cut to its first this many beats


@dataclass(frozen=True)
class Protocol:
    """The whole protocol: the preset, the seeds and the tracks in file order."""

    preset: str
    seeds_first: int
    seeds_other: int
    samples_kept: int
    tracks: tuple[Track, ...]

    def track(self, name: str) -> Track:
        """The track called ``name``.

        Raises:
            ValueError: no such track (the known ones listed).
        """
        for track in self.tracks:
            if track.name == name:
                return track
        raise ValueError(f"unknown track {name!r}; tracks: {', '.join(t.name for t in self.tracks)}")


@dataclass(frozen=True)
class Cell:
    """One official run: a model on a dataset of a track, with one seed."""

    track: str
    dataset: str
    model: str
    seed: int


def _need(mapping: dict[str, Any], key: str, where: str, kind: type) -> Any:
    if key not in mapping:
        raise ValueError(f"{where}: missing key {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}: {key} = {value!r}: expected {kind.__name__}")
    return value


def load_protocol(path: Path = PROTOCOL) -> Protocol:
    """Read and check the protocol file.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a missing or mistyped key, an unknown view, a track without datasets.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no tracks protocol")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: the protocol must be a mapping")
    tracks = []
    for name, spec in (_need(raw, "tracks", str(path), dict)).items():
        where = f"{path}: track {name}"
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a mapping")
        datasets = tuple(_need(spec, "datasets", where, list))
        view = _need(spec, "view", where, str)
        if not datasets:
            raise ValueError(f"{where}: datasets is empty")
        if view not in VIEWS:
            raise ValueError(f"{where}: view = {view!r}: expected one of {VIEWS}")
        for key in ("max_length", "score_beats"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):
                raise ValueError(f"{where}: {key} = {value!r}: expected a positive int")
        tracks.append(Track(str(name), str(spec.get("title", name)), datasets, view,
                            frozenset(_need(spec, "requires", where, list)),
                            tuple(_need(spec, "headline", where, list)),
                            bool(spec.get("published", False)), spec.get("max_length"),
                            spec.get("score_beats")))
    return Protocol(_need(raw, "preset", str(path), str), _need(raw, "seeds_first", str(path), int),
                    _need(raw, "seeds_other", str(path), int),
                    int(raw.get("samples_kept", 4)), tuple(tracks))


def capabilities(preset: str) -> dict[str, frozenset[str]]:
    """Every registered model's capabilities, its model built from its config at ``preset``."""
    from musebench.experiments.config import load_config
    from musebench.models import MODELS, get_model

    return {name: get_model(name)(**load_config(name, preset)["model"]).capabilities
            for name in MODELS}


def members(track: Track, caps: dict[str, frozenset[str]]) -> list[str]:
    """The models (sorted) whose capabilities include all of ``track.requires``."""
    return sorted(name for name, have in caps.items() if track.requires <= have)


def cells(protocol: Protocol, caps: dict[str, frozenset[str]],
          tracks: list[str] | None = None, seeds: list[int] | None = None,
          datasets: list[str] | None = None, models: list[str] | None = None) -> list[Cell]:
    """The grid's cells, track by track in protocol order (only ``tracks``, ``datasets``,
    ``models`` and ``seeds`` if given, else the protocol's), so a grid runs in parts.

    Raises:
        ValueError: a dataset or model given that no chosen track holds (the known ones
            listed), so a typo never runs an empty grid silently.
    """
    chosen = [protocol.track(t) for t in tracks] if tracks else list(protocol.tracks)
    known_sets = sorted({d for track in chosen for d in track.datasets})
    known_models = sorted({m for track in chosen for m in members(track, caps)})
    for given, known, kind in ((datasets, known_sets, "dataset"), (models, known_models, "model")):
        for name in given or []:
            if name not in known:
                raise ValueError(f"no chosen track has {kind} {name!r}; they have: "
                                 f"{', '.join(known)}")
    out = []
    for track in chosen:
        for index, dataset in enumerate(track.datasets):
            if datasets and dataset not in datasets:
                continue
            count = protocol.seeds_first if index == 0 else protocol.seeds_other
            run_seeds = [s for s in range(count) if seeds is None or s in seeds]
            out += [Cell(track.name, dataset, model, seed)
                    for model in members(track, caps) if not models or model in models
                    for seed in run_seeds]
    return out
