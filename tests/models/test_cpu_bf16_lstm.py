"""The LSTM that runs under CPU bf16 autocast where oneDNN has no bf16 LSTM kernel."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from musebench.models import cpu_bf16_lstm
from musebench.models.cpu_bf16_lstm import LSTM


def pair() -> tuple[nn.LSTM, LSTM]:
    torch.manual_seed(0)
    plain = nn.LSTM(4, 8, num_layers=2, batch_first=True)
    ours = LSTM(4, 8, num_layers=2, batch_first=True)
    ours.load_state_dict(plain.state_dict())
    return plain, ours


def test_without_autocast_it_is_nn_lstm():
    plain, ours = pair()
    x = torch.randn(3, 5, 4)
    torch.testing.assert_close(ours(x)[0], plain(x)[0], rtol=0, atol=0)


def test_without_bf16_kernels_it_runs_float32_under_bf16_autocast(monkeypatch):
    monkeypatch.setattr(cpu_bf16_lstm, "cpu_has_bf16_kernels", lambda: False)
    plain, ours = pair()
    x = torch.randn(3, 5, 4)
    state = (torch.zeros(2, 3, 8, dtype=torch.bfloat16), torch.zeros(2, 3, 8))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h, c) = ours(x, state)
    assert out.dtype == h.dtype == c.dtype == torch.float32
    torch.testing.assert_close(out, plain(x)[0], rtol=0, atol=0)
    out.sum().backward()
    assert all(p.grad is not None for p in ours.parameters())


@pytest.mark.skipif(cpu_bf16_lstm.cpu_has_bf16_kernels(),
                    reason="this CPU has bf16 LSTM kernels: nn.LSTM runs under bf16 autocast")
def test_on_this_cpu_plain_nn_lstm_fails_under_bf16_autocast_and_ours_runs():
    plain, ours = pair()
    x = torch.randn(3, 5, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(RuntimeError, match="primitive"):
            plain(x)
        assert torch.isfinite(ours(x)[0]).all()
