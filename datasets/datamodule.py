"""MusicDataModule: one source + one codec -> Lightning train/val/test dataloaders.

The prepared pieces come from :func:`musebench.datasets.cache.load` (parsed and split
once). Each piece is encoded once with ``codec.encode`` and cut into training examples
with ``codec.windows``; ``codec.collate`` makes the batches. Transposition
augmentation acts on Pieces before encoding and on the train split only: with
``transpose="all"`` every training piece is added in all 12 keys (shifts -5..+6
semitones, as MidiNet did, Yang et al. 2017); with an integer ``k`` the shifts are
-k..+k. The datasets are plain map-style lists. The train order is a function of
``(seed, epoch)`` only (:class:`EpochShuffleSampler`), so a run resumed at an epoch boundary
sees the batches an uninterrupted run would; under DDP Lightning swaps it for a
``DistributedSampler`` (also seeded and set to each epoch), which gives every rank the same
number of batches. With ``batching="length_grouped"`` the batches hold examples of similar
length instead (:mod:`musebench.datasets.length_grouped`): every split, less padding.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Literal, get_args

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler

from musebench.datasets.cache import PreparedData, load
from musebench.datasets.codecs import Arrays, Codec
from musebench.datasets.length_grouped import LengthGroupedSampler, evaluation_order
from musebench.datasets.piece import Piece
from musebench.datasets.splits import SPLITS
from musebench.datasets.views import apply_view

#: Shifts of ``transpose="all"``: every key once, the original included (MidiNet).
ALL_KEYS: tuple[int, ...] = tuple(range(-5, 7))


def transpositions(transpose: int | str) -> tuple[int, ...]:
    """The semitone shifts of a ``transpose`` setting (0 -> ``(0,)``)."""
    if transpose == "all":
        return ALL_KEYS
    if isinstance(transpose, str) or isinstance(transpose, bool) or int(transpose) < 0:
        raise ValueError(f"transpose must be a non-negative int or 'all', got {transpose!r}")
    return tuple(range(-int(transpose), int(transpose) + 1))


#: The ways of batching a split (``MusicDataModule(batching=...)``).
Batching = Literal["shuffle", "length_grouped"]


def _checked_batching(batching: str) -> str:
    if batching not in get_args(Batching):
        raise ValueError(f"batching = {batching!r}: must be 'shuffle' or 'length_grouped'")
    return batching


class ExampleDataset(Dataset):
    """A map-style dataset over pre-encoded examples (dicts of arrays)."""

    def __init__(self, examples: list[Arrays]) -> None:
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> Arrays:
        return self.examples[index]


class EpochShuffleSampler(RandomSampler):
    """A random order of the dataset drawn from ``seed + epoch`` alone.

    Lightning calls :meth:`set_epoch` before every training epoch. Unlike a
    ``RandomSampler`` with a stateful generator, the order of epoch ``k`` does not depend
    on the epochs drawn before it in this process, which is what resuming needs. It is a
    ``RandomSampler``, so Lightning recognises the loader as shuffled.
    """

    def __init__(self, data_source: Dataset, seed: int = 0) -> None:
        super().__init__(data_source)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = torch.Generator().manual_seed(self.seed + self.epoch)
        yield from torch.randperm(len(self.data_source), generator=rng).tolist()


def batch_timesteps(batch: dict[str, torch.Tensor], codec: Codec) -> int:
    """Time steps of a collated ``batch`` of ``codec`` in the unit of
    :meth:`MusicDataModule.timesteps` (indices along the first ``time_keys`` array), padding
    excluded: the ``lengths`` collate adds where examples differ, else batch x length."""
    if "lengths" in batch:
        return int(batch["lengths"].sum())
    times = batch[codec.time_keys[0]]
    return int(times.shape[0]) * int(times.shape[1])


class MusicDataModule(pl.LightningDataModule):
    """Pieces of one source, encoded by one codec, as Lightning dataloaders.

    Args:
        source: source name (``bach``, ``jsb``, ``fixture``, ``midi:<folder>``…).
        codec: the model's representation.
        batch_size: examples per batch.
        window: example length in codec time steps (None: whole pieces).
        hop: step between windows (default ``window``).
        transpose: 0, an integer k (shifts -k..+k) or ``"all"`` (-5..+6); train only.
        data_root: folder of the real data sets (default ``$MUSEBENCH_DATA``).
        num_workers: dataloader worker processes.
        max_pieces: keep at most this many pieces per split (quick runs).
        seed: seed of the train shuffle.
        view: the part of each piece the model learns, is conditioned on and is scored
            against (:func:`~musebench.datasets.views.apply_view`): ``"full"`` pieces or
            their ``"melody"`` lines (a track of the official protocol sets its view).
        max_length: with ``window`` None, a whole piece longer than this many time steps
            becomes consecutive examples of at most ``max_length`` (the last one shorter),
            in every split (a test likelihood then starts afresh at each cut); a track of
            the official protocol sets it for data sets of long pieces. A ``window``
            makes it moot.
        score_beats: the length scored: samples, test pieces and ceilings are cut to
            their first this many beats before scoring
            (:func:`~musebench.datasets.views.first_beats`; a track of the official protocol
            sets it, so that no row's figures differ by length alone). None: whole pieces.
        batching: ``"shuffle"``: training batches of a random order, evaluation batches
            in split order. ``"length_grouped"``: examples of similar length share a batch
            (:mod:`~musebench.datasets.length_grouped`): training batches drawn from sorted
            pools of a random order, evaluation batches of neighbours in a fixed order.
            Every example, its loss and its test figures stay the same; what changes is
            which examples share a training batch (so the run is another run, as another
            seed is) and how much padding is computed: for models trained on whole pieces
            of unequal length, up to half of the time.
    """

    def __init__(self, source: str, codec: Codec, batch_size: int = 32,
                 window: int | None = None, hop: int | None = None,
                 transpose: int | str = 0, data_root: str | Path | None = None,
                 num_workers: int = 0, max_pieces: int | None = None, seed: int = 0,
                 view: Literal["full", "melody"] = "full",
                 max_length: int | None = None, score_beats: int | None = None,
                 batching: Batching = "shuffle") -> None:
        super().__init__()
        self.source = source
        self.codec = codec
        self.batch_size = batch_size
        self.window = window
        self.hop = hop
        self.shifts = transpositions(transpose)
        self.data_root = data_root
        self.num_workers = num_workers
        self.max_pieces = max_pieces
        self.seed = seed
        apply_view([], view)  # an unknown view -> ValueError, before any loading
        self.view = view
        if max_length is not None and max_length < 1:
            raise ValueError(f"max_length = {max_length}: must be at least 1 time step")
        self.max_length = max_length
        if score_beats is not None and score_beats < 1:
            raise ValueError(f"score_beats = {score_beats}: must be at least 1 beat")
        self.score_beats = score_beats
        self.batching = _checked_batching(batching)
        self._data: PreparedData | None = None
        self._datasets: dict[str, ExampleDataset] = {}

    @property
    def data(self) -> PreparedData:
        """The prepared data set (loaded on first use, from the cache when built)."""
        if self._data is None:
            self._data = load(self.source, self.data_root)
        return self._data

    def prepare_data(self) -> None:
        """Build the cache once (Lightning calls this on one process only, before every
        fit): loaded into :attr:`data`, so a second fit on this datamodule reads nothing
        again (a source's cache key lists its files: ~1 s for the music21 corpus)."""
        _ = self.data

    def pieces(self, split: str) -> list[Piece]:
        """The pieces of ``split`` (at most ``max_pieces``) in the ``view``, before
        augmentation."""
        pieces = self.data.split(split)
        return apply_view(pieces if self.max_pieces is None else pieces[: self.max_pieces],
                          self.view)

    def setup(self, stage: str | None = None) -> None:
        """Encode and window every split once."""
        for split in SPLITS:
            if split not in self._datasets:
                self._datasets[split] = ExampleDataset(self.examples(split))

    def examples(self, split: str) -> list[Arrays]:
        """Encoded windows of ``split``; the train split in every transposition."""
        shifts = self.shifts if split == "train" else (0,)
        examples: list[Arrays] = []
        for piece in self.pieces(split):
            for shift in shifts:
                encoded = self.codec.encode(piece.transpose(shift) if shift else piece)
                examples.extend(self.codec.windows(encoded, self.window, self.hop)
                                if self.window is not None or self.max_length is None
                                else self.cut(encoded))
        return examples

    def cut(self, encoded: Arrays) -> list[Arrays]:
        """A whole encoded piece as consecutive examples of at most ``max_length`` time
        steps (the last one the remainder; arrays outside ``time_keys`` shared)."""
        keys = self.codec.time_keys
        total = len(encoded[keys[0]])
        return [{k: (v[start:start + self.max_length] if k in keys else v)
                 for k, v in encoded.items()}
                for start in range(0, max(total, 1), self.max_length)]

    def dataset(self, split: str) -> ExampleDataset:
        """The map-style dataset of ``split`` (set up on first use)."""
        if split not in self._datasets:
            self.setup()
        return self._datasets[split]

    def with_batching(self, batching: Batching) -> MusicDataModule:
        """This data module with another ``batching``, sharing its prepared and encoded
        examples (nothing is loaded or encoded again)."""
        other = copy.copy(self)
        other.batching = _checked_batching(batching)
        return other

    def lengths(self, split: str) -> list[int]:
        """Each example's length along the codec's time axis (its first ``time_keys``
        array: frames, events, tokens or bars), in dataset order."""
        key = self.codec.time_keys[0]
        return [len(example[key]) for example in self.dataset(split).examples]

    def timesteps(self, split: str) -> int:
        """Time steps of ``split``'s examples (:meth:`lengths`), summed: what an epoch of
        it trains on, the unit of a run's ``train_timesteps`` budget."""
        return sum(self.lengths(split))

    def sampler(self, split: str, shuffle: bool) -> Sampler | list[int] | None:
        """The order of ``split``'s examples (see ``batching``): None is the split's own
        order. A shuffled length-grouped order takes its DDP rank from the attached
        Trainer."""
        if self.batching == "shuffle":
            return EpochShuffleSampler(self.dataset(split), self.seed) if shuffle else None
        if not shuffle:
            return evaluation_order(self.lengths(split), self.batch_size)
        trainer = self.trainer
        return LengthGroupedSampler(self.lengths(split), self.batch_size, self.seed,
                                    num_replicas=trainer.world_size if trainer else 1,
                                    rank=trainer.global_rank if trainer else 0)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self.dataset(split)
        if len(dataset) == 0:
            raise ValueError(f"{self.source}: no {split} examples (window={self.window} longer "
                             f"than every {split} piece, or an empty split)")
        return DataLoader(dataset, batch_size=self.batch_size,
                          sampler=self.sampler(split, shuffle),
                          collate_fn=self.codec.collate,
                          num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
