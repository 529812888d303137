"""Small helpers every folder uses, in one neutral place below all of them.

- :func:`write_atomically`: the one atomic writer of musebench (caches, results, reports,
  checkpoints), so a reader sees the old or the new file, never a mix.
- :func:`finite` and :func:`strict_json`: NaN/inf become ``null``, so every JSON file
  musebench writes is strict JSON that any reader accepts.
- :func:`usable_cores`: the cores this process may run on (threads per process, grid jobs).
- :func:`cpuinfo_field` and :func:`cpu_name`: which CPU this is (rows and golden files name it).
- :func:`did_you_mean`: the closest known name to a mistyped one, for error messages.
- :func:`progress`: a progress bar on a terminal (tqdm), nothing in a log file or a pipe.

It imports nothing from musebench, so any module may import it.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import platform
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def write_atomically(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` so readers see the old or the new
    file, never a mix: a temporary file in the same folder, flushed to disk, then
    ``os.replace``. The one atomic writer of musebench (caches, results, reports)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode() if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; these files are for everyone
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (in nested dicts, lists and tuples) replaced
    by None, so that it dumps as strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def strict_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``value`` with NaN/inf as ``null`` (``kwargs`` go to json.dumps)."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpuinfo_field(field: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first value of ``field`` in Linux's ``/proc/cpuinfo`` (``""`` where there is none)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == field and value.strip():
                return value.strip()
    except OSError:
        pass
    return ""


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``/proc/cpuinfo``; else what :mod:`platform` knows).

    Two CPUs of one architecture (an AMD EPYC and an Intel Xeon both say ``x86_64``) train
    at rates up to 3x apart and round some float32 sums differently, so results name it."""
    return cpuinfo_field("model name", cpuinfo) or platform.processor() or platform.machine()


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the closest of ``names`` to a mistyped ``name`` (difflib),
    or ``""`` when none is close; the tail of an "unknown name" error message."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def progress(items: Iterable[T], what: str, total: int | None = None) -> Iterator[T]:
    """``items``, with a tqdm progress bar on stderr (``what``: the label, e.g. ``"read
    jsb"``) when stderr is a terminal; a plain pass-through otherwise, so logs, pipes and
    tests see no bar. The bar disappears when done (the caller prints the result)."""
    import sys

    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=what, total=total, leave=False, unit="", dynamic_ncols=True)
