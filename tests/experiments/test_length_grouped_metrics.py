"""Length-grouped batching changes which examples share a batch, never a test figure: every
likelihood model scores the same test log-likelihood and frame accuracy with either
``batching`` (the per-example sums are the same; only their order of addition differs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes
from musebench.experiments.bench import build_datamodule, likelihood_metrics
from musebench.experiments.config import load_config
from musebench.models import MODELS, get_model


def likelihood_models() -> list[str]:
    names = []
    for name in sorted(MODELS):
        model = get_model(name)(**load_config(name, "smoke")["model"])
        if "likelihood" in model.capabilities:
            names.append(name)
    return names


@pytest.fixture(scope="module")
def tunes(tmp_path_factory: pytest.TempPathFactory) -> str:
    """40 two-voice pieces of 8 to 38 beats (a 16th grid: 32 to 152 steps)."""
    folder = tmp_path_factory.mktemp("tunes")
    rng = np.random.default_rng(0)
    for i in range(40):
        beats = 8 + (i * 7) % 31
        starts = np.arange(0, beats * 4, 2)
        melody = make_notes(starts, 2, 60 + rng.integers(0, 12, len(starts)))
        bass = make_notes(starts[::4], 8, 48 + rng.integers(0, 5, len(starts[::4])))
        write_midi(Piece(np.concatenate([melody, bass]), length=beats * 4),
                   folder / f"tune{i:02d}.mid")
    return f"midi:{folder}"


@pytest.mark.parametrize("name", likelihood_models())
def test_test_figures_do_not_depend_on_batching(name: str, tunes: str) -> None:
    config = load_config(name, "smoke", [f"data.source={tunes}", "data.batch_size=3"])
    torch.manual_seed(0)
    model = get_model(name)(**config["model"])
    figures = {}
    for batching in ("shuffle", "length_grouped"):
        config["data"]["batching"] = batching
        data = build_datamodule(config, model, 0, None)
        if batching == "shuffle":
            model.fit_statistics(data.pieces("train"), data.pieces("valid"))
        figures[batching] = likelihood_metrics(model, data.test_dataloader())
    assert figures["shuffle"].keys() == figures["length_grouped"].keys()
    for key, value in figures["shuffle"].items():
        assert figures["length_grouped"][key] == pytest.approx(value, rel=1e-5), key
