"""The attention layer of Melody RNN's ``attention_rnn``: an LSTM cell inside TensorFlow's
``AttentionCellWrapper`` (Magenta's ``contrib/rnn.py``; Bahdanau-style attention over the
cell's own last ``length`` outputs, after Cheng, Dong & Lapata 2016).

At each step, with ``a_{t-1}`` the previous attention read-out and ``W`` the window of the
last ``length`` outputs (zeros at first):

- the cell input is a linear map of ``[x_t, a_{t-1}]`` back to the size of ``x_t``;
- the LSTM cell steps, giving ``h_t`` and ``c_t``;
- scores ``s_j = v . tanh(K w_j + Q [c_t, h_t])`` over the window, ``alpha = softmax(s)``,
  read-out ``a_t = sum_j alpha_j w_j``;
- the output is a linear map of ``[h_t, a_t]``; it joins the window, whose oldest entry
  drops out.

Magenta wraps only the first LSTM layer this way; the model stacks plain LSTM layers on
its outputs. The loop over time runs in Python, so this layer is slower than a fused LSTM;
each output's key ``K w`` is computed once, when it joins the window, and kept beside it.
"""

from __future__ import annotations

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


class AttentionLSTM(nn.Module):
    """One LSTM layer with attention over its last ``length`` outputs (batch first).

    Args:
        input_size: features of each input step.
        hidden: LSTM units, also the size of the outputs and of the attention read-out.
        length: outputs attended over (Magenta's ``attn_length``, 40).
    """

    def __init__(self, input_size: int, hidden: int, length: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.length = length
        self.input_projection = nn.Linear(input_size + hidden, input_size)
        self.cell = nn.LSTMCell(input_size, hidden)
        self.keys = nn.Linear(hidden, hidden, bias=False)  # TF's 1x1 convolution
        self.query = nn.Linear(2 * hidden, hidden)
        self.score = nn.Parameter(torch.empty(hidden).uniform_(-hidden ** -0.5, hidden ** -0.5))
        self.output_projection = nn.Linear(2 * hidden, hidden)

    def initial_state(self, x: torch.Tensor) -> State:
        """Zero cell state, read-out, window and window keys for a batch like ``x``."""
        zeros = x.new_zeros(len(x), self.hidden)
        window = x.new_zeros(len(x), self.length, self.hidden)
        return zeros, zeros, zeros, window, window.clone()

    def forward(self, x: torch.Tensor, state: State | None = None
                ) -> tuple[torch.Tensor, State]:
        """``(B, T, hidden)`` outputs of ``(B, T, input_size)`` inputs and the final state
        ``(h, c, read-out, window, window keys)``."""
        h, c, read, window, keys = state if state is not None else self.initial_state(x)
        outputs = []
        for t in range(x.shape[1]):
            h, c = self.cell(self.input_projection(torch.cat([x[:, t], read], -1)), (h, c))
            query = self.query(torch.cat([c, h], -1))
            scores = (torch.tanh(keys + query[:, None]) * self.score).sum(-1)
            read = (scores.softmax(-1)[..., None] * window).sum(1)
            output = self.output_projection(torch.cat([h, read], -1))
            window = torch.cat([window[:, 1:], output[:, None]], 1)
            keys = torch.cat([keys[:, 1:], self.keys(output)[:, None]], 1)
            outputs.append(output)
        return torch.stack(outputs, 1), (h, c, read, window, keys)
