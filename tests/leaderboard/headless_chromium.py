"""The system's Chromium for the report tests: where it is (or None), and a headless run."""

from __future__ import annotations

import shutil
import subprocess

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the browser headless with ``args``; raises if it fails or outlives ``timeout``."""
    return subprocess.run([BROWSER, *FLAGS, *args], capture_output=True, text=True,
                          timeout=timeout, check=True)
