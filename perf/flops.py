"""FLOPs of a piece of PyTorch work, recurrent layers included, and the machine's matmul peak.

:class:`torch.utils.flop_counter.FlopCounterMode` counts matmuls and convolutions at the
dispatcher, but it has no formula for the fused recurrent kernels: on CPU ``nn.LSTM``/``GRU``
run as ``aten.mkldnn_rnn_layer`` (one op per layer and direction) and on CUDA as
``aten._cudnn_rnn``, so it counts them as zero (checked in ``tests/perf/test_perf_flops.py``).
:func:`counting_flops` adds formulas for those ops, counted analytically from their weights:
a layer's forward is ``2 * (T * B) * (rows(W_ih) * cols(W_ih) + rows(W_hh) * cols(W_hh))``
(its input and recurrent matmuls; ``rows`` = 4H for an LSTM, 3H for a GRU), its backward twice
that (gradients of the inputs and of the weights). Recurrences written with ``torch.lstm_cell``
decompose into ``addmm`` and are counted by the stock formulas. Element-wise work
(activations, gate products) is not counted: FLOPs here are matmul FLOPs.

:func:`matmul_peak` measures what this machine's matmuls reach through torch: large square
products, best of a few repetitions, per dtype and backend.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

Shape = Sequence[int]


def _rows_times_cols(weights: Sequence[Any]) -> int:
    """Sum of ``rows * cols`` over the 2-D shapes among ``weights`` (biases are skipped)."""
    return sum(int(w[0]) * int(w[1]) for w in weights if w is not None and len(w) == 2)


def _positions(input_shape: Shape) -> int:
    """``T * B``: every position the recurrence visits (works for packed 2-D inputs too)."""
    return math.prod(int(d) for d in input_shape[:-1])


def mkldnn_rnn_layer_flops(input: Shape, weight0: Shape, weight1: Shape, *args: Any,
                           **kwargs: Any) -> int:
    """Forward FLOPs of one CPU recurrent layer (``aten.mkldnn_rnn_layer``)."""
    return 2 * _positions(input) * _rows_times_cols([weight0, weight1])


def mkldnn_rnn_layer_backward_flops(input: Shape, weight1: Shape, weight2: Shape, *args: Any,
                                    **kwargs: Any) -> int:
    """Backward FLOPs of one CPU recurrent layer: twice its forward."""
    return 2 * mkldnn_rnn_layer_flops(input, weight1, weight2)


def cudnn_rnn_flops(input: Shape, weight: Sequence[Shape], *args: Any, **kwargs: Any) -> int:
    """Forward FLOPs of a whole cuDNN recurrent stack (``aten._cudnn_rnn``): every layer and
    direction sees the same ``T * B`` positions."""
    return 2 * _positions(input) * _rows_times_cols(weight)


def cudnn_rnn_backward_flops(input: Shape, weight: Sequence[Shape], *args: Any,
                             **kwargs: Any) -> int:
    """Backward FLOPs of a cuDNN recurrent stack: twice its forward."""
    return 2 * cudnn_rnn_flops(input, weight)


def recurrent_formulas() -> dict[Any, Callable[..., int]]:
    """FlopCounterMode ``custom_mapping`` for the fused recurrent ops this torch build has."""
    formulas = {
        "mkldnn_rnn_layer": mkldnn_rnn_layer_flops,
        "mkldnn_rnn_layer_backward": mkldnn_rnn_layer_backward_flops,
        "_cudnn_rnn": cudnn_rnn_flops,
        "_cudnn_rnn_backward": cudnn_rnn_backward_flops,
    }
    return {getattr(torch.ops.aten, name): formula for name, formula in formulas.items()
            if hasattr(torch.ops.aten, name)}


def counting_flops() -> FlopCounterMode:
    """A FlopCounterMode (no printout) that also counts fused recurrent layers: use it as a
    context manager and read ``get_total_flops()`` after the block."""
    return FlopCounterMode(display=False, custom_mapping=recurrent_formulas())


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best_flops_per_second(product: Callable[[], Any], flops: int, repeats: int,
                           device: torch.device) -> float:
    product()  # warm-up: allocation, kernel selection
    _synchronize(device)
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        product()
        _synchronize(device)
        best = min(best, time.perf_counter() - started)
    return flops / best


def matmul_peak(device: torch.device | str = "cpu", size: int | None = None,
                repeats: int = 5) -> dict[str, Any]:
    """FLOP/s of ``size x size`` matmuls on ``device``, best of ``repeats`` after a warm-up.

    Measured: ``torch.mm`` in float32 (on CPU this is MKL's sgemm) and in bfloat16 (oneDNN on
    CPU), and on CPU also float32 through oneDNN (``mkldnn_linear`` on mkldnn tensors). The
    peak of a dtype is the fastest of its backends.

    Args:
        device: where to measure.
        size: matrix side (default 2048 on CPU, 8192 on GPU).
        repeats: timed repetitions; the best is kept (the least disturbed by other load).

    Returns:
        ``{"size", "repeats", "threads", "flops_per_s": {backend: FLOP/s},
        "peak_fp32", "peak_bf16"}``.
    """
    device = torch.device(device)
    size = size or (8192 if device.type == "cuda" else 2048)
    flops = 2 * size ** 3
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, generator=generator)
    b = torch.randn(size, size, device=device, generator=generator)
    a16, b16 = a.bfloat16(), b.bfloat16()
    measured = {
        "fp32_torch_mm": _best_flops_per_second(lambda: torch.mm(a, b), flops, repeats, device),
        "bf16_torch_mm": _best_flops_per_second(lambda: torch.mm(a16, b16), flops, repeats,
                                                device),
    }
    if device.type == "cpu" and torch.backends.mkldnn.is_available():
        a_dnn, b_dnn = a.to_mkldnn(), b.t().contiguous().to_mkldnn()
        measured["fp32_onednn_linear"] = _best_flops_per_second(
            lambda: torch._C._nn.mkldnn_linear(a_dnn, b_dnn), flops, repeats, device)
    return {
        "device": str(device),
        "size": size,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "flops_per_s": measured,
        "peak_fp32": max(v for k, v in measured.items() if k.startswith("fp32")),
        "peak_bf16": max(v for k, v in measured.items() if k.startswith("bf16")),
    }
