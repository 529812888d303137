"""Under DDP (two CPU processes, gloo) a resumed fit ends, on every rank, with the state of
the uninterrupted fit: each rank gets back its own RNG stream from the checkpoint rank 0
wrote, and MidiNet's BatchNorm statistics, which follow each rank's own batches, are rank
0's on every rank whenever a checkpoint is written.

Lightning's DDP launcher starts the second process by running the same script again, so
the fits run in one script file (written here) launched as one subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = '''
import json, sys
from pathlib import Path
import pytorch_lightning as pl
import torch
from musebench.experiments.bench import build_datamodule
from musebench.experiments.checkpointing import RNG_KEY
from musebench.experiments.config import load_config
from musebench.experiments.trainer import build_trainer
from musebench.models import get_model

root = Path(sys.argv[1])


def fit(folder, max_epochs, resume):
    config = load_config("midinet", "smoke", [f"trainer.max_epochs={max_epochs}",
                                              "trainer.enable_progress_bar=false"])
    pl.seed_everything(0, verbose=False)
    model = get_model("midinet")(**config["model"])
    data = build_datamodule(config, model, 0, None)
    trainer = build_trainer(config, model, folder, None, devices=2, strategy="ddp")
    last = folder / "checkpoints" / "last.ckpt"
    trainer.fit(model, datamodule=data, ckpt_path=str(last) if resume else None)
    return trainer.global_rank, model.state_dict()


rank, straight = fit(root / "straight", 3, False)
fit(root / "resumed", 1, False)
_, resumed = fit(root / "resumed", 3, True)
states = torch.load(root / "resumed" / "checkpoints" / "last.ckpt", weights_only=True)[RNG_KEY]
(root / f"rank{rank}.json").write_text(json.dumps({
    "differing": [k for k in straight if not torch.equal(straight[k], resumed[k])],
    "saved_states": len(states),
    "states_differ": not torch.equal(states[0]["torch"], states[1]["torch"]),
}))
'''


@pytest.mark.slow  # six two-process MidiNet fits in one launch: ~15 s on 2 loaded cores
def test_a_ddp_fit_resumed_equals_the_uninterrupted_one_on_every_rank(tmp_path: Path,
                                                                      session_cache: Path):
    script = tmp_path / "resume_ddp.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               MUSEBENCH_CACHE=str(session_cache))
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        result = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert result["differing"] == [], f"rank {rank}"
        assert result["saved_states"] == 2 and result["states_differ"]
