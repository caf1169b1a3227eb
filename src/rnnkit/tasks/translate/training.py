"""Translation as the trainer sees it: bucketed padded batches of pairs, teacher forcing, and the
validation loss, perplexity and (greedy, on a capped subset) BLEU.

Batches group pairs of similar source length (``rnnkit.data.BucketBatcher``), their order a
function of (seed, epoch), so a resumed run continues exactly. Throughput counts target tokens.
:func:`translate_ids` decodes many sentences in length-sorted batches (greedy, sampled or beam)
and returns the hypotheses in the given order: the same for any batch size (padding changes
nothing; the tests check it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from rnnkit.data import BucketBatcher, pad_sequences
from rnnkit.infer.beam import beam_search
from rnnkit.infer.decoding import Hypothesis, decode
from rnnkit.models import IGNORE, TranslationBatch, evaluating


def pad_pairs(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]], device) -> TranslationBatch:
    """Source ids padded with <pad> (id 0) and their lengths; targets padded with IGNORE."""
    x, lengths = pad_sequences(src)  # (B, S), (B,)
    y, _ = pad_sequences(tgt, pad=IGNORE)  # (B, T)
    return TranslationBatch(x.to(device, non_blocking=True), y.to(device, non_blocking=True), lengths.to(device))


class TranslationTask:
    """Args:
    train / val: (source id lists, target id lists ending in <eos>) of the pairs (val may be None).
    references: the validation targets as text (BLEU's references), aligned with ``val``.
    detokenize: target ids -> text (the target segmenter's join of the vocabulary's symbols).
    bleu_sentences: validation BLEU over at most this many sentences (0: no BLEU while training).
    """

    unit = "tok"  # a batch's size counts target tokens

    def __init__(
        self,
        train: tuple[list[list[int]], list[list[int]]],
        val: tuple[list[list[int]], list[list[int]]] | None,
        batch_size: int,
        device: torch.device,
        seed: int = 0,
        bucket: bool = True,
        target_vocab_size: int = 4,
        references: Sequence[str] = (),
        detokenize=None,
        bleu_sentences: int = 0,
        bos: int = 2,
        eos: int = 3,
    ):
        self.src, self.tgt = train
        self.val = val
        self.batch_size, self.device = batch_size, device
        self.batches = BucketBatcher([len(s) for s in self.src], batch_size, seed=seed, bucket=bucket)
        self.loss_floor = math.log(target_vocab_size)  # chance level: uniform over the target vocabulary
        self.references, self.detokenize = list(references), detokenize
        self.bleu_sentences, self.bos, self.eos = bleu_sentences, bos, eos

    @property
    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_loss(self, model, index: int, epoch: int = 0) -> tuple[Tensor, int]:
        rows = self.batches.batch(epoch, index)
        batch = pad_pairs([self.src[r] for r in rows], [self.tgt[r] for r in rows], self.device)
        return model(batch).loss, sum(len(self.tgt[r]) for r in rows)

    @torch.no_grad()
    def evaluate(self, model) -> dict[str, float]:
        if self.val is None or not self.val[0]:
            return {}
        nll = teacher_forced_nll(model, *self.val, self.batch_size, self.device)
        result = {"val_loss": nll, "val_ppl": math.exp(min(nll, 700.0))}
        if self.bleu_sentences and self.detokenize is not None:
            n = min(self.bleu_sentences, len(self.val[0]))
            hyps = translate_ids(model, self.val[0][:n], self.batch_size, self.device, self.bos, self.eos)
            result["val_bleu"] = corpus_bleu([self.detokenize(h[0].tokens) for h in hyps], self.references[:n])
        return result

    def describe(self, val: dict) -> str:
        text = f"val loss {val['val_loss']:.4f} (perplexity {val['val_ppl']:.2f})"
        return text + (f", BLEU {val['val_bleu']:.2f} (greedy)" if "val_bleu" in val else "")

    def state_tensors(self) -> dict[str, Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        pass


@torch.no_grad()
def teacher_forced_nll(model, src, tgt, batch_size: int, device) -> float:
    """The mean negative log-likelihood per target token (``<eos>`` included), in nats."""
    total, tokens = 0.0, 0
    with evaluating(model):
        for rows in BucketBatcher([len(s) for s in src], batch_size, shuffle=False).epoch(0):
            batch = pad_pairs([src[r] for r in rows], [tgt[r] for r in rows], device)
            n = int((batch.targets != IGNORE).sum())
            total += float(model(batch).loss) * n
            tokens += n
    return total / tokens


@torch.no_grad()
def translate_ids(
    model,
    src: Sequence[Sequence[int]],
    batch_size: int,
    device,
    bos: int,
    eos: int,
    beam: int = 1,
    alpha: float = 1.0,
    n_best: int = 1,
    attention: bool = False,
    **decoding,
) -> list[list[Hypothesis]]:
    """The ``n_best`` hypotheses of every source sentence, in the given order. ``beam`` 1 is
    greedy (or sampled, with ``sample=True`` among ``decoding``: temperature, top_k, top_p,
    max_ratio, max_extra, generator)."""
    out: list[list[Hypothesis] | None] = [None] * len(src)
    lengths_rule = {k: decoding[k] for k in ("max_ratio", "max_extra") if k in decoding}
    with evaluating(model):
        for rows in BucketBatcher([len(s) for s in src], batch_size, shuffle=False).epoch(0):
            x, lengths = pad_sequences([src[r] for r in rows])
            x, lengths = x.to(device), lengths.to(device)
            if beam > 1 or n_best > 1:
                hyps = beam_search(
                    model, x, lengths, bos, eos, beam, alpha, n_best, attention=attention, **lengths_rule
                )
            else:
                hyps = [[h] for h in decode(model, x, lengths, bos, eos, attention=attention, **decoding)]
            for r, h in zip(rows.tolist(), hyps):
                out[r] = h
    return out


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """sacreBLEU's corpus BLEU (its default signature: 13a tokenisation, mixed case) of detokenised text."""
    import sacrebleu  # a translate-extra dependency, imported only to score

    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)
