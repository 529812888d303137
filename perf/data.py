"""``make perf`` data section: how fast each available data set is prepared and reloaded.

For each measured source: the first build (parse + splits + cache write) into a fresh
temporary cache folder, the cached load (best of three, target < 1 s) and the parsing
throughput in pieces per second. The user's own cache is never touched.

``make perf`` measures :data:`QUICK_SOURCES` (the embedded default and the fixture: about
half a minute), so that the whole suite stays under its 10 minutes; ``make perf-data``
(``--data-sources all``) measures every source that can be read here (embedded, or its
files under ``$MUSEBENCH_DATA``), which is minutes per large corpus (essen alone took
497 s of the 658 s of one such run, 2026-12-02).
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from musebench.datasets.cache import load, resolve_data_root
from musebench.datasets.sources import SOURCES, SourceError, get_source

#: The sources of a quick run: the embedded default data set and the test fixture.
QUICK_SOURCES: tuple[str, ...] = ("bach", "fixture")

#: The cached-load target of the cache design.
CACHED_LOAD_TARGET_S = 1.0


def available_sources() -> list[str]:
    """Registered sources that can be read with the current data root."""
    root = resolve_data_root(None)
    names = []
    for name in sorted(SOURCES):
        try:
            source = get_source(name)
        except ImportError:
            continue
        location = source.location(root) if root is not None else None
        if not source.needs_data_root or (location is not None and location.exists()):
            names.append(name)
    return names


def measure(name: str) -> dict[str, Any]:
    """Build ``name`` into the current cache, then time cached loads."""
    started = time.perf_counter()
    data = load(name, refresh=True)
    build_s = time.perf_counter() - started
    loads = []
    for _ in range(3):
        started = time.perf_counter()
        load(name)
        loads.append(time.perf_counter() - started)
    counts = data.manifest["counts"]
    return {
        "pieces": len(data.pieces),
        "steps": sum(c["steps"] for c in counts.values()),
        "skipped": len(data.manifest["skipped"]),
        "build_s": round(build_s, 3),
        "cached_load_s": round(min(loads), 4),
        "pieces_per_s": round(len(data.pieces) / build_s, 1),
        "cached_load_ok": min(loads) < CACHED_LOAD_TARGET_S,
    }


def run(sources: list[str] | None = None) -> dict[str, Any]:
    """Measure ``sources`` (default :data:`QUICK_SOURCES`; ``["all"]``: every available
    source), print a table, return the figures."""
    if sources is None:
        sources = list(QUICK_SOURCES)
    names = available_sources() if sources == ["all"] else sources
    results: dict[str, Any] = {}
    previous = os.environ.get("MUSEBENCH_CACHE")
    with tempfile.TemporaryDirectory(prefix="musebench-perf-cache-") as cache:
        os.environ["MUSEBENCH_CACHE"] = cache
        try:
            for name in names:
                try:
                    results[name] = measure(name)
                except SourceError as error:
                    results[name] = {"error": str(error)}
        finally:
            if previous is None:
                os.environ.pop("MUSEBENCH_CACHE", None)
            else:
                os.environ["MUSEBENCH_CACHE"] = previous
    print_table(results)
    return results


def print_table(results: dict[str, Any]) -> None:
    """One row per source: pieces, steps, skipped, build time, cached load, throughput."""
    header = (f"{'source':<12} {'pieces':>7} {'steps':>11} {'skipped':>7} {'build s':>8} "
              f"{'cached s':>9} {'pieces/s':>9}  cached < 1 s")
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        if "error" in row:
            print(f"{name:<12} error: {row['error']}")
            continue
        print(f"{name:<12} {row['pieces']:>7,} {row['steps']:>11,} {row['skipped']:>7} "
              f"{row['build_s']:>8.2f} {row['cached_load_s']:>9.3f} {row['pieces_per_s']:>9.1f}"
              f"  {'yes' if row['cached_load_ok'] else 'NO'}")


if __name__ == "__main__":
    run()
