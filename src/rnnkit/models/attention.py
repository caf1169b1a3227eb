"""Attention over an encoder's outputs: which source positions a decoder state reads.

For a decoder state q_t (the query) and the encoder outputs m_1..m_S (the memory; also the keys):

    additive (Bahdanau et al. 2015)   e_ts = v^T tanh(W_q q_t + W_k m_s + b)
    dot      (Luong et al. 2015)      e_ts = q_t^T m_s                       (needs size(q) == size(m))
    general  (Luong et al. 2015)      e_ts = q_t^T W m_s

    α_ts = softmax_s(e_ts) over the valid positions s <= len (padding gets exactly 0)
    c_t  = Σ_s α_ts m_s                                                       (the context vector)

The parts that depend only on the memory are formed once per sentence (``keys``): W_k m_s + b for
additive, and for general the memory itself (the query is projected instead, q_t^T W, which costs
one (B, H) product per step rather than one per source position). Every call takes all queries of
a sequence at once (B, T, ·): training runs them as one batched product; a decoding step is T = 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: The attention kinds a translator can have ("none": the plain encoder-decoder).
ATTENTIONS = ("none", "additive", "dot", "general")


class Attention(nn.Module):
    """Shapes: query (B, T, Q), memory (B, S, M), mask (B, S) True at valid positions;
    returns context (B, T, M) and weights α (B, T, S), each row summing to 1."""

    def __init__(self, kind: str, query_size: int, memory_size: int, attention_size: int = 0):
        super().__init__()
        if kind not in ATTENTIONS[1:]:
            raise ValueError(f"attention: expected one of {', '.join(ATTENTIONS[1:])}, got {kind!r}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(
                f"attention: dot attention needs the decoder's size == the encoder outputs' size, got "
                f"{query_size} and {memory_size}; use general or additive attention"
            )
        self.kind = kind
        if kind == "additive":
            A = attention_size or query_size
            self.query_proj = nn.Linear(query_size, A, bias=False)  # W_q
            self.key_proj = nn.Linear(memory_size, A)  # W_k, b
            self.v = nn.Linear(A, 1, bias=False)  # v^T
        elif kind == "general":
            self.query_proj = nn.Linear(query_size, memory_size, bias=False)  # q^T W

    def keys(self, memory: Tensor) -> Tensor:
        """What the scores need of the memory, once per sentence: (B, S, A) for additive, else the memory."""
        return self.key_proj(memory) if self.kind == "additive" else memory

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        if self.kind == "additive":
            q = self.query_proj(query)  # (B, T, Q) -> (B, T, A)
            e = self.v(torch.tanh(q.unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)  # (B, T, S, A) -> (B, T, S)
        else:
            q = self.query_proj(query) if self.kind == "general" else query  # (B, T, M)
            e = q @ keys.transpose(1, 2)  # (B, T, M) @ (B, M, S) -> (B, T, S)
        e = e.masked_fill(~mask.unsqueeze(1), float("-inf"))  # padding: weight exactly 0
        alpha = torch.softmax(e, dim=-1)  # (B, T, S)
        return alpha @ memory, alpha  # (B, T, S) @ (B, S, M) -> (B, T, M)

    def extra_repr(self) -> str:
        return self.kind
