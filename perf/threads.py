"""How OpenMP settings hold up on a busy machine: ``python -m musebench.perf.threads``.

Training runs its matmuls, convolutions and element-wise kernels in OpenMP parallel regions.
At the end of each region libgomp's threads wait for each other; by default they *spin*
(300,000 rounds) before sleeping. With one other process keeping a core busy, the thread
that lost its core is descheduled while its partner spins for it, and a model of many small
kernels (thousands of regions per batch) loses far more than the core it gave up.

For each model (default: every registered model that trains) this tool trains the
``--preset`` in fresh processes (:mod:`~musebench.perf.throughput_cell`, ``32-true``), idle
and beside one busy process (:mod:`~musebench.perf.contention`), under each of
:data:`VARIANTS` (environment variables set before torch starts, as OpenMP reads them then),
and prints samples/s and the busy/idle ratio of each. It is the evidence behind the default
that :func:`musebench.openmp_wait_policy` sets. It is not a section of ``make perf`` (it
takes ~4 cells per model); ``make perf`` measures the chosen setting idle and busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from musebench.perf.models import run_cell, trains_at
from musebench.util import write_atomically

#: Setting name -> environment given to the measuring process. ``GOMP_SPINCOUNT=300000`` is
#: libgomp's own default (what runs when nothing is set); Intel OpenMP's ``KMP_BLOCKTIME``
#: does not apply to this torch build's libgomp.
VARIANTS: dict[str, dict[str, str]] = {
    "spin (libgomp default)": {"GOMP_SPINCOUNT": "300000"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin 10k": {"GOMP_SPINCOUNT": "10000"},
    "passive, 1 thread": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"},
}


def measure(models: list[str], preset: str, warmup: int, steps: int,
            variants: dict[str, dict[str, str]]) -> dict[str, Any]:
    """``{model: {variant: {idle, busy, busy_over_idle}}}`` samples/s (or the cell's error)."""
    result: dict[str, Any] = {}
    for model in models:
        result[model] = {}
        for name, env in variants.items():
            saved = {key: os.environ.get(key) for key in env}
            os.environ.update(env)
            try:
                cell = run_cell(model, preset, ("32-true",), warmup, steps, 0,
                                detail=["--busy", "1"])
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            idle = cell.get("train", {}).get("32-true", {}).get("samples_per_s")
            busy = cell.get("train_busy", {}).get("samples_per_s")
            result[model][name] = ({"idle": idle, "busy": busy,
                                    "busy_over_idle": busy / idle if idle and busy else None}
                                   if idle else {"error": cell.get("error", "no figures")})
            print(f"{model:<15} {name:<24} {json.dumps(result[model][name])}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musebench.perf.threads",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None, help="default: every model that trains")
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--variants", nargs="*", default=None, choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("runs/perf_threads.json"))
    args = parser.parse_args(argv)
    models = args.models or trains_at(args.preset)
    variants = {k: VARIANTS[k] for k in (args.variants or VARIANTS)}
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()
    figures = measure(models, args.preset, args.warmup, args.steps, variants)
    report = {"started": started, "preset": args.preset, "steps": [args.warmup, args.steps],
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "variants": variants, "models": figures}
    write_atomically(args.out, json.dumps(report, indent=1, default=float))
    print(f"load average before {load_before}, after {report['load_average_after']}; "
          f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
