"""Base class of the models trained by maximum likelihood on their own ``log_likelihood``.

The piano-roll LSTM and the LSTM with attention (and any later likelihood model whose
loss is nothing but its negative log-likelihood) train on the same quantity the shared
likelihood metrics report: the negative log-probability per real time step,

.. math:: \\mathcal{L} = -\\frac{\\sum_{b,t} m_{bt} \\log p_{bt}}{\\sum_{b,t} m_{bt}}

with ``m`` the step mask of :class:`~musebench.models.base.StepLikelihood`. Defining it
once keeps "the loss equals the reported NLL" true by construction.
"""

from __future__ import annotations

import torch

from musebench.models.base import MusicGenerator


class LikelihoodGenerator(MusicGenerator):
    """A :class:`MusicGenerator` whose training loss is its mean negative log-likelihood."""

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean negative log-probability over the real (unmasked) steps of ``batch``."""
        likelihood = self.log_likelihood(batch)
        mask = likelihood.mask
        return -(likelihood.log_prob * mask).sum() / mask.sum().clamp(min=1)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=_batch_size(batch))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.loss(batch), prog_bar=True, batch_size=_batch_size(batch),
                 sync_dist=True)


def _batch_size(batch: dict[str, torch.Tensor]) -> int:
    return len(next(iter(batch.values())))
