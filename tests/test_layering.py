"""The import layering: no module imports from a folder above its own.

Layers, lowest first (docs/architecture.md): the neutral helpers (``util``, ``arguments``),
``datasets``, then ``metrics`` and ``models`` side by side (neither imports the other),
``leaderboard``, ``experiments``, ``perf``, the command line (``cli``), and ``__main__`` (``python -m musebench``).
Imports are read with :mod:`ast`, so lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS: dict[str, int] = {
    "__init__": 0, "util": 0, "arguments": 0,
    "datasets": 1,
    "metrics": 2, "models": 2,
    "leaderboard": 3,
    "experiments": 4,
    "perf": 5, "arena": 5,
    "cli": 6,
    "__main__": 7,
}


def room(parts: list[str]) -> str:
    """The top-level folder (or module) that a path or dotted name under musebench is in."""
    return parts[0].removesuffix(".py") if parts else "__init__"


def imported_rooms(path: Path) -> set[str]:
    """The top-level rooms of musebench that ``path`` imports (absolute imports)."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "musebench":
                rooms.add(room(parts[1:]))
    return rooms


def package_modules() -> list[Path]:
    skip = {"tests", "docs", ".git", ".cache", "runs", "build"}
    return sorted(p for p in ROOT.rglob("*.py")
                  if not skip & set(p.relative_to(ROOT).parts) and
                  not any(part.startswith(".") for part in p.relative_to(ROOT).parts))


def test_every_room_of_the_package_has_a_layer():
    rooms = {room(list(p.relative_to(ROOT).parts)) for p in package_modules()}
    assert rooms <= set(LAYERS), f"give these a layer: {sorted(rooms - set(LAYERS))}"
    assert {"cli", "perf", "experiments", "datasets"} <= rooms


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_runs_up_or_sideways(path):
    here = room(list(path.relative_to(ROOT).parts))
    for target in imported_rooms(path):
        if target == here:
            continue
        assert LAYERS[target] < LAYERS[here], (
            f"{path.relative_to(ROOT)} ({here}, layer {LAYERS[here]}) imports {target} "
            f"(layer {LAYERS[target]}): imports must run down the layers")


def test_the_checker_sees_a_lazy_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from musebench.cli import main\n    import musebench.perf\n")
    assert imported_rooms(module) == {"cli", "perf"}
