"""A trained tagger, ready to use: what ``rnnkit.load`` returns for its checkpoints.

    tagger = rnnkit.load("runs/ewt")
    tagger.tag([["The", "cat", "sat"]])           # [["DET", "NOUN", "VERB"]]: tokens in, tags out
    tagger.tag("it's not butter!")                # [("it", "PRON"), ("'s", "AUX"), ..., ("!", "PUNCT")]
    tagger.tag(["I'm here.", "Go!"])              # one list of (word, tag) pairs per text

Plain text is cut into words by ``rnnkit.data.ud_tokenize`` (as UD English EWT cuts them: ``it 's``,
``do n't``, ``butter !``), the rule ``rnnkit tag`` applies too; token lists are taken as given.
Tokens are read exactly as in training: the checkpoint stores the word and character vocabularies,
the tag names and the data settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnkit.data import TaggedSentences, TokenVocab, ud_tokenize
from rnnkit.infer.metrics import tagging_report
from rnnkit.tasks.summary import loaded_repr
from rnnkit.tasks.tag.prepare import encode_sentences
from rnnkit.tasks.tag.training import EncodedSentences, predict_tags


@dataclass(repr=False)
class LoadedTagger:
    model: torch.nn.Module
    vocab: TokenVocab
    chars: TokenVocab | None
    tags: list[str]
    meta: dict
    device: torch.device

    def __repr__(self) -> str:  # LoadedTagger(2x256 bidirectional lstm, 17 tags, 19674 words + chars, step 4000, ...)
        chars = " + chars" if self.chars is not None else ""
        return loaded_repr(self, f"{len(self.tags)} tags", f"{len(self.vocab)} words{chars}")

    def _encode(self, sentences: TaggedSentences, with_tags: bool) -> EncodedSentences:
        for i, s in enumerate(sentences.tokens):
            if not s:
                raise ValueError(f"sentence {i + 1}: empty; expected at least one token")
        words, chars, tags = encode_sentences(sentences, self.vocab, self.chars, self.tags if with_tags else None)
        return EncodedSentences(words, chars, tags)

    def tag(self, sentences: str | Sequence[str] | Sequence[Sequence[str]], batch_size: int = 64) -> list:
        """The most probable tag of every token.

        ``sentences``: token lists (pre-tokenised sentences) -> one list of tags per sentence; or
        plain text, one str or a list of them, one sentence each -> for each, the (word, tag) pairs
        of its words as ``rnnkit.data.ud_tokenize`` cuts them (one list of pairs for one str).
        """
        if isinstance(sentences, str):
            return self.tag([sentences], batch_size)[0]
        texts = [isinstance(s, str) for s in sentences]
        if any(texts) and not all(texts):
            raise ValueError("sentences: expected a list of texts or a list of token lists, got both")
        if texts and all(texts):
            words = [ud_tokenize(text) for text in sentences]
            for i, (text, w) in enumerate(zip(sentences, words, strict=True)):
                if not w:
                    raise ValueError(f"text {i + 1}: {text!r} has no words; expected at least one")
            return [list(zip(w, tags, strict=True)) for w, tags in zip(words, self.tag(words, batch_size), strict=True)]
        data = TaggedSentences([list(s) for s in sentences], None, [f"sentence {i + 1}" for i in range(len(sentences))])
        ids = predict_tags(self.model, self._encode(data, False), batch_size, self.device)
        return [[self.tags[j] for j in row] for row in ids]

    def evaluate(self, sentences: TaggedSentences, batch_size: int = 64) -> dict:
        """Token accuracy, per-tag precision/recall/F1, and accuracy on words unseen in training."""
        encoded = self._encode(sentences, True)
        predicted = predict_tags(self.model, encoded, batch_size, self.device)
        oov = [[not self.vocab.has(w) for w in s] for s in sentences.tokens]  # outside the training vocabulary
        return tagging_report(encoded.tags, predicted, self.tags, oov)
