"""Reference rows of every leaderboard table: the real data, and the papers' figures.

- Real data: the test split scored as if it were a model's samples, against the training
  split (``metrics.score(test, reference=train, train=train)``): what a perfect model of
  the data would reach (DESIGN.md, "Metrics"). Computed per (dataset, view), both splits
  in the view the models of that column generate (:func:`~musebench.models.base.apply_view`:
  ``melody`` lines or ``full`` pieces), so each model is compared with real data of its
  own kind. Cached in ``<musebench cache>/reference/<dataset>.json`` (view ``full``) or
  ``<dataset>.<view>.json``, keyed by the view, the splits' piece ids and the metrics'
  source code, so a change to any recomputes it.
- Published: the log-likelihood per time step and expected frame accuracy reported by
  Boulanger-Lewandowski, Bengio & Vincent (ICML 2012, Table 1) for the four Boulanger
  datasets, read from ``$MUSEBENCH_DATA/../reference-results.csv`` when present, else
  from the copy in ``leaderboard/results/`` (see its README); each row keeps its citation.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from musebench.util import write_atomically

RESULTS_DIR = Path(__file__).parent / "results"


def real_data_label(view: str) -> str:
    """The reference column's name for ``view``, e.g. ``real data, melody (test vs train)``."""
    return f"real data, {view} (test vs train)"


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


def _cache_key(train: list, test: list, view: str = "full") -> str:
    """Hash of the view, the splits' piece ids and every metrics source file."""
    import musebench.metrics

    digest = hashlib.sha256()
    digest.update(f"view={view}\n".encode())
    digest.update("\n".join(p.id for p in train).encode() + b"\n--\n")
    digest.update("\n".join(p.id for p in test).encode())
    for source in sorted(Path(musebench.metrics.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def real_data_row(dataset: str, data_root: Path | None = None,
                  refresh: bool = False, view: str = "full") -> dict[str, Any]:
    """The real test split scored against the training split, cached per (dataset, view).

    Args:
        dataset: a data source name.
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        refresh: recompute even if cached.
        view: ``"full"`` pieces or their ``"melody"`` lines (the models' ``view``).

    Raises:
        ValueError: an unknown view.
    """
    from musebench.datasets import load
    from musebench.datasets.cache import cache_dir
    from musebench.metrics import score
    from musebench.models.base import apply_view

    apply_view([], view)  # unknown view -> ValueError before any loading
    data = load(dataset, data_root)
    key = _cache_key(data.train, data.test, view)
    name = dataset.replace(":", "_").replace("/", "_")
    path = cache_dir() / "reference" / (f"{name}.json" if view == "full"
                                        else f"{name}.{view}.json")
    if path.exists() and not refresh:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["row"]
    test, train = apply_view(data.test, view), apply_view(data.train, view)
    metrics = {k: float(v) for k, v in score(test, reference=train, train=train).items()}
    row = {"kind": "reference", "model": real_data_label(view), "dataset": dataset,
           "preset": "-", "view": view, "metrics": metrics}
    write_atomically(path, json.dumps({"key": key, "row": row}, allow_nan=True))
    return row
