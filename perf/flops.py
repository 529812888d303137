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


class _WholeProgram:
    """Stands in for FlopCounterMode's module tracker: every FLOP is the whole program's
    (``"Global"``, what ``get_total_flops`` sums). The tracker's backward hooks raise
    ("A leaf node was passed to _will_engine_execute_node") on a training step that takes
    the gradient of a gradient, as MuseGAN's WGAN-GP penalty does; a total needs no
    per-module split."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _WholeProgram:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def counting_flops() -> FlopCounterMode:
    """A FlopCounterMode (no printout, totals only: :class:`_WholeProgram`) that also counts
    fused recurrent layers: use it as a context manager and read ``get_total_flops()``
    after the block."""
    counter = FlopCounterMode(display=False, custom_mapping=recurrent_formulas())
    counter.mod_tracker = _WholeProgram()
    return counter


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


#: Longest a single product of :func:`matmul_peak` should take (seconds); the side of a
#: slow backend's product shrinks to fit (see :func:`fitting_size`).
PRODUCT_SECONDS = 0.5
PROBE_SIZE = 256


def fitting_size(flops_per_s: float, size: int, seconds: float = PRODUCT_SECONDS,
                 probe: int = PROBE_SIZE) -> int:
    """The side (a multiple of 64, between ``probe`` and ``size``) of the largest square
    product that takes about ``seconds`` at ``flops_per_s``.

    Why: on a CPU without bfloat16 instructions (AVX2 only) torch's bf16 matmul runs at a
    fraction of a GFLOP/s, so one 2048-side product took about a minute and the peak
    measurement alone would outlast ``make perf``'s 10 minutes.
    """
    side = int((flops_per_s * seconds / 2) ** (1 / 3)) // 64 * 64
    return max(min(probe, size), min(size, side))


def _fitted(make: Callable[[int], Callable[[], Any]], size: int, repeats: int,
            device: torch.device) -> tuple[float, int]:
    """Best FLOP/s of ``make(side)()`` (a ``side``-square product) at the side that
    :func:`fitting_size` gives from a probe at :data:`PROBE_SIZE`, and that side."""
    probe = min(PROBE_SIZE, size)
    rate = _best_flops_per_second(make(probe), 2 * probe ** 3, 1, device)
    side = fitting_size(rate, size)
    return _best_flops_per_second(make(side), 2 * side ** 3, repeats, device), side


def matmul_peak(device: torch.device | str = "cpu", size: int | None = None,
                repeats: int = 5) -> dict[str, Any]:
    """FLOP/s of ``size x size`` matmuls on ``device``, best of ``repeats`` after a warm-up.

    Measured: ``torch.mm`` in float32 (on CPU this is MKL's sgemm) and in bfloat16 (oneDNN on
    CPU), and on CPU also float32 through oneDNN (``mkldnn_linear`` on mkldnn tensors). The
    peak of a dtype is the fastest of its backends.

    Args:
        device: where to measure.
        size: largest matrix side (default 2048 on CPU, 8192 on GPU); a backend too slow
            for it is measured at the side of :func:`fitting_size` (in ``sizes``).
        repeats: timed repetitions; the best is kept (the least disturbed by other load).

    Returns:
        ``{"size", "sizes": {backend: side}, "repeats", "threads",
        "flops_per_s": {backend: FLOP/s},
        "peak_fp32", "peak_bf16"}``.
    """
    device = torch.device(device)
    size = size or (8192 if device.type == "cuda" else 2048)
    generator = torch.Generator(device=device).manual_seed(0)

    def operands(side: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        return tuple(torch.randn(side, side, device=device, generator=generator).to(dtype)
                     for _ in range(2))

    def torch_mm(dtype: torch.dtype) -> Callable[[int], Callable[[], Any]]:
        def make(side: int) -> Callable[[], Any]:
            a, b = operands(side, dtype)
            return lambda: torch.mm(a, b)
        return make

    def onednn_linear(side: int) -> Callable[[], Any]:
        a, b = operands(side, torch.float32)
        a_dnn, b_dnn = a.to_mkldnn(), b.t().contiguous().to_mkldnn()
        return lambda: torch._C._nn.mkldnn_linear(a_dnn, b_dnn)

    makers = {"fp32_torch_mm": torch_mm(torch.float32), "bf16_torch_mm": torch_mm(torch.bfloat16)}
    if device.type == "cpu" and torch.backends.mkldnn.is_available():
        makers["fp32_onednn_linear"] = onednn_linear
    measured, sizes = {}, {}
    for name, make in makers.items():
        measured[name], sizes[name] = _fitted(make, size, repeats, device)
    return {
        "device": str(device),
        "size": size,
        "sizes": sizes,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "flops_per_s": measured,
        "peak_fp32": max(v for k, v in measured.items() if k.startswith("fp32")),
        "peak_bf16": max(v for k, v in measured.items() if k.startswith("bf16")),
    }
