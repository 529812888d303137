"""The few lines a finished ``musebench bench`` prints: headline metrics beside the real
data's, and where the files are (every metric is in ``metrics.json`` and the results row).

:data:`HEADLINE` is the short list, one or two per family (pitch, harmony, rhythm,
diversity, memorisation, distribution match, likelihood); a metric the run does not report
(a GAN's likelihood) is left out. The real data's value is the reference row of the run's
data set and view (:func:`musebench.experiments.scoring.real_data_row`: the test split
scored against the training split, cached), so each number has its yardstick beside it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: (metric, what it says) shown at the end of a run.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("pitch_class_entropy", "pitch-class variety (bits)"),
    ("scale_consistency", "share of notes in the best-fitting scale"),
    ("chord_conformance_notes", "share of notes in the conditioning chord"),
    ("note_density", "notes per bar"),
    ("empty_bar_rate", "share of silent bars"),
    ("diversity_pairwise", "mean distance between two samples"),
    ("copy_rate_bars", "share of bars copied from the training set"),
    ("oa_mean", "mean overlap with the real data's feature distributions"),
    ("nll_per_step", "test negative log-likelihood per step"),
)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3g}"


def format_summary(row: dict[str, Any], reference: dict[str, Any] | None,
                   results: Path) -> str:
    """The end-of-run text for results row ``row``; ``reference`` is the real data's
    metrics (None when they could not be computed)."""
    metrics = row["metrics"]
    folder = Path(row["folder"])
    lines = [f"run {row['run_id']}: {row['model']} on {row['dataset']} ({row['preset']}, "
             f"seed {row['seed']}, {row['view']} view), trained in {row['train_seconds']:.0f} s",
             "",
             f"  {'metric':<25} {'run':>8} {'95% CI':>17}  {'real data':>9}  meaning"]
    for key, meaning in HEADLINE:
        if key not in metrics:
            continue
        low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
        interval = f"[{_number(low)}, {_number(high)}]" if low is not None else ""
        real = _number(reference.get(key)) if reference is not None else "-"
        lines.append(f"  {key:<25} {_number(metrics[key]):>8} {interval:>17}  {real:>9}  "
                     f"{meaning}")
    lines += ["",
              f"  samples (MIDI, piano rolls): {folder / 'samples'}",
              f"  every metric: {folder / 'metrics.json'} "
              f"({sum(not k.endswith(('_ci_low', '_ci_high', '_undefined')) for k in metrics)}"
              " metrics)",
              f"  results row appended to: {results}"]
    return "\n".join(lines)
