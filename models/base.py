"""The model contract: every generator is a :class:`MusicGenerator` LightningModule.

Like torchgeo's ``BaseTask``: ``__init__`` saves the hyper-parameters (so a checkpoint
reloads by name), then small hooks with obvious names build the parts. The bench loop
only ever talks to this interface; it never asks which model it is running.

A model:
    - names its representation in :meth:`configure_codec` (a
      :class:`~musebench.datasets.codecs.Codec`);
    - builds its networks in :meth:`configure_models`;
    - trains through Lightning only (``training_step``, ``configure_optimizers``; GANs
      set ``automatic_optimization = False``);
    - implements :meth:`generate` returning Pieces;
    - where it defines a likelihood, implements :meth:`log_likelihood`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytorch_lightning as pl
import torch

from musebench.arguments import check_arguments
from musebench.datasets.codecs import Codec
from musebench.datasets.piece import Piece


@dataclass
class StepLikelihood:
    """Per-step log-likelihoods of a batch, the input of the shared likelihood metrics.

    Attributes:
        log_prob: ``(B, T)`` natural-log probability of each time step's target.
        mask: ``(B, T)`` bool, True on real (not padded) steps.
        note_probs: ``(B, T, P)`` predicted probability of each note being on, for
            frame models (None for token models); with ``note_targets`` it gives
            Boulanger-Lewandowski's expected frame accuracy.
        note_targets: ``(B, T, P)`` 0/1 targets matching ``note_probs``.
    """

    log_prob: torch.Tensor
    mask: torch.Tensor
    note_probs: torch.Tensor | None = None
    note_targets: torch.Tensor | None = None


def step_mask(batch: dict[str, torch.Tensor], steps: int) -> torch.Tensor:
    """``(B, T)`` bool mask of real steps: from ``batch['lengths']`` if the batch was padded,
    else all True."""
    first = next(iter(batch.values()))
    if "lengths" not in batch:
        return torch.ones(first.shape[0], steps, dtype=torch.bool, device=first.device)
    lengths = batch["lengths"].to(first.device)
    return torch.arange(steps, device=first.device)[None, :] < lengths[:, None]


def on_grid_of(piece: Piece, grid: Piece) -> Piece:
    """``piece`` on ``grid``'s time grid (``steps_per_beat``, ``beats_per_bar``): a codec
    that counts time in steps (a frame roll, time-shift tokens) does not know how long a
    step is, so what it decodes takes the grid of the piece it stands for."""
    return replace(piece, steps_per_beat=grid.steps_per_beat, beats_per_bar=grid.beats_per_bar)


class MusicGenerator(pl.LightningModule):
    """Base class of every musebench model.

    Class attributes say what the Trainer's checkpointing and early stopping watch.
    ``conditional`` tells readers (and the report) that the model uses the conditions
    passed to :meth:`generate`; the bench passes the test split to every model either way.
    """

    monitor: ClassVar[str] = "val_loss"
    mode: ClassVar[str] = "min"
    conditional: ClassVar[bool] = False
    #: What the model generates: ``"melody"`` (one line, as :meth:`Piece.melody` gives it)
    #: or ``"full"`` (all tracks). The bench scores samples against the test and training
    #: pieces in this view (:func:`~musebench.datasets.views.apply_view`), so melodies are compared with melodies.
    view: ClassVar[str] = "full"

    @property
    def ddp_find_unused_parameters(self) -> bool:
        """Whether DDP must look for parameters that a backward pass does not reach.

        Manual optimisation (GANs) backpropagates each loss through one network only, so
        the other network's parameters get no gradient in that pass; without detection
        DDP's reducer waits for them and errors. Costs a graph traversal per backward, so
        it is off for automatic optimisation; a model that skips parameters otherwise
        overrides this.
        """
        return not self.automatic_optimization

    def __new__(cls, *args: Any, **hparams: Any) -> MusicGenerator:
        """Refuse, before anything is built, a hyper-parameter the class does not declare
        or of the wrong type (:func:`~musebench.arguments.check_arguments`)."""
        if args:
            raise TypeError(f"{cls.__name__} takes its hyper-parameters by keyword only")
        check_arguments(cls, hparams, cls.__name__)
        return super().__new__(cls)

    def __init__(self) -> None:
        """Save the subclass's hyper-parameters (the keyword-only parameters of its
        ``__init__``, their single declaration) as ``self.hparams`` and in checkpoints,
        then build the codec and the networks from them."""
        super().__init__()
        self.save_hyperparameters()
        self.codec: Codec = self.configure_codec()
        self.configure_models()

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def configure_codec(self) -> Codec:
        """The representation this model learns on, built from ``self.hparams``."""

    @abstractmethod
    def configure_models(self) -> None:
        """Build the networks (submodules) from ``self.hparams``."""

    @abstractmethod
    def generate(
        self, n: int, *, conditions: list[Piece] | None = None, seed: int | None = None
    ) -> list[Piece]:
        """Generate ``n`` pieces.

        Args:
            n: number of samples.
            conditions: pieces from the test split; a conditional model takes its chords,
                first bars or seed notes from them (cycling if fewer than ``n``), an
                unconditional one ignores them.
            seed: makes sampling deterministic.
        """

    def log_likelihood(self, batch: dict[str, torch.Tensor]) -> StepLikelihood:
        """Per-step log-probabilities of ``batch`` (a collated codec batch).

        Models without a tractable likelihood (GANs) keep this default.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no likelihood")

    @property
    def has_likelihood(self) -> bool:
        return type(self).log_likelihood is not MusicGenerator.log_likelihood

    @property
    def capabilities(self) -> frozenset[str]:
        """What this model can represent, by which it joins the tracks of the protocol
        (``experiments/tracks.yaml``): its codec's :attr:`Codec.capabilities`, plus
        ``likelihood`` where it defines :meth:`log_likelihood` and ``conditional`` where it
        follows its conditions."""
        extra = {"likelihood"} if self.has_likelihood else set()
        return self.codec.capabilities | extra | ({"conditional"} if self.conditional else set())

    def ceiling(self, pieces: list[Piece]) -> list[Piece]:
        """The representation ceiling: ``pieces`` encoded and decoded by this model's codec,
        what the representation lets a perfect model of it reach at best. The bench scores
        them exactly as it scores samples (same conditions, same view).

        The default round-trips each piece through :attr:`codec`, on the piece's own grid
        (``steps_per_beat``, ``beats_per_bar``), as :meth:`decode_on_grid` gives samples
        the conditions' grid: a codec that counts time in steps (a frame roll) does not
        know how long a step is. A model whose samples pass through more than its codec
        (a pitch range folded, a fixed length) overrides it so the ceiling is what its
        :meth:`generate` could return.
        """
        return [on_grid_of(self.codec.decode(self.codec.encode(p), id=f"{p.id}-ceiling"), p)
                for p in pieces]

    def fit_statistics(  # noqa: B027 - optional hook
        self, train: list[Piece], valid: list[Piece] | None = None
    ) -> None:
        """Optional: learn statistics from the training (and validation) Pieces.

        Called once by the bench loop before ``Trainer.fit``; count-based baselines
        learn here (and train zero epochs), neural models usually need nothing.
        """

    def write_figures(self, samples: list[Piece], folder: Path) -> list[Path]:
        """Optional: write model-specific figures of ``samples`` (e.g. attention maps)
        into ``folder``; returns the files written. Called by the bench after sampling."""
        return []

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def torch_rng(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
        """A torch RNG for sampling: seeded if ``seed`` is given, else from torch's state."""
        rng = torch.Generator(device=device)
        rng.manual_seed(int(seed) if seed is not None else int(torch.randint(2**62, ()).item()))
        return rng

    def decode_on_grid(self, arrays: list[dict[str, np.ndarray]], conditions: list[Piece] | None,
                       seed: int | None, name: str) -> list[Piece]:
        """Each sample's arrays decoded by the codec (ids ``<name>-<i>``). An unconditional
        model's ``conditions`` only lend their grid (``steps_per_beat``, ``beats_per_bar``)
        to the samples, so they share the source's resolution."""
        grid = conditions[0] if conditions else None
        pieces = []
        for i, sample in enumerate(arrays):
            piece = self.codec.decode(sample, id=f"{name}-{i}", source=name, seed=seed)
            pieces.append(piece if grid is None else on_grid_of(piece, grid))
        return pieces

    @staticmethod
    def cycle(conditions: list[Piece] | None, n: int) -> list[Piece] | None:
        """``n`` conditions taken in order, cycling when fewer are given."""
        if not conditions:
            return None
        return [conditions[i % len(conditions)] for i in range(n)]

    @staticmethod
    def numpy_rng(seed: int | None) -> np.random.Generator:
        return np.random.default_rng(seed)
