"""Length-grouped batching (datasets/length_grouped.py and ``MusicDataModule(batching=...)``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.datasets.codecs import FrameRollCodec
from musebench.datasets.datamodule import MusicDataModule
from musebench.datasets.length_grouped import (
    LengthGroupedSampler,
    evaluation_order,
    padding_efficiency,
)
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes

#: Lengths spread like whole pieces of a polyphonic set (7 to 3,000 steps).
LENGTHS = np.random.default_rng(0).lognormal(5.5, 0.9, size=203).astype(int) + 7


def test_padding_efficiency_by_hand() -> None:
    # batches (10, 2) and (6, 6) and (3,): padded to 10 + 10, 6 + 6, 3 -> 27 / 35
    assert padding_efficiency([10, 2, 6, 6, 3], [0, 1, 2, 3, 4], 2) == pytest.approx(27 / 35)
    # sorted: (10, 6) (6, 3) (2,): 10 + 10 + 6 + 6 + 2 = 34
    assert padding_efficiency([10, 2, 6, 6, 3], [0, 2, 3, 4, 1], 2) == pytest.approx(27 / 34)


def test_evaluation_batches_are_neighbours_in_a_fixed_order_the_short_one_last() -> None:
    # longest first: 3 (12), 1 (9), 4 (9), 0 (3), 2 (3) -> batches [3, 1] [4, 0], then [2]
    order = evaluation_order([3, 9, 3, 12, 9], 2)
    assert order[-1] == 2 and {tuple(order[0:2]), tuple(order[2:4])} == {(3, 1), (4, 0)}
    assert evaluation_order([3, 9, 3, 12, 9], 2) == order
    # the first batches are a random share of the lengths, not the longest ones
    first = evaluation_order(LENGTHS, 4)[:40]
    assert np.median(LENGTHS[first]) < np.quantile(LENGTHS, 0.9)


def test_every_example_once_an_epoch_in_batches_of_similar_length() -> None:
    sampler = LengthGroupedSampler(LENGTHS, batch_size=4, seed=1)
    order = list(sampler)
    assert sorted(order) == list(range(len(LENGTHS))) and len(sampler) == len(LENGTHS)
    shuffled = torch.randperm(len(LENGTHS), generator=torch.Generator().manual_seed(1)).tolist()
    grouped, random = (padding_efficiency(LENGTHS, o, 4) for o in (order, shuffled))
    assert random < 0.6 and grouped > 0.93  # measured: 0.49 and 0.96


def test_order_is_a_function_of_seed_and_epoch_and_changes_each_epoch() -> None:
    def epoch(seed: int, k: int) -> list[int]:
        sampler = LengthGroupedSampler(LENGTHS, batch_size=4, seed=seed)
        sampler.set_epoch(k)
        return list(sampler)

    assert epoch(3, 2) == epoch(3, 2)
    assert epoch(3, 2) != epoch(3, 1) and epoch(3, 2) != epoch(4, 2)
    # the pools differ between epochs, so examples meet other examples
    pairs = [{frozenset(epoch(3, k)[i:i + 4]) for i in range(0, len(LENGTHS), 4)} for k in (0, 1)]
    assert len(pairs[0] & pairs[1]) < len(pairs[0]) / 2


def test_the_one_short_batch_comes_last() -> None:
    batches = LengthGroupedSampler(LENGTHS[:10], batch_size=4, pool=1).batches()
    assert [len(b) for b in batches] == [4, 4, 2]


@pytest.mark.parametrize("ranks", [2, 3])
def test_ranks_share_every_batch_and_cover_the_epoch(ranks: int) -> None:
    lengths = LENGTHS[:101]
    streams = [list(LengthGroupedSampler(lengths, batch_size=4, seed=5, num_replicas=ranks,
                                         rank=r)) for r in range(ranks)]
    per_rank = -(-len(lengths) // ranks)
    assert all(len(s) == per_rank for s in streams)
    assert set().union(*map(set, streams)) == set(range(len(lengths)))
    # the k-th batch of every rank comes from the k-th batch of width 4 x ranks
    batches = LengthGroupedSampler(lengths, batch_size=4, seed=5, num_replicas=ranks).batches()
    for k, batch in enumerate(batches):
        together = sorted(i for s in streams for i in s[4 * k:4 * k + len(batch) // ranks])
        assert together == sorted(batch.tolist())


def test_bad_arguments_are_errors() -> None:
    with pytest.raises(ValueError, match="batch_size = 0"):
        LengthGroupedSampler(LENGTHS, batch_size=0)
    with pytest.raises(ValueError, match="batching = 'sorted'"):
        MusicDataModule("fixture", FrameRollCodec(), batching="sorted")  # type: ignore[arg-type]


def batch_lengths(batch: dict[str, torch.Tensor]) -> list[int]:
    """Each example's length in a collated batch (``lengths`` only where they differ)."""
    if "lengths" in batch:
        return batch["lengths"].tolist()
    return [batch["roll"].shape[1]] * len(batch["roll"])


@pytest.fixture()
def tunes(tmp_path: Path) -> str:
    for i, length in enumerate(LENGTHS[:40] // 8 + 4):
        write_midi(Piece(make_notes([0], [int(length)], [40 + i]), length=int(length)),
                   tmp_path / "tunes" / f"t{i}.mid")
    return f"midi:{tmp_path / 'tunes'}"


def test_datamodule_batches_neighbours_in_every_split(tunes: str) -> None:
    module = MusicDataModule(tunes, FrameRollCodec(), batch_size=2, batching="length_grouped")
    plain = MusicDataModule(tunes, FrameRollCodec(), batch_size=2)
    for split, loader in (("train", module.train_dataloader()),
                          ("test", module.test_dataloader())):
        lengths = module.lengths(split)
        batches = [batch_lengths(b) for b in loader]
        assert sorted(sum(batches, [])) == sorted(lengths)  # every example once
        padded = sum(max(b) * len(b) for b in batches)
        plain_batches = [batch_lengths(b) for b in plain._loader(split, split == "train")]
        assert padded <= sum(max(b) * len(b) for b in plain_batches)
    test = [batch_lengths(b) for b in module.test_dataloader()]
    expected = evaluation_order(module.lengths("test"), 2)
    assert test == [[module.lengths("test")[i] for i in expected[k:k + 2]]
                    for k in range(0, len(expected), 2)]


class FrameMean(pl.LightningModule):
    """A one-parameter frame model that records the examples of each training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.logit = torch.nn.Parameter(torch.zeros(88))
        self.seen: list[tuple[int, ...]] = []

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        self.seen.append(tuple(batch_lengths(batch)))
        return torch.nn.functional.binary_cross_entropy_with_logits(
            self.logit.expand_as(batch["roll"]), batch["roll"])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_lightning_keeps_the_sampler_and_sets_each_epoch(tunes: str) -> None:
    model = FrameMean()
    data = MusicDataModule(tunes, FrameRollCodec(), batch_size=2, batching="length_grouped",
                           seed=7)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu", limit_val_batches=0)
    trainer.fit(model, datamodule=data)
    assert isinstance(trainer.train_dataloader.sampler, LengthGroupedSampler)
    per_epoch = len(model.seen) // 2
    expected = []
    for epoch in (0, 1):
        sampler = LengthGroupedSampler(data.lengths("train"), 2, seed=7)
        sampler.set_epoch(epoch)
        order = list(sampler)
        lengths = data.lengths("train")
        expected += [tuple(lengths[i] for i in order[k:k + 2]) for k in range(0, len(order), 2)]
    assert model.seen == expected and model.seen[:per_epoch] != model.seen[per_epoch:]
