"""A trained tagger, ready to use: what ``rnnkit.load`` returns for its checkpoints.

    tagger = rnnkit.load("runs/ewt")
    tagger.tag([["The", "cat", "sat"]])           # [["DET", "NOUN", "VERB"]]

Tokens are read exactly as in training: the checkpoint stores the word and character vocabularies,
the tag names and the data settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnkit.data import TaggedSentences, TokenVocab
from rnnkit.infer.metrics import tagging_report
from rnnkit.tasks.tag.prepare import encode_sentences
from rnnkit.tasks.tag.training import EncodedSentences, predict_tags


@dataclass
class LoadedTagger:
    model: torch.nn.Module
    vocab: TokenVocab
    chars: TokenVocab | None
    tags: list[str]
    meta: dict
    device: torch.device

    def _encode(self, sentences: TaggedSentences, with_tags: bool) -> EncodedSentences:
        for i, s in enumerate(sentences.tokens):
            if not s:
                raise ValueError(f"sentence {i + 1}: empty; expected at least one token")
        words, chars, tags = encode_sentences(sentences, self.vocab, self.chars, self.tags if with_tags else None)
        return EncodedSentences(words, chars, tags)

    def tag(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
        """The most probable tag of every token of every sentence (lists of tokens)."""
        if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences):
            raise ValueError("sentences: expected a list of token lists, got strings (split them into tokens)")
        data = TaggedSentences([list(s) for s in sentences], None, [f"sentence {i + 1}" for i in range(len(sentences))])
        ids = predict_tags(self.model, self._encode(data, False), batch_size, self.device)
        return [[self.tags[j] for j in row] for row in ids]

    def evaluate(self, sentences: TaggedSentences, batch_size: int = 64) -> dict:
        """Token accuracy, per-tag precision/recall/F1, and accuracy on words unseen in training."""
        encoded = self._encode(sentences, True)
        predicted = predict_tags(self.model, encoded, batch_size, self.device)
        oov = [[not self.vocab.has(w) for w in s] for s in sentences.tokens]  # outside the training vocabulary
        return tagging_report(encoded.tags, predicted, self.tags, oov)
