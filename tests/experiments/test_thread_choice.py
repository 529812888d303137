"""A CPU run's thread count, measured on its first batches (experiments/thread_choice.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytorch_lightning as pl
import torch

from musebench.experiments.thread_choice import (
    PINNED,
    ThreadChoice,
    batch_items,
    candidate_threads,
    fastest_threads,
)
from musebench.experiments.trainer import build_trainer
from musebench.models import get_model


def test_candidates_halve_from_the_share_down_to_one():
    assert candidate_threads(1) == [1]
    assert candidate_threads(2) == [2, 1]
    assert candidate_threads(6) == [6, 3, 1]
    assert candidate_threads(8) == [8, 4, 2, 1]


def test_fastest_is_the_smallest_count_within_the_tolerance_of_the_best_median():
    # medians: 2 threads 2.0, 1 thread 2.1 = 2.0 * 1.05: one thread counts as fast
    assert fastest_threads({2: [3.0, 1.0, 2.0], 1: [2.1, 5.0, 2.0]}) == 1
    # medians 1.0 and 1.2: one thread is 20 % slower
    assert fastest_threads({2: [1.0, 1.0, 9.0], 1: [1.2, 1.2, 0.1]}) == 2
    # medians 4 -> 1.0, 2 -> 1.04, 1 -> 3.0: two is within 5 % of four
    assert fastest_threads({4: [1.0], 2: [1.04], 1: [3.0]}) == 2


def test_batch_items_counts_every_tensor_element_of_a_nested_batch():
    batch = {"x": torch.zeros(4, 16, 3), "meta": [torch.zeros(4), (torch.zeros(2, 2), "name")]}
    assert batch_items(batch) == 4 * 16 * 3 + 4 + 4


class Tiny(pl.LightningModule):
    """A linear model on random batches: enough steps for the callback to measure."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(8, 1)
        self.seen_threads: list[int] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.seen_threads.append(torch.get_num_threads())
        return self.layer(batch).square().mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(torch.randn(64, 8), batch_size=4)


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """torch at two threads with no user-pinned count, restored after."""
    monkeypatch.delenv(PINNED, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def fit(callback: ThreadChoice, batches: int) -> tuple[Tiny, pl.Trainer]:
    model = Tiny()
    trainer = pl.Trainer(max_steps=batches, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu", devices=1, callbacks=[callback])
    trainer.fit(model)
    return model, trainer


def clock_costing(seconds: dict[int, float]) -> ThreadChoice:
    """A ThreadChoice whose clock says a batch at ``n`` threads took ``seconds[n]``: each
    reading advances by half of it, and a batch is timed between two readings."""
    now = [0.0]

    def clock() -> float:
        now[0] += seconds[torch.get_num_threads()] / 2
        return now[0]

    return ThreadChoice(rounds=3, clock=clock)


@pytest.mark.parametrize(("seconds", "expected"), [({2: 1.0, 1: 0.4}, 1), ({2: 1.0, 1: 1.5}, 2)])
def test_a_run_trains_on_at_the_count_its_first_batches_found_fastest(two_threads, seconds,
                                                                       expected):
    callback = clock_costing(seconds)
    model, trainer = fit(callback, batches=14)
    # one warm-up round and three timed rounds of the two candidates, alternating
    assert model.seen_threads[:8] == [2, 1] * 4
    assert callback.times.keys() == {1, 2} and all(len(t) == 3 for t in callback.times.values())
    assert callback.chosen == expected
    assert model.seen_threads[8:] == [expected] * 6
    assert trainer.global_step == 14  # the measured batches were training steps
    assert torch.get_num_threads() == expected


def test_a_fit_too_short_to_measure_ends_at_the_count_it_started_with(two_threads):
    callback = clock_costing({2: 1.0, 1: 0.4})
    model, _ = fit(callback, batches=5)
    assert model.seen_threads == [2, 1, 2, 1, 2] and callback.chosen is None
    assert torch.get_num_threads() == 2


def test_a_pinned_count_is_kept(two_threads, monkeypatch):
    monkeypatch.setenv(PINNED, "2")
    callback = clock_costing({2: 1.0, 1: 0.4})
    model, _ = fit(callback, batches=10)
    assert model.seen_threads == [2] * 10 and callback.chosen is None


def test_bench_trainers_measure_and_the_regression_gate_pins(tmp_path):
    model = get_model("markov")()
    config = {"trainer": {"max_epochs": 1, "accelerator": "cpu"}}
    chosen = build_trainer(config, model, tmp_path, None)
    pinned = build_trainer(config, model, tmp_path, None, choose_threads=False)
    assert any(isinstance(c, ThreadChoice) for c in chosen.callbacks)
    assert not any(isinstance(c, ThreadChoice) for c in pinned.callbacks)
