"""Writing an output sequence from an encoder-decoder, one token at a time: greedy and sampled.

Any model with the decoder protocol decodes here (``rnnkit.models.translator.Translator``):

    state = model.start(inputs (B, S), lengths (B,))      # encode once
    logits (B, V), state, alpha (B, S) | None = model.step(tokens (B,), state)
    state.select(rows)                                     # keep / reorder / repeat rows

Every sentence of a batch is decoded at once (one ``step`` per output position for the whole
batch); a sentence stops at its ``<eos>`` or at its maximum length, ``ceil(max_ratio * its source
length) + max_extra`` tokens. Finished sentences leave the batch, so a long one never makes the
short ones pay. Beam search is :mod:`rnnkit.infer.beam`. The model must be in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.config import is_real
from rnnkit.infer.sampling import check_sampling, sample_next


@dataclass
class Hypothesis:
    """One output: its tokens (``<eos>`` not included), its log-probability (``<eos>`` included),
    its score (the log-probability, length-normalised by beam search), whether it reached
    ``<eos>``, and the attention of each step (T, S) when asked for (None otherwise)."""

    tokens: list[int]
    log_prob: float
    score: float
    ended: bool
    attention: Tensor | None = None


def max_lengths(lengths: Tensor, max_ratio: float, max_extra: int) -> Tensor:
    """(B,) the longest output each sentence may have: ceil(max_ratio * source length) + max_extra."""
    check_lengths_rule(max_ratio, max_extra)
    return torch.ceil(lengths.double() * max_ratio).long() + max_extra


def check_lengths_rule(max_ratio: float, max_extra: int) -> None:
    if not is_real(max_ratio) or not max_ratio >= 0:
        raise ValueError(f"max ratio: expected a number >= 0 (output length per source token), got {max_ratio!r}")
    if isinstance(max_extra, bool) or not isinstance(max_extra, int) or max_extra < 0:
        raise ValueError(f"max extra: expected an integer >= 0, got {max_extra!r}")
    if max_ratio == 0 and max_extra == 0:
        raise ValueError("max length: expected max_ratio > 0 or max_extra > 0, got an output length of 0")


@torch.no_grad()
def decode(
    model,
    inputs: Tensor,
    lengths: Tensor,
    bos: int,
    eos: int,
    max_ratio: float = 2.0,
    max_extra: int = 5,
    sample: bool = False,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
    attention: bool = False,
) -> list[Hypothesis]:
    """Greedy (the most likely token at each step) or, with ``sample``, sampled decoding of a batch:
    one :class:`Hypothesis` per sentence, in the batch's order."""
    if sample:
        check_sampling(temperature, top_k, top_p)
    lengths = torch.as_tensor(lengths)
    B = inputs.shape[0]
    limit = max_lengths(lengths, max_ratio, max_extra).tolist()
    state = model.start(inputs, lengths)
    rows = torch.arange(B)  # the sentence of each row still decoding
    tokens = torch.full((B,), bos, dtype=torch.long, device=inputs.device)
    out: list[list[int]] = [[] for _ in range(B)]
    log_probs = [0.0] * B
    attn: list[list[Tensor]] = [[] for _ in range(B)]
    results: list[Hypothesis | None] = [None] * B
    t = 0
    while len(rows):
        logits, state, alpha = model.step(tokens, state)
        if sample:
            tokens = sample_next(logits, temperature, top_k, top_p, generator=generator)
        else:
            tokens = sample_next(logits, greedy=True)
        picked = torch.log_softmax(logits.float(), -1).gather(1, tokens[:, None]).squeeze(1)  # (n,)
        t += 1
        keep = []
        for i, (b, token, lp) in enumerate(zip(rows.tolist(), tokens.tolist(), picked.tolist())):
            log_probs[b] += lp
            if attention and alpha is not None:
                attn[b].append(alpha[i].float().cpu())
            ended = token == eos
            if not ended:
                out[b].append(token)
            if ended or t >= limit[b]:
                a = torch.stack(attn[b]) if attn[b] else None
                results[b] = Hypothesis(out[b], log_probs[b], log_probs[b], ended, a)
            else:
                keep.append(i)
        if len(keep) < len(rows):
            index = torch.tensor(keep, dtype=torch.long, device=inputs.device)
            rows, tokens, state = rows[index.cpu()], tokens.index_select(0, index), state.select(index)
    return results  # every entry set: each row leaves at its <eos> or its limit


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's length penalty (Wu et al. 2016): ((5 + length) / 6) ** alpha; a score is log p / this."""
    return ((5.0 + length) / 6.0) ** alpha if alpha else 1.0


__all__ = ["Hypothesis", "check_lengths_rule", "decode", "length_penalty", "max_lengths"]
