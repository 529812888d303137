"""An ``nn.LSTM`` that also runs under bf16 autocast on CPUs without bfloat16 kernels.

CPU autocast casts an LSTM's input to bfloat16, and oneDNN then needs a bf16 LSTM
primitive. CPUs without bf16 instructions (AVX2-only x86, e.g. many AMD EPYC and older
Intel parts; ``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is False) have none, and
the forward pass fails with "could not create a primitive descriptor for the LSTM forward
propagation primitive". There, :class:`LSTM` runs the recurrence in float32 with autocast
off (what autocast would compute, at float32 precision) and the layers around it keep
their bf16 autocast. Everywhere else it is exactly ``nn.LSTM``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import torch
from torch import nn


@cache
def cpu_has_bf16_kernels() -> bool:
    """Whether oneDNN on this CPU has bfloat16 kernels (asked once per process)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def needs_float32(input: torch.Tensor) -> bool:
    """True where CPU bf16 autocast is on but this CPU cannot run a bf16 LSTM."""
    return (input.device.type == "cpu" and torch.is_autocast_enabled("cpu")
            and torch.get_autocast_dtype("cpu") == torch.bfloat16
            and not cpu_has_bf16_kernels())


class LSTM(nn.LSTM):
    """``nn.LSTM`` whose forward falls back to float32 where CPU bf16 kernels are missing
    (see the module docstring); same constructor, weights and outputs otherwise."""

    def forward(self, input: Any, hx: Any = None) -> Any:  # noqa: A002 - nn.LSTM's name
        if isinstance(input, torch.Tensor) and needs_float32(input):
            with torch.autocast("cpu", enabled=False):
                if hx is not None:
                    hx = tuple(h.float() for h in hx)
                return super().forward(input.float(), hx)
        return super().forward(input, hx)
