"""MusicDataModule (datasets/datamodule.py): splits, windows, augmentation, batches, Lightning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.datasets.codecs import BarRollCodec, FrameRollCodec
from musebench.datasets.datamodule import ALL_KEYS, MusicDataModule, transpositions
from musebench.datasets.midi import write_midi
from musebench.datasets.piece import Piece, make_notes


def test_fixture_with_frame_rolls_batches_windows_of_every_split() -> None:
    module = MusicDataModule("fixture", FrameRollCodec(), batch_size=4, window=32, hop=16)
    module.setup("fit")
    for split in ("train", "valid", "test"):
        expected = sum(len(range(0, p.n_steps - 32 + 1, 16)) for p in module.pieces(split))
        assert len(module.dataset(split)) == expected > 0
    batch = next(iter(module.train_dataloader()))
    assert batch["roll"].shape == (4, 32, 88)
    assert batch["roll"].dtype == torch.float32


def test_fixture_with_bar_rolls_keeps_chords_and_decodes_back() -> None:
    codec = BarRollCodec()
    module = MusicDataModule("fixture", codec, batch_size=3)
    piece = module.pieces("valid")[0]
    batch = next(iter(module.val_dataloader()))
    assert batch["bar"].shape[1:] == (piece.n_bars, 1, 16, 128)
    assert batch["chord"].shape[-1] == 13 and batch["chord"][0].sum() > 0
    decoded = codec.decode({k: v[0].numpy() for k, v in batch.items() if k != "lengths"})
    np.testing.assert_array_equal(decoded.pianoroll()[: piece.n_steps],
                                  piece.melody().pianoroll()[: decoded.n_steps])


def test_transpose_all_adds_twelve_keys_to_train_only() -> None:
    plain = MusicDataModule("fixture", FrameRollCodec(), window=None)
    augmented = MusicDataModule("fixture", FrameRollCodec(), window=None, transpose="all")
    assert len(augmented.dataset("train")) == 12 * len(plain.dataset("train"))
    assert len(augmented.dataset("valid")) == len(plain.dataset("valid"))
    first = plain.pieces("train")[0]
    shifted = {int(np.argmax(e["roll"].sum(0) > 0)) for e in augmented.dataset("train").examples[:12]}
    lowest = int(first.notes["pitch"].min()) - 21
    assert shifted == {lowest + s for s in ALL_KEYS}


def test_transpositions_settings() -> None:
    assert transpositions(0) == (0,)
    assert transpositions(2) == (-2, -1, 0, 1, 2)
    assert transpositions("all") == tuple(range(-5, 7))
    with pytest.raises(ValueError, match="transpose"):
        transpositions("some")


def test_train_shuffle_is_seeded_and_eval_loaders_keep_order() -> None:
    def first_batches(seed: int) -> list[torch.Tensor]:
        module = MusicDataModule("fixture", FrameRollCodec(), batch_size=2, window=16, seed=seed)
        return [b["roll"] for b in module.train_dataloader()]

    def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))

    assert same(first_batches(3), first_batches(3))
    assert not same(first_batches(3), first_batches(4))
    module = MusicDataModule("fixture", FrameRollCodec(), batch_size=2, window=16)
    ordered = torch.cat([b["roll"] for b in module.test_dataloader()])
    expected = np.stack([e["roll"] for e in module.examples("test")])
    np.testing.assert_array_equal(ordered.numpy(), expected)


def test_max_pieces_limits_every_split() -> None:
    module = MusicDataModule("fixture", FrameRollCodec(), max_pieces=1)
    assert [len(module.pieces(s)) for s in ("train", "valid", "test")] == [1, 1, 1]


def test_window_longer_than_every_piece_is_a_clear_error() -> None:
    module = MusicDataModule("fixture", FrameRollCodec(), window=10_000)
    with pytest.raises(ValueError, match="no train examples"):
        module.train_dataloader()


def test_whole_pieces_of_unequal_length_are_padded_with_lengths(tmp_path: Path) -> None:
    for i, length in enumerate((8, 12, 20, 9, 30, 14, 11, 17, 25, 10)):
        write_midi(Piece(make_notes([0], [length], [60 + i]), length=length),
                   tmp_path / "tunes" / f"t{i}.mid")
    module = MusicDataModule(f"midi:{tmp_path / 'tunes'}", FrameRollCodec(), batch_size=16)
    batch = next(iter(module.train_dataloader()))
    pieces = module.pieces("train")
    assert sorted(batch["lengths"].tolist()) == sorted(p.n_steps for p in pieces)
    assert batch["roll"].shape[1] == max(p.n_steps for p in pieces)


class MeanRoll(pl.LightningModule):
    """The smallest model that trains on frame-roll batches."""

    def __init__(self) -> None:
        super().__init__()
        self.logit = torch.nn.Parameter(torch.zeros(88))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        logits = self.logit.expand_as(batch["roll"])
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["roll"])

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.training_step(batch, batch_idx))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_lightning_trainer_fits_on_the_datamodule() -> None:
    model = MeanRoll()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu")
    trainer.fit(model, datamodule=MusicDataModule("fixture", FrameRollCodec(), batch_size=8,
                                                  window=32))
    assert model.logit.detach().abs().sum() > 0
    assert "val_loss" in trainer.callback_metrics


def test_train_order_depends_only_on_seed_and_epoch() -> None:
    module = MusicDataModule("fixture", FrameRollCodec(), batch_size=2, window=16, seed=3)
    sampler = module.train_dataloader().sampler
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    fresh = MusicDataModule("fixture", FrameRollCodec(), batch_size=2, window=16, seed=3)
    resumed = fresh.train_dataloader().sampler
    resumed.set_epoch(1)
    assert list(resumed) == second  # a resumed run's epoch 1 is the uninterrupted run's
    assert first != second and sorted(first) == sorted(second) == list(range(len(first)))


def test_max_length_cuts_whole_pieces_and_a_window_makes_it_moot() -> None:
    whole = MusicDataModule("fixture", FrameRollCodec(), window=None)
    cut = MusicDataModule("fixture", FrameRollCodec(), window=None, max_length=20)
    lengths = [len(e["roll"]) for e in whole.dataset("train").examples]
    pieces = [len(e["roll"]) for e in cut.dataset("train").examples]
    # each piece of n frames -> ceil(n / 20) examples, all of 20 frames but its last
    assert len(pieces) == sum(-(-n // 20) for n in lengths)
    assert sum(pieces) == sum(lengths) == cut.timesteps("train")
    assert max(pieces) == 20 and max(lengths) > 20
    windowed = MusicDataModule("fixture", FrameRollCodec(), window=16, hop=16, max_length=4)
    assert {len(e["roll"]) for e in windowed.dataset("train").examples} == {16}
    with pytest.raises(ValueError, match="max_length = 0"):
        MusicDataModule("fixture", FrameRollCodec(), max_length=0)
