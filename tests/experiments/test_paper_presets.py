"""Each paper preset trains on its paper's data (issue #12): the preset names the source,
and one optimiser step at the paper's sizes runs on that data."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from musebench.experiments.bench import build_datamodule
from musebench.experiments.config import load_config
from musebench.models import get_model

#: model -> the data its paper trained on, as a musebench source
PAPER_DATA = {
    "midinet": "theorytab", "midinet_model2": "theorytab", "midinet_model1": "theorytab",
    "crnngan": "classical", "biaxial": "pianomidi", "pianoroll_lstm": "musedata",
    "lstm_attention": "cello",
}
#: sources whose first parse takes minutes on 2 cores (3,029 MIDI files; 783 long rolls)
SLOW = {"crnngan", "pianoroll_lstm"}


def test_every_card_model_has_a_paper_preset_on_its_papers_data() -> None:
    assert {name: load_config(name, "paper")["data"]["source"] for name in PAPER_DATA} \
        == PAPER_DATA


@pytest.mark.data
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in PAPER_DATA])
def test_paper_preset_takes_one_step_on_the_papers_data(name: str, data_root: Path) -> None:
    config = load_config(name, "paper")
    pl.seed_everything(0)
    model = get_model(name)(**config["model"])  # the paper's sizes
    data = build_datamodule(config, model, 0, data_root)
    model.fit_statistics(data.pieces("train"), data.pieces("valid"))
    before = [p.detach().clone() for p in model.parameters()]
    trainer = pl.Trainer(accelerator="cpu", max_steps=1, limit_val_batches=0,
                         num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, datamodule=data)
    assert trainer.global_step >= 1
    assert any(not torch.equal(a, b) for a, b in
               zip(before, model.parameters(), strict=True))
