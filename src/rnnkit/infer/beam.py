"""Batched beam search for an encoder-decoder (the decoder protocol of :mod:`rnnkit.infer.decoding`).

Every sentence of the batch keeps ``beam`` = k hypotheses; one ``step`` call advances all B*k of
them. At each step, per sentence:

1. every hypothesis y_1..y_{t-1} with log-probability s is extended by every token w:
   s + log p(w | y_<t, source); the 2k best of these k*V candidates are taken;
2. a candidate ending in ``<eos>`` that ranks among the first k is a finished hypothesis, scored
   by GNMT's length normalisation (Wu et al. 2016): log p / ((5 + |y|) / 6)^α, |y| counting the
   ``<eos>``; a finished candidate ranked below k is not taken (so k = 1 is exactly greedy);
3. the first k candidates that do not end in ``<eos>`` are the next step's hypotheses.

A sentence is done when k of its hypotheses have finished (all beams ended), or at its maximum
length (``ceil(max_ratio * source length) + max_extra``: its open hypotheses then count as
finished, unended). Done sentences leave the batch. The result per sentence is its ``n_best``
finished hypotheses, best score first. The model must be in eval mode.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.config import is_real
from rnnkit.infer.decoding import Hypothesis, length_penalty, max_lengths


def check_beam(beam: int, alpha: float, n_best: int = 1) -> None:
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ValueError(f"beam: expected an integer >= 1 (1 = greedy), got {beam!r}")
    if not is_real(alpha) or not alpha >= 0:
        raise ValueError(f"alpha: expected a length-penalty exponent >= 0 (0 = none), got {alpha!r}")
    if isinstance(n_best, bool) or not isinstance(n_best, int) or not 1 <= n_best <= beam:
        raise ValueError(f"n-best: expected an integer in [1, beam={beam}], got {n_best!r}")


@torch.no_grad()
def beam_search(
    model,
    inputs: Tensor,
    lengths: Tensor,
    bos: int,
    eos: int,
    beam: int = 5,
    alpha: float = 1.0,
    n_best: int = 1,
    max_ratio: float = 2.0,
    max_extra: int = 5,
    attention: bool = False,
) -> list[list[Hypothesis]]:
    """The ``n_best`` best hypotheses of every sentence of the batch, in the batch's order."""
    check_beam(beam, alpha, n_best)
    lengths = torch.as_tensor(lengths)
    B, k, device = inputs.shape[0], beam, inputs.device
    limit = max_lengths(lengths, max_ratio, max_extra).tolist()
    state = model.start(inputs, lengths).select(torch.arange(B, device=device).repeat_interleave(k))
    sentences = list(range(B))  # the sentence of each row block still searching
    scores = torch.full((B, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis to start: the first step expands it alone
    history = torch.zeros(B, k, 0, dtype=torch.long, device=device)  # (n, k, t)
    att = None  # (n, k, t, S) when asked for
    tokens = torch.full((B * k,), bos, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    t = 0
    while sentences:
        n = len(sentences)
        logits, state, alpha_t = model.step(tokens, state)
        V = logits.shape[-1]
        logp = torch.log_softmax(logits.float(), -1).view(n, k, V)
        top, index = (scores[:, :, None] + logp).view(n, k * V).topk(min(2 * k, k * V), dim=1)  # (n, 2k)
        origin, token = index // V, index % V
        t += 1
        if attention and alpha_t is not None:
            step_att = alpha_t.float().view(n, k, 1, -1)
            att = step_att if att is None else torch.cat([att, step_att], dim=2)  # the parents' rows, reordered below
        is_eos = token == eos
        ranks = torch.arange(top.shape[1], device=device)
        for i, j in (is_eos & (ranks < k) & torch.isfinite(top)).nonzero().tolist():
            parent = int(origin[i, j])
            lp = float(top[i, j])
            a = None if att is None else att[i, parent].cpu()
            finished[sentences[i]].append(
                Hypothesis(history[i, parent].tolist(), lp, lp / length_penalty(t, alpha), True, a)
            )
        keep = torch.argsort(is_eos.to(torch.int8), dim=1, stable=True)[:, :k]  # the first k non-<eos> candidates
        scores, new_tokens, parents = top.gather(1, keep), token.gather(1, keep), origin.gather(1, keep)  # (n, k)
        rows = (torch.arange(n, device=device)[:, None] * k + parents).view(-1)  # (n*k,) the parent row of each
        history = torch.cat([history.view(n * k, -1)[rows].view(n, k, -1), new_tokens[..., None]], dim=2)
        if att is not None:
            att = att.view(n * k, t, -1)[rows].view(n, k, t, -1)
        tokens, state = new_tokens.view(-1), state.select(rows)

        alive = []
        for i, b in enumerate(sentences):
            if len(finished[b]) >= k:
                continue
            if t >= limit[b]:  # out of length: the open hypotheses end here, unended
                for j in range(k):
                    lp = float(scores[i, j])
                    if lp > float("-inf"):
                        a = None if att is None else att[i, j].cpu()
                        finished[b].append(
                            Hypothesis(history[i, j].tolist(), lp, lp / length_penalty(t, alpha), False, a)
                        )
                continue
            alive.append(i)
        if len(alive) < n:
            blocks = torch.tensor(alive, dtype=torch.long, device=device)
            rows = (blocks[:, None] * k + torch.arange(k, device=device)).view(-1)
            sentences = [sentences[i] for i in alive]
            scores, history, tokens, state = scores[blocks], history[blocks], tokens[rows], state.select(rows)
            att = None if att is None else att[blocks]
    return [sorted(f, key=lambda h: -h.score)[:n_best] for f in finished]
