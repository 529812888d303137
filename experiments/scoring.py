"""The one place that scores a set of pieces against a data set, in a view.

Every score musebench reports comes from :func:`score_in_view`:

- the bench scores a model's samples against its test split (distribution, NDB) and
  training split (memorisation), both in the model's ``view``
  (:func:`~musebench.datasets.views.apply_view`: melody lines or full pieces);
- ``musebench score`` does the same for a folder of MIDI files against
  :func:`reference_splits`, in the view the bench would use for ``--model``, so the
  same samples score the same through both;
- the real-data reference row of each leaderboard table (:func:`real_data_row`) is the test
  split scored as if it were a model's samples, against the training split: what a perfect
  model of the data would reach. It is computed per (dataset, view) and cached in
  ``<musebench cache>/reference/<dataset>.json`` (view ``full``) or ``<dataset>.<view>.json``,
  keyed by the view, the splits' piece ids and the metrics' source code, so a change to any
  recomputes it. The leaderboard only names and renders it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from musebench.datasets.piece import Piece
from musebench.datasets.views import apply_view, first_beats
from musebench.leaderboard.reference import real_data_label
from musebench.util import write_atomically


def score_in_view(samples: list[Piece], test: list[Piece], train: list[Piece], view: str,
                  n_boot: int = 1000, beats: int | None = None) -> dict[str, float]:
    """``samples`` (already in ``view``, and cut to ``beats``) scored by
    :func:`musebench.metrics.score` against ``test`` (the reference, put in ``view`` and
    cut to its first ``beats`` beats, :func:`~musebench.datasets.views.first_beats`) and
    ``train`` (memorisation: in ``view``, whole, so a copy of any span of a training piece
    counts).

    Raises:
        ValueError: an unknown view.
    """
    from musebench.metrics import score

    reference, train = first_beats(apply_view(test, view), beats), apply_view(train, view)
    return {k: float(v) for k, v in score(samples, reference=reference, train=train,
                                          n_boot=n_boot).items()}


def reference_splits(dataset: str, data_root: Path | None = None,
                     max_pieces: int | None = None) -> tuple[list[Piece], list[Piece]]:
    """``dataset``'s (test, train) splits, the first ``max_pieces`` of each as the bench's
    data module keeps them (None: all).

    Raises:
        ValueError: an empty test split.
    """
    from musebench.datasets import load

    data = load(dataset, data_root)
    test, train = data.split("test")[:max_pieces], data.split("train")[:max_pieces]
    if not test:
        raise ValueError(f"{dataset}: the test split is empty")
    return test, train


def bench_settings(model: str, preset: str = "standard",
                   overrides: list[str] | None = None) -> dict[str, Any]:
    """What the bench of ``model`` at ``preset`` scores against: its config's ``dataset``,
    the built model's ``view`` and the data module's ``max_pieces``.

    Raises:
        ValueError: an unknown model or preset, or a bad override.
    """
    from musebench.experiments.config import load_config
    from musebench.models import get_model

    model_cls = get_model(model)
    config = load_config(model, preset, overrides)
    return {"dataset": config["data"]["source"], "view": model_cls(**config["model"]).view,
            "max_pieces": config["data"].get("max_pieces")}


def _cache_key(train: list, test: list, view: str = "full", beats: int | None = None) -> str:
    """Hash of the view, the scored length, the splits' piece ids and every metrics source
    file."""
    import musebench.metrics

    digest = hashlib.sha256()
    digest.update(f"view={view}\n".encode())
    if beats is not None:
        digest.update(f"beats={beats}\n".encode())
    digest.update("\n".join(p.id for p in train).encode() + b"\n--\n")
    digest.update("\n".join(p.id for p in test).encode())
    for source in sorted(Path(musebench.metrics.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def real_data_row(dataset: str, data_root: Path | None = None,
                  refresh: bool = False, view: str = "full",
                  beats: int | None = None) -> dict[str, Any]:
    """The real test split scored against the training split, cached per (dataset, view,
    scored length).

    Args:
        dataset: a data source name.
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        refresh: recompute even if cached.
        view: ``"full"`` pieces or their ``"melody"`` lines (the models' ``view``).
        beats: the test pieces cut to their first this many beats, as a track scores its
            samples (None: whole pieces).

    Raises:
        ValueError: an unknown view.
    """
    from musebench.datasets import load
    from musebench.datasets.cache import cache_dir

    apply_view([], view)  # unknown view -> ValueError before any loading
    data = load(dataset, data_root)
    key = _cache_key(data.train, data.test, view, beats)
    name = dataset.replace(":", "_").replace("/", "_")
    stem = name if view == "full" else f"{name}.{view}"
    path = cache_dir() / "reference" / (f"{stem}.json" if beats is None
                                        else f"{stem}.{beats}beats.json")
    if path.exists() and not refresh:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["row"]
    metrics = score_in_view(first_beats(apply_view(data.test, view), beats), data.train,
                            data.train, view, beats=beats)
    row = {"kind": "reference", "model": real_data_label(view, beats), "dataset": dataset,
           "preset": "-", "view": view, "metrics": metrics}
    if beats is not None:
        row["score_beats"] = beats
    write_atomically(path, json.dumps({"key": key, "row": row}, allow_nan=True))
    return row
