"""A trained translator, ready to use: what ``rnnkit.load`` returns for its checkpoints.

    tr = rnnkit.load("runs/multi30k")
    tr.translate(["Ein Hund läuft im Park."], beam=5)        # ["A dog runs in the park."]
    tr.nbest(["Ein Hund läuft."], beam=5, n=3)              # [[("A dog runs.", -0.41), ...]]

Sentences are read exactly as in training: the checkpoint stores both segmenters (a subword model
travels inside it) and both vocabularies; the output is detokenised text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnkit.data import Vocab
from rnnkit.data.segment import Segmenter
from rnnkit.infer.beam import check_beam
from rnnkit.infer.decoding import Hypothesis, check_lengths_rule
from rnnkit.tasks.summary import progress_summary, rnn_summary
from rnnkit.tasks.translate.training import translate_ids


@dataclass(repr=False)
class LoadedTranslator:
    model: torch.nn.Module
    source_vocab: Vocab
    target_vocab: Vocab
    source_segmenter: Segmenter
    target_segmenter: Segmenter
    meta: dict
    device: torch.device

    def __repr__(self) -> str:  # LoadedTranslator(1x256 bidirectional lstm -> 1x256 lstm, additive attention, ...)
        cfg = self.model.config
        stacks = f"{rnn_summary(dataclasses.asdict(cfg.encoder))} -> {rnn_summary(dataclasses.asdict(cfg.decoder))}"
        sizes = f"{len(self.source_vocab)} -> {len(self.target_vocab)} {self.source_segmenter.kind}s"
        parts = [stacks, f"{cfg.attention} attention", sizes, progress_summary(self.meta)]
        return f"LoadedTranslator({', '.join(parts)})"

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Source sentences -> ids (a token the source vocabulary lacks reads as <unk>)."""
        if isinstance(texts, str):
            raise ValueError("texts: expected a list of strings, got one str (wrap it in a list)")
        out = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"text {i + 1}: expected a str, got {type(text).__name__}")
            tokens = self.source_segmenter.cut(text)
            if not tokens:
                raise ValueError(f"text {i + 1}: {text!r} has no tokens; expected a sentence")
            out.append(self.source_vocab.encode_tokens(tokens))
        return out

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.target_segmenter.join(self.target_vocab.decode(list(ids)))

    def hypotheses(
        self, texts: Sequence[str], beam: int = 5, alpha: float = 1.0, n: int = 1, batch_size: int = 64, **decoding
    ) -> list[list[Hypothesis]]:
        """The ``n`` best hypotheses of each sentence (token ids; see ``rnnkit.infer.decoding``)."""
        check_beam(beam, alpha, n)
        check_lengths_rule(decoding.get("max_ratio", 2.0), decoding.get("max_extra", 5))
        cfg = self.model.config
        return translate_ids(
            self.model, self.encode(texts), batch_size, self.device, cfg.bos_id, cfg.eos_id, beam, alpha, n, **decoding
        )

    def translate(self, texts: Sequence[str], beam: int = 5, alpha: float = 1.0, **decoding) -> list[str]:
        """Each sentence's best translation as text (``beam=1``: greedy; ``sample=True``: sampled)."""
        return [self.detokenize(h[0].tokens) for h in self.hypotheses(texts, beam, alpha, 1, **decoding)]

    def nbest(
        self, texts: Sequence[str], beam: int = 5, n: int = 5, alpha: float = 1.0
    ) -> list[list[tuple[str, float]]]:
        """The ``n`` best translations of each sentence with their (length-normalised) scores."""
        return [[(self.detokenize(h.tokens), h.score) for h in hs] for hs in self.hypotheses(texts, beam, alpha, n)]
