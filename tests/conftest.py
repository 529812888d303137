"""Shared test fixtures: the real-data root (or a skip), an isolated cache, W&B disabled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA_SKIP_MESSAGE = "set MUSEBENCH_DATA=<path to shared/data> to run"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder named by ``$MUSEBENCH_DATA``; skips the test when unset."""
    value = os.environ.get("MUSEBENCH_DATA")
    if not value:
        pytest.skip(DATA_SKIP_MESSAGE)
    root = Path(value).expanduser()
    if not root.is_dir():
        pytest.skip(f"MUSEBENCH_DATA={value} is not a folder; {DATA_SKIP_MESSAGE}")
    return root


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The whole session (session-scoped fixtures included): the cache in a session tmp
    dir, never the user's own, and W&B disabled. Yields the cache folder.

    Under pytest-xdist (``make test``) the workers share one cache folder (the run's
    common tmp root), so a data set is prepared once per run, not once per worker (cache
    files are written atomically), and each worker and its subprocesses run one thread:
    N workers of N threads each on N cores would thrash in OpenMP's spin-waits.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        cache = tmp_path_factory.getbasetemp().parent / "musebench-cache"
        cache.mkdir(exist_ok=True)
    else:
        cache = tmp_path_factory.mktemp("musebench-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MUSEBENCH_CACHE", str(cache))
        patch.setenv("WANDB_MODE", "disabled")
        if worker:
            import torch

            patch.setenv("OMP_NUM_THREADS", "1")
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
        yield cache
        if worker:
            torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def session_cache(isolated_environment: Path) -> Path:
    """The session's cache folder (``$MUSEBENCH_CACHE`` during the tests)."""
    return isolated_environment
