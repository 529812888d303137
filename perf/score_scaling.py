"""How scoring scales: samples/s and peak memory of :func:`musebench.metrics.score` at
1,000, 10,000 and 20,000 samples (part of ``make perf``'s metrics section).

Each size runs in its own subprocess (``python -m musebench.perf.score_scaling N``),
so its peak resident memory (``ru_maxrss``, which includes the interpreter, NumPy and the
generated pieces) is its own. The samples are ``perf_metrics.eight_bar_samples``, scored
against a 1,000-piece reference and a 1,000-piece training set. Targets: peak memory under
2 GB at 20,000 samples, and time per sample roughly constant (linear time; the pairwise
part is bounded by :data:`musebench.metrics.pairwise_subset.PAIRWISE_MAX`).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

SIZES = (1000, 10_000, 20_000)
MEMORY_TARGET_MB = 2048.0
REFERENCE = 1000


def measure(n: int) -> dict[str, Any]:
    """Score ``n`` samples in this process; seconds, samples/s and peak RSS (MB)."""
    from musebench.metrics import score
    from musebench.perf.metrics import eight_bar_samples

    samples = eight_bar_samples(n, seed=0)
    reference = eight_bar_samples(REFERENCE, seed=1)
    train = eight_bar_samples(REFERENCE, seed=2)
    started = time.perf_counter()
    result = score(samples, reference, train=train)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"samples": n, "score_s": seconds, "samples_per_s": n / seconds,
            "peak_rss_mb": peak_mb, "n_pairwise": result["n_pairwise"]}


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Measure every size in a fresh subprocess, print a table, return the figures."""
    rows = []
    for n in sizes:
        done = subprocess.run([sys.executable, "-m", "musebench.perf.score_scaling",
                               str(n)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(f"score() of {n:>6} samples: {row['score_s']:7.2f} s, "
              f"{row['samples_per_s']:7.0f} samples/s, peak RSS {row['peak_rss_mb']:6.0f} MB "
              f"(pairwise on {row['n_pairwise']:.0f})", flush=True)
    per_sample = [row["score_s"] / row["samples"] for row in rows]
    return {"sizes": rows, "memory_target_mb": MEMORY_TARGET_MB,
            "memory_ok": all(row["peak_rss_mb"] < MEMORY_TARGET_MB for row in rows),
            "time_per_sample_growth": per_sample[-1] / per_sample[0]}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
