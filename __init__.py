"""musebench: a benchmark suite that trains, samples and scores symbolic-music generators.

The repository root is the ``musebench`` package (see setup.cfg ``package_dir``):
``musebench.datasets``, ``musebench.models``, ``musebench.metrics``,
``musebench.leaderboard``, ``musebench.experiments`` (the run), ``musebench.perf`` (the
performance suite) and ``musebench.cli`` (the command; ``python -m musebench``), in that
order of layers (docs/architecture.md).
"""

__version__ = "0.1.0"
