"""musebench: a benchmark suite that trains, samples and scores symbolic-music generators.

The repository root is the ``musebench`` package (see setup.cfg ``package_dir``):
``musebench.datasets``, ``musebench.models``, ``musebench.metrics``,
``musebench.leaderboard``, ``musebench.experiments`` (the run), ``musebench.perf`` (the
performance suite) and ``musebench.cli`` (the command; ``python -m musebench``), in that
order of layers (docs/architecture.md).

Importing the package chooses how OpenMP threads wait (:func:`openmp_wait_policy`): this
has to happen here, before anything imports torch, because the OpenMP runtime reads its
environment once, when torch loads it.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__version__ = "0.1.0"

#: Environment variables by which a user has already chosen how OpenMP threads wait
#: (libgomp's policy and spin count, Intel OpenMP's block time); any of them set wins.
OPENMP_WAIT_SETTINGS: tuple[str, ...] = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def openmp_wait_policy(environ: MutableMapping[str, str]) -> str | None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` in ``environ`` unless one of
    :data:`OPENMP_WAIT_SETTINGS` is already set; return what was set (None: nothing).

    Why passive: torch's OpenMP threads otherwise spin at the end of every parallel region
    waiting for each other. When another process holds one of the cores, the thread that
    lost it is descheduled and its partner spins for it, so a model of many small kernels
    trained at a small fraction of its share (``python -m musebench.perf.threads`` measures
    it, ``make perf`` reports busy/idle per model). Passive threads sleep instead.
    Child processes (DDP ranks, grid jobs, ``make perf`` cells) inherit it.
    """
    if any(name in environ for name in OPENMP_WAIT_SETTINGS):
        return None
    environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return "PASSIVE"


openmp_wait_policy(os.environ)
