"""Shared test fixtures: the real-data root (or a skip), an isolated cache, W&B disabled."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole test session (never the user's own cache)."""
    return tmp_path_factory.mktemp("musebench-cache")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, session_cache: Path) -> None:
    """Every test: cache under the session tmp dir, W&B disabled."""
    monkeypatch.setenv("MUSEBENCH_CACHE", str(session_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
