"""The attention map of a sequence model as a PNG, as Foster's chapter 7 plots it: one
row per predicting position, one column per attended token, darker = more weight."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np

from musebench.datasets.cache import write_atomically

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_attention_map(weights: np.ndarray, path: Path, title: str = "attention") -> Path:
    """Write the ``(T, T)`` map ``weights`` (rows sum to 1) to ``path`` atomically.

    Raises:
        ValueError: ``weights`` is not a square matrix.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
        raise ValueError(f"{path}: an attention map must be square, got shape {weights.shape}")
    size = min(12.0, 2.0 + weights.shape[0] / 12)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(weights, cmap="Greys", vmin=0.0, vmax=max(float(weights.max()), 1e-9),
                        interpolation="nearest")
    axes.set_xlabel("attended token")
    axes.set_ylabel("predicting position")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())
    return path
