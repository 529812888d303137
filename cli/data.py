"""``musebench data``: list the data sets, prepare (cache) one, describe one.

- ``musebench data list``: every source with its description and whether it can be
  read here (embedded, or its files found under the data root).
- ``musebench data prepare SOURCE [--refresh]``: parse and cache; prints the counts
  per split and every skipped file with its reason.
- ``musebench data info SOURCE [--json]``: pieces and time steps per split, pitch
  range, skipped files with reasons, read warnings (builds the cache if needed).

The global ``--data-root`` option (default ``$MUSEBENCH_DATA``) names the data folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from musebench.datasets.cache import load, resolve_data_root
from musebench.datasets.sources import SOURCES, get_source


def register(subparsers: Any) -> None:
    """Add the ``data`` command and its ``list``/``prepare``/``info`` sub-commands."""
    parser = subparsers.add_parser("data", help="list, prepare and describe data sets")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every data set and whether it is available")
    listing.set_defaults(func=list_sources)
    prepare = actions.add_parser("prepare", help="parse and cache a data set")
    prepare.add_argument("source", help="a name from `musebench data list` or midi:<folder>")
    prepare.add_argument("--refresh", action="store_true", help="rebuild even if cached")
    prepare.set_defaults(func=prepare_source)
    info = actions.add_parser("info", help="pieces, steps, pitch range and skipped files")
    info.add_argument("source", help="a name from `musebench data list` or midi:<folder>")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.set_defaults(func=show_info)


def list_sources(args: argparse.Namespace) -> int:
    """Print each source: name, available or why not, description."""
    root = resolve_data_root(args.data_root)
    rows = []
    for name in sorted(SOURCES):
        try:
            source = get_source(name)
        except ImportError as error:
            rows.append((name, "not installed", f"cannot import its reader ({error})"))
            continue
        if not source.needs_data_root:
            status = "embedded"
        elif root is None:
            status = "needs --data-root"
        else:
            location = source.location(root)
            status = "available" if location is not None and location.exists() else "not found"
        rows.append((name, status, source.description))
    rows.append(("midi:<folder>", "any folder", "your own MIDI files, recursive, hash split"))
    width = max(len(r[0]) for r in rows)
    for name, status, description in rows:
        print(f"{name:<{width}}  {status:<17}  {description}")
    return 0


def prepare_source(args: argparse.Namespace) -> int:
    """Build (or reuse) the cache of ``args.source`` and print its summary."""
    data = load(args.source, args.data_root, refresh=args.refresh)
    print_summary(data.manifest)
    return 0


def show_info(args: argparse.Namespace) -> int:
    """Print the manifest of ``args.source`` as a table or JSON."""
    manifest = load(args.source, args.data_root).manifest
    if args.json:
        json.dump(manifest, sys.stdout, indent=2)
        print()
    else:
        print_summary(manifest)
    return 0


def print_summary(manifest: dict[str, Any]) -> None:
    """Counts per split, pitch range, build time, skipped files and warnings."""
    print(f"{manifest['name']}  (cache {manifest.get('cache_file', '?')})")
    print(f"{'split':<6} {'pieces':>7} {'steps':>10}")
    for split, count in manifest["counts"].items():
        print(f"{split:<6} {count['pieces']:>7,} {count['steps']:>10,}")
    print(f"pitch range {manifest['pitch_range']}, built in {manifest['build_seconds']} s")
    skipped = manifest["skipped"]
    print(f"skipped {len(skipped)} file(s)")
    for item in skipped:
        print(f"  {item['path']}: {item['reason']}")
    warnings = manifest.get("warnings", {})
    if warnings:
        print(f"read with warnings: {len(warnings)} piece(s)")
        for piece_id, text in warnings.items():
            print(f"  {piece_id}: {text}")
