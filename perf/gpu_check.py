"""The GPU path in one run: ``python -m musebench.perf.gpu_check`` on a machine with GPUs.

The bench's GPU path (Lightning ``accelerator="auto"``, ``bf16-mixed``, DDP over several
GPUs) is written but had never run. This script checks it in a few minutes and prints one
JSON summary:

- the GPU's matmul peak in fp32 and bf16 (:func:`~musebench.perf.flops.matmul_peak`);
- per model that trains (default: every registered model whose ``--preset`` config trains),
  one fresh process (:mod:`~musebench.perf.throughput_cell`) trains ``32-true`` then
  ``bf16-mixed`` on one GPU: samples/s, bf16/fp32 and peak memory
  (``torch.cuda.max_memory_allocated``);
- with two or more GPUs, the same model in ``bf16-mixed`` under DDP over all of them:
  samples/s over the ranks and its ratio to one GPU.

The plan (:func:`plan`) is made before anything runs and printed with ``--dry-run``; cells
stop being started once ``--budget-s`` seconds have passed, so the run stays within a few
minutes; what was not run is listed as such. Without a GPU it says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from musebench.perf.flops import matmul_peak
from musebench.perf.models import ratio, run_cell, trains_at
from musebench.util import finite, write_atomically

#: Precisions measured on one GPU, in this order.
PRECISIONS: tuple[str, ...] = ("32-true", "bf16-mixed")
#: Precision of the DDP measurement.
DDP_PRECISION = "bf16-mixed"


@dataclass(frozen=True)
class Job:
    """One measuring process: ``model`` at ``preset`` in ``precisions`` on ``devices`` GPUs."""

    model: str
    preset: str
    precisions: tuple[str, ...]
    devices: int
    strategy: str

    @property
    def key(self) -> str:
        """``single`` for one GPU, ``ddp`` for several."""
        return "single" if self.devices == 1 else "ddp"


def plan(models: list[str], preset: str, gpus: int) -> list[Job]:
    """The jobs to run, in order: every model on one GPU in :data:`PRECISIONS` first (the
    figures wanted most), then, with ``gpus >= 2``, every model under DDP on all GPUs.

    Raises:
        ValueError: no GPU (``gpus < 1``), or no model.
    """
    if gpus < 1:
        raise ValueError("no GPU here: this check needs at least one CUDA device")
    if not models:
        raise ValueError("no model to measure")
    jobs = [Job(m, preset, PRECISIONS, 1, "auto") for m in models]
    if gpus >= 2:
        jobs += [Job(m, preset, (DDP_PRECISION,), gpus, "ddp") for m in models]
    return jobs


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """Per model: fp32 and bf16 samples/s, bf16/fp32, peak memory (MiB), DDP samples/s and
    DDP over one GPU (same precision); None where a figure is missing."""
    summary: dict[str, Any] = {}
    for model, cells in figures.items():
        single = cells.get("single", {}).get("train", {})
        ddp = cells.get("ddp", {}).get("train", {}).get(DDP_PRECISION, {})
        fp32, bf16 = single.get("32-true", {}), single.get("bf16-mixed", {})
        memory = [f.get("peak_memory_bytes") for f in (fp32, bf16, ddp) if f]
        summary[model] = {
            "fp32_samples_per_s": fp32.get("samples_per_s"),
            "bf16_samples_per_s": bf16.get("samples_per_s"),
            "bf16_over_fp32": ratio(bf16.get("samples_per_s"), fp32.get("samples_per_s")),
            "peak_memory_mib": max(memory) / 2**20 if memory else None,
            "ddp_samples_per_s": ddp.get("samples_per_s"),
            "ddp_over_single": ratio(ddp.get("samples_per_s"), bf16.get("samples_per_s")),
            "errors": {k: c["error"] for k, c in cells.items() if "error" in c} or None,
        }
    return summary


def run_jobs(jobs: list[Job], warmup: int, steps: int, budget_s: float) -> dict[str, Any]:
    """Run ``jobs`` in turn (:func:`~musebench.perf.models.run_cell`) until ``budget_s``
    seconds have passed; ``{model: {"single"|"ddp": cell}}``, jobs not started marked so."""
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    for job in jobs:
        if time.perf_counter() - started > budget_s:
            cell: dict[str, Any] = {"error": f"not run: the {budget_s:.0f} s budget was spent"}
        else:
            cell = run_cell(job.model, job.preset, job.precisions, warmup, steps, 0,
                            devices=job.devices, strategy=job.strategy)
        figures.setdefault(job.model, {})[job.key] = cell
        print(f"  {job.model} {job.key}: {cell.get('error', 'ok')}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musebench.perf.gpu_check",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None,
                        help="default: every model whose preset trains")
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--budget-s", type=float, default=240.0,
                        help="start no cell after this many seconds")
    parser.add_argument("--gpus", type=int, default=None,
                        help="GPUs to plan for (default: torch.cuda.device_count())")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_check.json"))
    args = parser.parse_args(argv)
    gpus = torch.cuda.device_count() if args.gpus is None else args.gpus
    try:
        jobs = plan(args.models or trains_at(args.preset), args.preset, gpus)
    except ValueError as error:
        print(f"gpu_check: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"gpus": gpus, "plan": [asdict(j) for j in jobs]}), flush=True)
    if args.dry_run:
        return 0
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "gpus": gpus,
        "device_name": torch.cuda.get_device_name(0),
        "machine_peak": matmul_peak("cuda"),
    }
    report["models"] = run_jobs(jobs, args.warmup, args.steps, args.budget_s)
    report["summary"] = summarise(report["models"])
    report = finite(report)
    write_atomically(args.out, json.dumps(report, indent=1))
    print(json.dumps({"gpus": gpus, "device_name": report["device_name"],
                      "peak_fp32": report["machine_peak"]["peak_fp32"],
                      "peak_bf16": report["machine_peak"]["peak_bf16"],
                      "summary": report["summary"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
