"""Reference rows of every leaderboard table: the real data, and the papers' figures.

- Real data: the test split scored as if it were a model's samples, against the training
  split, per (dataset, view): what a perfect model of the data would reach. It is computed
  (and cached) by :func:`musebench.experiments.scoring.real_data_row`; this module only
  names its column (:func:`real_data_label`).
- Published: the log-likelihood per time step and expected frame accuracy reported by
  Boulanger-Lewandowski, Bengio & Vincent (ICML 2012, Table 1) for the four Boulanger
  datasets, read from ``$MUSEBENCH_DATA/../reference-results.csv`` when present, else
  from the copy in ``leaderboard/results/`` (see its README); each row keeps its citation.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


def real_data_label(view: str, beats: int | None = None) -> str:
    """The reference column's name for ``view``, e.g. ``real data, melody (test vs train)``,
    and ``real data, melody, first 32 beats (test vs train)`` for a scored length."""
    span = "" if beats is None else f", first {beats} beats"
    return f"real data, {view}{span} (test vs train)"


REAL_DATA = real_data_label("full")
#: (published column, our metric name, factor): metrics.likelihood's names and units.
PUBLISHED_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("log_likelihood_per_step", "log_likelihood_per_step", 1.0),
    ("log_likelihood_per_step", "nll_per_step", -1.0),
    ("frame_accuracy_percent", "frame_accuracy", 0.01),
)


def published_csv() -> Path:
    """The published-figures CSV: next to ``$MUSEBENCH_DATA`` if there, else the copy."""
    data = os.environ.get("MUSEBENCH_DATA")
    if data and (Path(data).parent / "reference-results.csv").is_file():
        return Path(data).parent / "reference-results.csv"
    return RESULTS_DIR / "reference-results.csv"


def published_rows(path: Path | None = None) -> list[dict[str, Any]]:
    """The papers' figures as leaderboard rows (``kind = "published"``, with ``source``).

    Raises:
        ValueError: a row lacks a column or has a non-numeric figure (file and line named).
    """
    path = path or published_csv()
    rows = []
    with open(path, newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                metrics = {name: float(record[column]) * factor
                           for column, name, factor in PUBLISHED_COLUMNS}
                rows.append({"kind": "published", "model": record["model"],
                             "dataset": record["dataset"], "preset": "paper",
                             "source": record["source"], "metrics": metrics})
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path}:{line}: bad published row ({error})") from None
    return rows
