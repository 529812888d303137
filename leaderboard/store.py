"""The append-only results store: one JSON line per bench run.

Several bench runs may finish at once, so every append takes a file lock
(``<results>.lock``, :mod:`filelock`) and rewrites the file atomically (a temporary file
in the same folder, then ``os.replace``): a reader never sees a half-written line and no
writer's row is lost. Rows are plain dicts; :data:`REQUIRED` names the keys every row has.

The user's runs go to ``$MUSEBENCH_RESULTS`` (default ``runs/results.jsonl``); the
checked-in official results are ``leaderboard/results/official.jsonl``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from filelock import FileLock

from musebench.util import strict_json, write_atomically

OFFICIAL_RESULTS = Path(__file__).parent / "results" / "official.jsonl"
REQUIRED: tuple[str, ...] = ("run_id", "model", "dataset", "preset", "seed", "metrics")


def default_results_path() -> Path:
    """``$MUSEBENCH_RESULTS`` if set, else ``runs/results.jsonl``."""
    return Path(os.environ.get("MUSEBENCH_RESULTS", "runs/results.jsonl"))


def append_row(row: dict[str, Any], path: Path | None = None, timeout: float = 60.0) -> Path:
    """Append one run's row to the store at ``path`` (created if missing).

    Raises:
        ValueError: the row lacks a key of :data:`REQUIRED`.
        filelock.Timeout: another writer held the lock for ``timeout`` seconds.
    """
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise ValueError(f"result row lacks {', '.join(missing)}")
    path = Path(path or default_results_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    line = strict_json(row, sort_keys=True) + "\n"
    with FileLock(str(path) + ".lock", timeout=timeout):
        old = path.read_text() if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        write_atomically(path, old + line)
    return path


def read_rows(path: Path | None = None) -> list[dict[str, Any]]:
    """Every row of the store at ``path`` (empty if it does not exist).

    Raises:
        ValueError: a line is not a JSON object; the message names the file and line.
    """
    path = Path(path or default_results_path())
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: a row must be a JSON object")
        rows.append(row)
    return rows
