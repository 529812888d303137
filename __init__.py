"""musebench: a benchmark suite that trains, samples and scores symbolic-music generators.

The repository root is the ``musebench`` package (see setup.cfg ``package_dir``):
``musebench.datasets``, ``musebench.models``, ``musebench.metrics``,
``musebench.experiments`` and ``musebench.leaderboard``.
"""

__version__ = "0.1.0"
