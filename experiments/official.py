"""The official grid (``make official`` / ``musebench official``): every (track, dataset,
model, seed) cell of the tracks protocol at its preset, resumable and reproducible.

- Each row records its commit and a **code hash** (:func:`code_hash`) of the source files
  it depends on: the model class and its bases, its codec class and its bases, every
  module of ``models/`` and ``datasets/codecs/`` that these import (their layers and
  helpers), the data source, and the scorer (``metrics/`` and the scoring path of
  ``experiments/``). The shared training loop (bench, trainer, data module) is not in it:
  a change there re-runs nothing, and the row's commit says which one made it.
- :func:`rehash` recomputes stored rows' code hashes from the files at each row's own
  commit (``musebench official --rehash``), for when the hash's definition changes.
- A cell whose row is already in the store with the same config hash and code hash is
  skipped (:func:`pending`), so the grid runs in parts and resumes; a change to a model
  re-runs only that model's cells.
- The total cost is stated before anything runs (:func:`cost_minutes`, the configs'
  ``budget_minutes``).
- Official rows are only written from a clean git tree (:func:`check_clean_tree`); a few
  samples per row are copied as MIDI beside the store, with the figures the model drew
  of them (``write_figures``: attention maps), their paths relative to it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musebench.experiments.config import (
    config_hash,
    load_config,
)
from musebench.experiments.tracks import Cell, Protocol

_PACKAGE = Path(__file__).resolve().parent.parent
#: The scorer: every file that turns samples into a row's numbers.
SCORER_FILES: tuple[str, ...] = ("metrics/*.py", "experiments/scoring.py",
                                 "experiments/conditions.py", "experiments/fair.py",
                                 "datasets/views.py", "datasets/piece.py")
#: Packages whose modules, imported by a model or its codec, belong to that model's code.
HELPER_PACKAGES: tuple[str, ...] = ("musebench.models", "musebench.datasets.codecs")
#: Figures a model drew of its samples (``write_figures``) kept beside an official row.
FIGURES_KEPT = 2


def _class_files(cls: type) -> list[Path]:
    """The source files of ``cls`` and its bases that belong to musebench: by module name,
    not by folder, since a clone's ``make install`` puts its ``.venv`` (torch, Lightning)
    inside the package's folder, where those bases' files would join the hash."""
    files = []
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] != "musebench":
            continue
        path = Path(inspect.getfile(klass)).resolve()
        if path not in files:
            files.append(path)
    return files


def _module_file(module: str) -> Path | None:
    """The file of the musebench module named ``module`` (a package: its ``__init__.py``)."""
    base = _PACKAGE.joinpath(*module.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.resolve()
    return None


def _imported_helpers(path: Path) -> set[Path]:
    """Files of the :data:`HELPER_PACKAGES` modules that ``path`` imports by name (at any
    depth in the file, function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            if name.startswith(HELPER_PACKAGES) and (file := _module_file(name)) is not None:
                found.add(file)
    return found


def _with_helpers(files: set[Path]) -> set[Path]:
    """``files`` and, transitively, every helper module they import."""
    todo, seen = list(files), set(files)
    while todo:
        for helper in _imported_helpers(todo.pop()) - seen:
            seen.add(helper)
            todo.append(helper)
    return seen


@functools.cache
def dependency_files(model: str, dataset: str, preset: str) -> tuple[Path, ...]:
    """Files a cell's numbers depend on: model and codec with their bases and helper
    modules, data source, scorer (sorted; which files, not their contents, so it is
    worked out once per process)."""
    from musebench.datasets.sources import SOURCES
    from musebench.models import get_model

    model_cls = get_model(model)
    codec_cls = type(model_cls(**load_config(model, preset)["model"]).codec)
    files = _with_helpers(set(_class_files(model_cls)) | set(_class_files(codec_cls)))
    source = SOURCES.get(dataset.split(":")[0])
    if source is not None:
        module = source.partition(":")[0] if isinstance(source, str) else source.__module__
        files.add(_PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py"))
    for pattern in SCORER_FILES:
        files.update(p.resolve() for p in _PACKAGE.glob(pattern))
    return tuple(sorted(files))


def _read_worktree(relative: str) -> bytes | None:
    path = _PACKAGE / relative
    return path.read_bytes() if path.exists() else None


def code_hash(model: str, dataset: str, preset: str,
              read: Callable[[str], bytes | None] = _read_worktree) -> str:
    """SHA-256 (16 hex digits) of the files of :func:`dependency_files`, by their paths
    relative to the package and their bytes as ``read`` gives them (default: today's
    files; a missing file is left out)."""
    digest = hashlib.sha256()
    for path in dependency_files(model, dataset, preset):
        relative = path.relative_to(_PACKAGE).as_posix()
        content = read(relative)
        if content is not None:
            digest.update(relative.encode() + b"\0")
            digest.update(content)
    return digest.hexdigest()[:16]


def _reader_at(commit: str, folder: Path) -> Callable[[str], bytes | None]:
    """A ``read`` for :func:`code_hash` giving the files as they were at ``commit`` of the
    repository holding ``folder`` (the package is its root)."""
    @functools.cache
    def read(relative: str) -> bytes | None:
        shown = subprocess.run(["git", "show", f"{commit}:{relative}"], cwd=folder,
                               capture_output=True, timeout=30)
        return shown.stdout if shown.returncode == 0 else None
    return read


def rehash(rows: list[dict[str, Any]], folder: Path = _PACKAGE) -> int:
    """Recompute, in place, the code hash of every official row made from a clean tree at a
    recorded commit, from the files at that commit (today's definition of which files:
    :func:`dependency_files`); the number of hashes that changed. Rows from a dirty tree
    keep theirs, as their files are nowhere to read.

    Raises:
        RuntimeError: a row's commit is not in the repository (named with the cell).
    """
    readers: dict[str, Callable[[str], bytes | None]] = {}
    changed = 0
    for row in rows:
        commit = row.get("git_commit")
        if not row.get("official") or not row.get("clean_tree") or not commit:
            continue
        if commit not in readers:
            known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=folder,
                                   capture_output=True, timeout=30)
            if known.returncode != 0:
                raise RuntimeError(f"row {row.get('dataset')}/{row.get('model')}/seed "
                                   f"{row.get('seed')}: commit {commit} is not in {folder}'s "
                                   "history; fetch it before rehashing")
            readers[commit] = _reader_at(commit, folder)
        new = code_hash(row["model"], row["dataset"], row["protocol_preset"],
                        readers[commit])
        changed += new != row.get("code_hash")
        row["code_hash"] = new
    return changed


def cell_config(cell: Cell, protocol: Protocol) -> dict[str, Any]:
    """The resolved config of ``cell`` as the bench hashes it: its track's settings
    (:func:`~musebench.experiments.config.resolve_track_settings`), its dataset, its track's
    view as ``data.view`` (the model learns and is scored in it), and the track's
    ``max_length`` as ``data.max_length`` and ``score_beats`` as ``data.score_beats`` where
    it sets them. Settings for tracks the protocol lacks are not used (the committed
    configs name only tracks of ``experiments/tracks.yaml``: a test checks it)."""
    config = load_config(cell.model, protocol.preset, track=cell.track)
    track = protocol.track(cell.track)
    config["data"]["source"] = cell.dataset
    config["data"]["view"] = track.view
    if track.max_length is not None:
        config["data"]["max_length"] = track.max_length
    if track.score_beats is not None:
        config["data"]["score_beats"] = track.score_beats
    return config


def pending(cells: list[Cell], rows: list[dict[str, Any]], protocol: Protocol,
            hasher: Callable[[str, str, str], str] = code_hash) -> tuple[list[Cell], list[Cell]]:
    """(to run, skipped): a cell is skipped when a row of the same track, dataset, model
    and seed has the cell's config hash and code hash."""
    done = {(r.get("track"), r.get("dataset"), r.get("model"), r.get("seed"),
             r.get("config_hash"), r.get("code_hash")) for r in rows}
    preset = protocol.preset
    run, skip = [], []
    for cell in cells:
        key = (cell.track, cell.dataset, cell.model, cell.seed,
               config_hash(cell_config(cell, protocol)), hasher(cell.model, cell.dataset, preset))
        (skip if key in done else run).append(cell)
    return run, skip


def stale_rows(rows: list[dict[str, Any]], protocol: Protocol,
               hasher: Callable[[str, str, str], str] = code_hash) -> list[bool]:
    """For each of ``rows``, whether it is a stale official row: a grid row (one with a
    ``track``) whose cell the grid would run again today (:func:`pending`: its config or
    code changed since), or whose track or dataset the protocol no longer holds. Other
    rows (the user's own runs, rows that record no code hash) are never stale. Each
    (model, dataset, preset) is hashed once, however many seeds it has."""
    hasher = functools.cache(hasher)
    tracks = {t.name: t for t in protocol.tracks}
    flags = []
    for row in rows:
        track = tracks.get(row.get("track"))
        if not row.get("track") or not row.get("code_hash"):
            flags.append(False)
        elif track is None or row.get("dataset") not in track.datasets:
            flags.append(True)
        else:
            cell = Cell(row["track"], row["dataset"], row["model"], row["seed"])
            rerun, _ = pending([cell], [row], protocol, hasher)
            flags.append(bool(rerun))
    return flags


def cost_minutes(cells: list[Cell], preset: str) -> float:
    """Sum of the cells' ``budget_minutes`` (the model config's estimate of one run at
    ``preset``; 0 where a config states none)."""
    return float(sum(float(load_config(c.model, preset).get("budget_minutes") or 0)
                     for c in cells))


#: Paths (relative to the repository) a clean-tree check ignores: the grid's own outputs.
OUTPUTS: tuple[str, ...] = ("leaderboard/results/",)


def check_clean_tree(folder: Path = _PACKAGE) -> str:
    """The commit of the git tree holding ``folder``, which must have no uncommitted change
    to a tracked file outside :data:`OUTPUTS` (the store and its samples, so a grid run in
    parts resumes before its rows are committed).

    Raises:
        RuntimeError: not a git checkout, or uncommitted changes (the first few named).
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                              check=True, timeout=30).stdout
    try:
        status, commit = git("status", "--porcelain", "--untracked-files=no"), git(
            "rev-parse", "HEAD").strip()
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeError(f"{folder}: not a git checkout ({error}); official rows need one") from None
    changed_paths = [line[3:] for line in status.splitlines()
                     if line[3:] and not line[3:].startswith(OUTPUTS)]
    if changed_paths:
        changed = ", ".join(changed_paths[:5])
        raise RuntimeError(f"uncommitted changes ({changed}); official rows are written from "
                           "a clean tree: commit or stash first (or --allow-dirty for a trial "
                           "into another store)")
    return commit


def keep_samples(samples: Path, store: Path, cell: Cell, count: int,
                 pattern: str = "*.mid") -> list[str]:
    """Copy the first ``count`` files matching ``pattern`` of a run's folder ``samples``
    (its MIDI samples, or the PNGs its model drew of them) beside ``store`` under
    ``samples/<track>/<dataset>/<model>/seed<k>/``; their paths relative to the store's
    folder."""
    target = store.parent / "samples" / cell.track / cell.dataset.replace(":", "_") / \
        cell.model / f"seed{cell.seed}"
    kept = []
    for path in sorted(samples.glob(pattern))[:count]:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.name)
        kept.append(str((target / path.name).relative_to(store.parent)))
    return kept


def _same_cell(row: dict[str, Any], cell: Cell) -> bool:
    """Whether the store's ``row`` is the official row of ``cell`` (which a re-run of the
    cell, after its config or code changed, supersedes)."""
    return bool(row.get("official")) and (row.get("track"), row.get("dataset"),
                                          row.get("model"), row.get("seed")) == (
        cell.track, cell.dataset, cell.model, cell.seed)


def describe(run: list[Cell], skipped: list[Cell], preset: str) -> str:
    """The plan in words, said before the grid starts."""
    return (f"official grid: {len(run)} cell(s) to run, {len(skipped)} already done "
            f"(same config and code hash); estimated cost {cost_minutes(run, preset):.0f} "
            f"min at preset {preset!r}")


def run_grid(protocol: Protocol, run: list[Cell], store: Path, out: Path,
             data_root: Path | None = None, allow_dirty: bool = False,
             say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run ``run``'s cells one by one (bench, then keep a few samples and re-store the row
    with them, in place of the cell's earlier row if any); returns the rows written.

    Raises:
        RuntimeError: a dirty tree without ``allow_dirty`` (before any cell runs).
    """
    from musebench.experiments.bench import bench
    from musebench.leaderboard.store import append_row

    commit = "dirty" if allow_dirty else check_clean_tree()
    rows = []
    for number, cell in enumerate(run, 1):
        track = protocol.track(cell.track)
        say(f"[{number}/{len(run)}] {cell.track} / {cell.dataset} / {cell.model} / seed {cell.seed}")
        extra = {"track": cell.track, "official": True, "protocol_preset": protocol.preset,
                 "code_hash": code_hash(cell.model, cell.dataset, protocol.preset),
                 "clean_tree": not allow_dirty}
        result = bench(cell.model, cell.dataset, protocol.preset, cell.seed,
                       out=out / cell.track, results=store, data_root=data_root, audio=False, view=track.view,
                       max_length=track.max_length, score_beats=track.score_beats,
                       extra_row=extra, track=cell.track)
        if result is None:
            continue
        row = dict(result.row, samples=keep_samples(result.samples, store, cell,
                                                    protocol.samples_kept))
        figures = keep_samples(result.out / "figures", store, cell, FIGURES_KEPT, "*.png")
        if figures:
            row["figures"] = figures
        if commit != "dirty":
            row["git_commit"] = commit
        append_row(row, store, replaces=lambda old, c=cell: _same_cell(old, c))
        rows.append(row)
    return rows
