"""``musebench models`` and ``musebench datasets``: what can be benchmarked here.

``models`` prints one line per registered model: its name, the model and paper it
implements (the first line of its class docstring), its view (``melody`` or ``full``),
whether it is chord-conditioned, whether it reports a test likelihood, and its track where
the model contract declares one (``tracks``); ``--json`` prints the same as JSON.
``datasets`` is ``musebench data list``: every source and whether it can be read here.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
from typing import Any

from musebench.models import MODELS, MusicGenerator, get_model

#: A Sphinx cross-reference (``:class:`~a.b.C```), shown as its last name (``C``).
_ROLE = re.compile(r":\w+:`~?(?:[\w.]*\.)?([^`]+)`")


def register(subparsers: Any) -> None:
    """Add ``models`` and ``datasets``."""
    models = subparsers.add_parser("models", help="the registered models: paper, view, "
                                   "likelihood")
    models.add_argument("--json", action="store_true", help="print the table as JSON")
    models.set_defaults(func=list_models)
    datasets = subparsers.add_parser("datasets", help="the data sets and whether they are "
                                     "available here (same as: data list)")
    datasets.set_defaults(func=list_datasets)


def describe_model(name: str) -> dict[str, Any]:
    """One model's catalogue entry (see the module docstring)."""
    cls = get_model(name)
    doc = inspect.getdoc(cls) or ""
    title = _ROLE.sub(r"\1", doc.splitlines()[0]).rstrip(".") if doc else cls.__name__
    entry = {"name": name, "model": title, "view": cls.view,
             "conditional": bool(cls.conditional),
             "likelihood": cls.log_likelihood is not MusicGenerator.log_likelihood}
    if hasattr(cls, "tracks"):
        entry["tracks"] = ", ".join(map(str, cls.tracks)) if not isinstance(cls.tracks, str) \
            else cls.tracks
    return entry


def list_models(args: argparse.Namespace) -> int:
    """Print the model table (or JSON)."""
    entries = [describe_model(name) for name in sorted(MODELS)]
    if args.json:
        print(json.dumps(entries, indent=1))
        return 0
    columns = ["name", "model", "view", "conditional", "likelihood"]
    columns += ["tracks"] if any("tracks" in e for e in entries) else []
    cells = [[_cell(e.get(c, "")) for c in columns] for e in entries]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _cell(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def list_datasets(args: argparse.Namespace) -> int:
    """``musebench data list``."""
    from musebench.cli.data import list_sources

    return list_sources(args)
