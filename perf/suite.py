"""``make perf``: every benchmark section of musebench in one run, side by side.

Each section (:data:`SECTIONS`: its name in the report, and the module under
``musebench.perf`` that measures it) exposes ``run() -> dict`` that measures
its figures (and the ratios against what it is compared with) in this same process and
prints a table. This runner calls them in turn and writes everything to one JSON file
(default ``runs/perf.json``, atomically) that the leaderboard report can show, and prints
the key figures of the previous run kept in the repository beside the new ones
(:mod:`musebench.perf.previous`).
Timing targets live here, never in timed tests.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from musebench.perf.previous import PREVIOUS, comparison, load_previous
from musebench.util import write_atomically

#: The report's sections, in order: report key -> module that measures it.
SECTIONS: dict[str, str] = {
    "perf_data": "musebench.perf.data",
    "perf_metrics": "musebench.perf.metrics",
    "perf_models": "musebench.perf.models",
    "perf_models_gan": "musebench.perf.models_gan",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musebench.perf",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None,
                        help="sections to run (e.g. perf_data perf_metrics); default all")
    parser.add_argument("--models", nargs="*", default=None,
                        help="registered models measured by the sections that take a model "
                             "list (perf_models); default all: a quick subset")
    parser.add_argument("--presets", nargs="*", default=None,
                        help="presets the model section measures (default: standard)")
    parser.add_argument("--ddp", action="store_true",
                        help="the model section also measures 2-process DDP (smoke preset)")
    parser.add_argument("--data-sources", nargs="*", default=None,
                        help="sources the data section builds from scratch (default: the "
                             "embedded bach and the fixture; 'all': every readable source, "
                             "minutes per large corpus)")
    parser.add_argument("--out", type=Path, default=Path("runs/perf.json"))
    parser.add_argument("--previous", type=Path, default=PREVIOUS,
                        help="JSON of the run to print beside this one (default: the "
                             "figures kept in the repository, perf/previous.json)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or []) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)}; "
                     f"sections: {', '.join(SECTIONS)}")
    chosen = [s for s in SECTIONS if args.only is None or s in args.only]
    report: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        measure = importlib.import_module(SECTIONS[name]).run
        takes = inspect.signature(measure).parameters
        kwargs: dict[str, Any] = {}
        if args.models and "models" in takes:
            kwargs["models"] = args.models
        if args.data_sources and "sources" in takes:
            kwargs["sources"] = args.data_sources
        if args.presets and "presets" in takes:
            kwargs["presets"] = tuple(args.presets)
        if args.ddp and "ddp" in takes:
            kwargs["ddp"] = True
        report[name] = measure(**kwargs)
        print(f"({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    write_atomically(args.out, json.dumps(report, indent=2, default=float))
    previous = load_previous(args.previous)
    if previous is not None and "perf_models" in report:
        print("\n" + comparison(previous, report))
    print(f"\nwrote {args.out}")
    return 0

