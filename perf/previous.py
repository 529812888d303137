"""The previous ``make perf`` figures beside the new ones.

The repository keeps the JSON of the last run worth comparing with (:data:`PREVIOUS`,
copied from ``runs/perf.json`` after a run on an idle machine). After a run, the suite
prints, per model and preset of the model section, the key figures of both runs side by
side: fp32 training samples/s, bf16/fp32, busy/idle, the sample set's bars/s and the
minutes of training the standard budget buys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The figures kept from the last run, beside this module.
PREVIOUS = Path(__file__).with_name("previous.json")

#: Compared figures: column name -> path into a model section cell.
FIGURES: dict[str, tuple[str, ...]] = {
    "fp32 smp/s": ("train", "32-true", "samples_per_s"),
    "bf16/fp32": ("bf16_over_fp32",),
    "busy/idle": ("busy_over_idle",),
    "set bar/s": ("generate_set", "bars_per_s"),
    "budget min": ("budget", "fp32_minutes"),
}


def figure(cell: dict[str, Any], path: tuple[str, ...]) -> float | None:
    """The number at ``path`` in ``cell``, None if absent or not a number."""
    value: Any = cell
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def load_previous(path: Path = PREVIOUS) -> dict[str, Any] | None:
    """The previous run's whole JSON, None if there is none."""
    return json.loads(path.read_text()) if path.exists() else None


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def comparison(previous: dict[str, Any], current: dict[str, Any]) -> str:
    """A text table: one line per (model, preset) of the current model section, each
    figure of :data:`FIGURES` as ``previous -> new``; the header names both runs' start."""
    before = previous.get("perf_models", {}).get("models", {})
    now = current.get("perf_models", {}).get("models", {})
    header = f"{'model':<15} {'preset':<8} " + " ".join(f"{name:>20}" for name in FIGURES)
    lines = [f"previous run {previous.get('started', '?')} -> this run "
             f"{current.get('started', '?')}", header, "-" * len(header)]
    for model, presets in now.items():
        for preset, cell in presets.items():
            old = before.get(model, {}).get(preset, {})
            pairs = [f"{_number(figure(old, path))} -> {_number(figure(cell, path))}"
                     for path in FIGURES.values()]
            lines.append(f"{model:<15} {preset:<8} " + " ".join(f"{p:>20}" for p in pairs))
    return "\n".join(lines)
