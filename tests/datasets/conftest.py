"""Fixtures shared by the data-set tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of the test's own (``$MUSEBENCH_CACHE``)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MUSEBENCH_CACHE", str(folder))
    return folder
