"""Likelihood metrics of Boulanger-Lewandowski, Bengio & Vincent (ICML 2012).

Computed from a model's per-step probabilities (``models.base.StepLikelihood``):
    - log-likelihood per time step, averaged over ALL test steps (not per sequence):
      :math:`\\mathcal{L} = \\sum_{b,t} m_{bt} \\log p_{bt} / \\sum_{b,t} m_{bt}`; the
      NLL per step is its negative (natural log, nats);
    - expected frame-level accuracy, with expected counts from the predicted note
      probabilities :math:`\\hat y` and the 0/1 targets :math:`y`, summed over all
      test steps and notes:
      :math:`TP = \\sum \\hat y y`, :math:`FP = \\sum \\hat y (1 - y)`,
      :math:`FN = \\sum (1 - \\hat y) y`, :math:`ACC = TP / (TP + FP + FN)`.
Both accept torch tensors or NumPy arrays and accumulate over batches through
:class:`LikelihoodTotals`, so the averages are over steps, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def _numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().to("cpu").double().numpy()
    return np.asarray(array, dtype=float)


@dataclass
class LikelihoodTotals:
    """Running sums over the test steps of one model."""

    log_prob: float = 0.0
    steps: float = 0.0
    true_positive: float = 0.0
    false_positive: float = 0.0
    false_negative: float = 0.0

    def add(self, log_prob: Any, mask: Any, note_probs: Any = None,
            note_targets: Any = None) -> LikelihoodTotals:
        """Add one batch: ``log_prob``/``mask`` ``(B, T)``, optional ``(B, T, P)`` notes."""
        log_prob, mask = _numpy(log_prob), _numpy(mask)
        if log_prob.shape != mask.shape:
            raise ValueError(f"log_prob {log_prob.shape} and mask {mask.shape} differ")
        if not np.all(np.isfinite(log_prob[mask > 0])):
            raise ValueError("log_prob has non-finite values on unmasked steps")
        self.log_prob += float((log_prob * mask).sum())
        self.steps += float(mask.sum())
        if note_probs is not None:
            probs, targets = _numpy(note_probs), _numpy(note_targets)
            if probs.shape != targets.shape or probs.shape[:2] != mask.shape:
                raise ValueError(f"note_probs {probs.shape} / note_targets {targets.shape} "
                                 f"do not match mask {mask.shape}")
            weight = mask[:, :, None]
            self.true_positive += float((probs * targets * weight).sum())
            self.false_positive += float((probs * (1 - targets) * weight).sum())
            self.false_negative += float(((1 - probs) * targets * weight).sum())
        return self

    def result(self) -> dict[str, float]:
        """``log_likelihood_per_step``, ``nll_per_step`` and (frame models)
        ``frame_accuracy``; raises if no step was added."""
        if self.steps == 0:
            raise ValueError("no test steps were scored (empty mask)")
        out = {"log_likelihood_per_step": self.log_prob / self.steps,
               "nll_per_step": -self.log_prob / self.steps}
        denominator = self.true_positive + self.false_positive + self.false_negative
        if denominator > 0:
            out["frame_accuracy"] = self.true_positive / denominator
        return out


def nll_per_step(log_prob: Any, mask: Any) -> float:
    """Negative log-likelihood per (unmasked) time step, in nats."""
    return LikelihoodTotals().add(log_prob, mask).result()["nll_per_step"]


def expected_frame_accuracy(note_probs: Any, note_targets: Any, mask: Any) -> float:
    """Boulanger-Lewandowski's expected frame accuracy TP / (TP + FP + FN).

    Raises ValueError when TP + FP + FN = 0 (nothing predicted and nothing to predict).
    """
    mask_np = _numpy(mask)
    totals = LikelihoodTotals().add(np.zeros(mask_np.shape), mask_np, note_probs, note_targets)
    result = totals.result()
    if "frame_accuracy" not in result:
        raise ValueError("frame accuracy undefined: no predicted and no target notes")
    return result["frame_accuracy"]


def score_likelihoods(batches: list[Any]) -> dict[str, float]:
    """Totals over a list of ``StepLikelihood`` objects (one per test batch)."""
    totals = LikelihoodTotals()
    for batch in batches:  # one iteration per batch, not per step
        totals.add(batch.log_prob, batch.mask, batch.note_probs, batch.note_targets)
    return totals.result()
