"""A busy machine on demand: competing processes that each keep one core busy.

``make perf`` measures training throughput twice, on the machine as it is and with
:func:`busy_processes` running beside it, because users run benchmarks on shared machines:
a run that keeps its share of the cores when another process competes is what the
thread and OpenMP settings (:func:`musebench.openmp_wait_policy`) are chosen for.

Each competitor is a separate Python process spinning in a loop (single-threaded, never
sleeping, never touching memory), started before the measurement and killed after it (or
ending by itself when the process that started it dies).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: What each competing process runs: a pure busy loop, one core's worth of work, that
#: ends when its parent does (every ~100,000 rounds it checks that its parent is still
#: the process whose id it was given), so a measuring process killed on a timeout leaves
#: no spinner, even one killed while the spinner was starting.
SPIN = ("import os, sys\nparent = int(sys.argv[1])\nwhile os.getppid() == parent:\n"
        "    for _ in range(100_000):\n        pass\n")


@contextmanager
def busy_processes(count: int, settle_s: float = 0.2) -> Iterator[list[int]]:
    """Run ``count`` single-core busy loops for the duration of the block.

    Args:
        count: competing processes to start (0: none, the block runs on the machine as is).
        settle_s: seconds to wait after starting them, so they are running when the
            measurement starts.

    Yields:
        The competitors' process ids.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN, str(os.getpid())],  # noqa: S603
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        if spinners:
            time.sleep(settle_s)
        yield [p.pid for p in spinners]
    finally:
        for process in spinners:
            process.kill()
        for process in spinners:
            process.wait()
