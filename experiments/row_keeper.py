"""A finished run's row is never lost: it is kept in the run folder before it is appended
to the results store, so a store that fails at the end of a run (removed, made read-only,
locked by a stuck writer) costs the row's place in the store, not the row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filelock import Timeout

from musebench.leaderboard.store import append_row
from musebench.util import write_atomically

#: The copy of the run's row in its folder.
ROW_FILE = "result_row.json"


class RowNotStoredError(RuntimeError):
    """The row could not be appended to the store; the message says where it is kept."""


def record_row(row: dict[str, Any], results: Path, folder: Path) -> Path:
    """Write ``row`` to ``<folder>/result_row.json``, then append it to ``results``.

    Raises:
        RowNotStoredError: the append failed; names the store, the reason and the kept
            copy.
    """
    kept = folder / ROW_FILE
    write_atomically(kept, json.dumps(row, indent=1, sort_keys=True, default=str))
    try:
        return append_row(row, results)
    except (OSError, ValueError, Timeout) as error:
        raise RowNotStoredError(
            f"the run finished but its row could not be added to the results store {results} "
            f"({type(error).__name__}: {error}); the row is kept in {kept}: fix the store and "
            f"append that file's content as one line") from error
