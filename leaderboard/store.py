"""The append-only results store: one JSON line per bench run.

Several bench runs may finish at once, so every append takes a file lock
(``<results>.lock``, :mod:`filelock`) and rewrites the file atomically (a temporary file
in the same folder, then ``os.replace``): a reader never sees a half-written line and no
writer's row is lost. A store that is a symbolic link is written through to its target;
:func:`check_store` checks a store before a run starts (not a folder, readable UTF-8 JSON
rows, writable), and a run folder has one row. Rows are plain dicts; :data:`REQUIRED`
names the keys every row has.

The user's runs go to ``$MUSEBENCH_RESULTS`` (default ``runs/results.jsonl``); the
checked-in official results are ``leaderboard/results/official.jsonl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from musebench.util import strict_json, write_atomically

OFFICIAL_RESULTS = Path(__file__).parent / "results" / "official.jsonl"
REQUIRED: tuple[str, ...] = ("run_id", "model", "dataset", "preset", "seed", "metrics")


def default_results_path() -> Path:
    """``$MUSEBENCH_RESULTS`` if set, else ``runs/results.jsonl``."""
    return Path(os.environ.get("MUSEBENCH_RESULTS", "runs/results.jsonl"))


def store_target(path: Path | None = None) -> Path:
    """The file the store at ``path`` really is: symbolic links followed, so an append
    reaches the link's target instead of replacing the link with a regular file."""
    return Path(os.path.realpath(Path(path or default_results_path())))


def check_store(path: Path | None = None) -> Path:
    """Check, before a run starts, that its row can be appended to the store at ``path``:
    not a folder, readable rows, a writable file or folder. Returns :func:`store_target`.

    Raises:
        ValueError: the store is a folder, cannot be read, holds a line that is not a
            UTF-8 JSON object, or cannot be written; the message names the file.
    """
    target = store_target(path)
    shown = f"results store {path or default_results_path()}" + (
        f" (-> {target})" if Path(path or default_results_path()).is_symlink() else "")
    if target.is_dir():
        raise ValueError(f"{shown} is a folder; pass --results FILE (a .jsonl file)")
    folder = next((p for p in [target.parent, *target.parents] if p.exists()), Path("/"))
    writable = os.access(target, os.R_OK | os.W_OK) if target.exists() else (
        folder.is_dir() and os.access(folder, os.W_OK | os.X_OK))
    if not writable:
        raise ValueError(f"{shown} cannot be {'read and written' if target.exists() else 'created'}"
                         " (permissions): pass --results FILE or fix them")
    read_rows(target)
    return target


def append_row(row: dict[str, Any], path: Path | None = None, timeout: float = 60.0,
               replaces: Callable[[dict[str, Any]], bool] | None = None) -> Path:
    """Append one run's row to the store at ``path`` (created if missing; links followed).

    A run folder has one row: a row with the same ``folder`` as an earlier one replaces
    it (a second bench of the same settings overwrote that folder). So does every earlier
    row for which ``replaces`` is true (the official grid: the row of a cell re-run after
    its config or code changed). Other lines are kept byte for byte.

    Raises:
        ValueError: the row lacks a key of :data:`REQUIRED`.
        filelock.Timeout: another writer held the lock for ``timeout`` seconds.
        OSError: the store cannot be written.
    """
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise ValueError(f"result row lacks {', '.join(missing)}")
    path = store_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = strict_json(row, sort_keys=True).encode() + b"\n"
    with FileLock(str(path) + ".lock", timeout=timeout):
        old = path.read_bytes() if path.exists() else b""
        kept = [old_line for old_line in old.splitlines(keepends=True)
                if not _superseded(old_line, row.get("folder"), replaces)]
        text = b"".join(kept)
        if text and not text.endswith(b"\n"):
            text += b"\n"
        write_atomically(path, text + line)
    return path


def rewrite_rows(rows: list[dict[str, Any]], path: Path | None = None,
                 timeout: float = 60.0) -> Path:
    """Replace the store at ``path`` by ``rows`` (one sorted-key JSON line each), under the
    store's lock and atomically, so a failure leaves the old store whole.

    Raises:
        filelock.Timeout: another writer held the lock for ``timeout`` seconds.
        OSError: the store cannot be written.
    """
    path = store_target(path)
    text = b"".join(strict_json(row, sort_keys=True).encode() + b"\n" for row in rows)
    with FileLock(str(path) + ".lock", timeout=timeout):
        write_atomically(path, text)
    return path


def _superseded(line: bytes, folder: Any,
                replaces: Callable[[dict[str, Any]], bool] | None) -> bool:
    if folder is None and replaces is None:
        return False
    try:
        old = json.loads(line)
    except ValueError:
        return False
    if not isinstance(old, dict):
        return False
    return (folder is not None and old.get("folder") == folder) or bool(
        replaces and replaces(old))


def read_rows(path: Path | None = None) -> list[dict[str, Any]]:
    """Every row of the store at ``path`` (empty if it does not exist).

    Raises:
        ValueError: the store is a folder, or a line is not a UTF-8 JSON object; the
            message names the file and line.
    """
    path = Path(path or default_results_path())
    if not path.exists():
        return []
    if path.is_dir():
        raise ValueError(f"results store {path} is a folder, not a .jsonl file")
    rows = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}:{number}: not UTF-8 (byte {raw[error.start]:#04x} at "
                             f"column {error.start + 1})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: a row must be a JSON object")
        rows.append(row)
    return rows
