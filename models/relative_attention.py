"""Causal self-attention with learned relative position logits (Shaw et al. 2018) computed
by the memory-efficient "skewing" of the Music Transformer (Huang et al., ICLR 2019, Sec. 3.4).

For query ``i`` and key ``j <= i`` the logit is

.. math:: e_{ij} = \\frac{q_i k_j^\\top + q_i E_{\\min(i-j,\\, R-1)}^\\top}{\\sqrt{d_h}}

with ``E`` a per-head table of ``R`` (``max_relative``) relative embeddings; distances
beyond ``R - 1`` share the last one (clipping), so sequences of any length are accepted.
Skewing gets ``S_rel[i, j] = q_i E_{i-j}`` from ``Q E_r^T`` (``L x L``, column ``c`` for
distance ``L-1-c``) by padding one column on the left, reshaping to ``(L+1) x L`` and
dropping the first row: no ``L x L x D`` tensor of gathered embeddings is ever built. The
relative logits plus the causal ``-inf`` mask go to torch's
``scaled_dot_product_attention`` as its float ``attn_mask``.

With a key/value cache (incremental decoding, one new query at a time) the relative
logits of the new queries are gathered directly: ``O(S D)`` per query.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

Cache = tuple[torch.Tensor, torch.Tensor]


def skew(rel: torch.Tensor) -> torch.Tensor:
    """``(..., L, L)`` with column ``c`` = distance ``L-1-c`` -> ``(..., L, L)`` indexed by
    key position: entry ``[i, j]`` is ``rel[i, L-1-(i-j)]`` for ``j <= i`` (garbage above
    the diagonal, which the causal mask removes)."""
    length = rel.shape[-1]
    padded = F.pad(rel, (1, 0))
    return padded.reshape(*rel.shape[:-2], length + 1, length)[..., 1:, :]


def causal_mask(queries: int, keys: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``(queries, keys)`` additive mask: 0 where key ``j <= i + keys - queries``, else -inf."""
    offset = keys - queries
    allowed = (torch.arange(keys, device=device)[None, :]
               <= torch.arange(queries, device=device)[:, None] + offset)
    return torch.zeros(queries, keys, device=device, dtype=dtype).masked_fill(~allowed,
                                                                             float("-inf"))


class RelativeSelfAttention(nn.Module):
    """Multi-head causal self-attention with clipped relative position logits.

    Args:
        d_model: model width.
        heads: attention heads (``d_model`` must divide by it).
        max_relative: relative distances with their own embedding (0 .. R-1).
        dropout: attention dropout.
    """

    def __init__(self, d_model: int, heads: int, max_relative: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = d_model // heads
        self.max_relative = max_relative
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.relative = nn.Parameter(torch.randn(heads, max_relative, self.head_dim)
                                     / math.sqrt(self.head_dim))

    def relative_table(self, distances: torch.Tensor) -> torch.Tensor:
        """``(H, n, Dh)`` embeddings of ``distances`` (clipped to ``max_relative - 1``)."""
        return self.relative[:, distances.clamp(0, self.max_relative - 1)]

    def relative_logits(self, q: torch.Tensor, keys: int) -> torch.Tensor:
        """``(B, H, L, keys)`` unscaled ``q_i E_{i-j}`` for queries at the last ``L`` of
        ``keys`` positions (skewed when ``L == keys``, gathered otherwise)."""
        length = q.shape[-2]
        if length == keys:
            distances = torch.arange(length - 1, -1, -1, device=q.device)
            table = self.relative_table(distances).to(q.dtype)  # column c: distance L-1-c
            return skew(q @ table.transpose(-1, -2)[None])
        positions = torch.arange(keys - length, keys, device=q.device)
        distances = (positions[:, None] - torch.arange(keys, device=q.device)[None, :])
        table = self.relative_table(distances).to(q.dtype)  # (H, L, keys, Dh)
        return torch.einsum("bhld,hlkd->bhlk", q, table)

    def forward(self, x: torch.Tensor, cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """Attend ``x`` ``(B, L, d_model)`` causally to itself and to ``cache`` (earlier
        keys/values); returns the output and the extended cache."""
        batch, length, _ = x.shape
        q, k, v = (t.reshape(batch, length, self.heads, self.head_dim).transpose(1, 2)
                   for t in self.qkv(x).chunk(3, dim=-1))
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        keys = k.shape[2]
        scale = 1.0 / math.sqrt(self.head_dim)
        bias = (self.relative_logits(q, keys) * scale
                + causal_mask(length, keys, x.device, q.dtype))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out(out.transpose(1, 2).reshape(batch, length, -1)), (k, v)


class DecoderBlock(nn.Module):
    """Pre-norm transformer decoder block: relative self-attention, then a ReLU MLP."""

    def __init__(self, d_model: int, heads: int, ff: int, max_relative: int,
                 dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = RelativeSelfAttention(d_model, heads, max_relative, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ff), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        attended, cache = self.attention(self.norm1(x), cache)
        x = x + self.drop(attended)
        return x + self.drop(self.mlp(self.norm2(x))), cache
