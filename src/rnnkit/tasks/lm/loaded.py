"""Text generation and evaluation with a trained language model: what ``rnnkit.load`` returns."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from rnnkit.infer.sampling import check_sampling, next_token_probs, sample_next
from rnnkit.models import TokenBatch
from rnnkit.tasks.lm.training import stream_loss
from rnnkit.tasks.summary import loaded_repr


@dataclass(repr=False)
class LoadedLanguageModel:
    """A trained model with its vocabulary and checkpoint metadata.

    lm = rnnkit.load("runs/x/best.safetensors")
    print(lm.generate("ROMEO:", length=200, temperature=0.8, seed=1))   # "ROMEO:" and 200 more chars
    lm.next_distribution("The cat sat on the ")   # {char: probability}

    Word models (``vocab.kind == "word"``) take the prime as words and generate words joined by
    spaces, ``<eos>`` written as a newline. ``unknown`` (what to do with prime or evaluation
    tokens outside the vocabulary) defaults to ``"unk"`` for words (read as ``<unk>``) and
    ``"error"`` for characters; a prime whose words are ALL unknown is an error either way.
    """

    model: torch.nn.Module
    vocab: object
    meta: dict
    device: torch.device

    def __repr__(self) -> str:  # LoadedLanguageModel(2x256 lstm, 65 chars, step 3000, best val_loss 1.5200)
        unit = "words" if self.word_level else "chars"
        return loaded_repr(self, f"{len(self.vocab)} {unit}{', lines' if self.line_mode else ''}")

    @property
    def line_mode(self) -> bool:
        return self.vocab.bos_id is not None and self.vocab.eos_id is not None

    @property
    def word_level(self) -> bool:
        return getattr(self.vocab, "kind", "char") == "word"

    def _unknown(self, unknown: str | None) -> str:
        return ("unk" if self.word_level else "error") if unknown is None else unknown

    def _prime_ids(self, prime: str, unknown: str | None) -> list[int]:
        unknown = self._unknown(unknown)
        if self.word_level and prime:
            words = [w for w in prime.split() if w != self.vocab.symbols[self.vocab.eos_id]]
            if words and not any(self.vocab.has(w) for w in words):
                shown = ", ".join(repr(w) for w in words[:5]) + (", ..." if len(words) > 5 else "")
                raise ValueError(
                    f"prime: none of its words is in the vocabulary ({shown}); expected at least one word the "
                    f"model knows"
                )
        ids = [int(i) for i in self.vocab.encode(prime, unknown=unknown)] if prime else []
        if self.line_mode:
            return [self.vocab.bos_id, *ids]
        if not ids:  # nothing to condition on: start as a new line would, or with the first symbol
            if self.vocab.has("\n"):
                ids = [self.vocab.id_of("\n")]
            else:
                ids = [self.vocab.eos_id if self.vocab.eos_id is not None else 0]
        return ids

    def check_prime(self, prime: str, unknown: str | None = None) -> None:
        """Raise ValueError/DataError now if ``prime`` cannot be used (before anything is printed)."""
        self._prime_ids(prime, unknown)

    @torch.no_grad()
    def _run_prime(self, ids: list[int]):
        """Run the prime through the network ONCE; returns (logits after it (1, V), state)."""
        self.model.eval()
        x = torch.tensor([ids], dtype=torch.long, device=self.device)  # (1, T)
        logits, _, state = self.model(TokenBatch(x))
        return logits[:, -1], state

    @torch.no_grad()
    def next_distribution(
        self,
        prime: str = "",
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        unknown: str | None = None,
    ) -> dict[str, float]:
        """Probability of each next symbol (character, word, or special such as ``"<eos>"``)
        after ``prime``, most likely first."""
        check_sampling(temperature, top_k, top_p)
        logits, _ = self._run_prime(self._prime_ids(prime, unknown))
        probs = next_token_probs(logits, temperature, top_k, top_p)[0]
        order = torch.argsort(probs, descending=True).tolist()
        symbols = self.vocab.symbols
        return {symbols[i]: float(probs[i]) for i in order}

    @torch.no_grad()
    def generate(
        self,
        prime: str = "",
        length: int = 500,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        greedy: bool = False,
        seed: int | None = None,
        stop_at: str | None = None,
        unknown: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """``prime`` followed by ``length`` symbols sampled after it: the text ``rnnkit sample``
        prints, as char-rnn and torch-rnn return it (the continuation alone: ``[len(prime):]``).

        The prime, as given (characters skipped by ``unknown="skip"`` included), sets the state in
        one pass; then one symbol at a time is drawn and fed back, carrying the state (never
        re-running the prefix). ``length`` counts the sampled symbols only. Stops early at
        ``stop_at`` (included; looked for in the sampled text only) or, in line mode, at <eos>
        (not included). ``on_text`` receives the prime (when not empty), then each sampled piece
        as it comes: together, the text returned. Nothing is passed to it before the prime is
        checked (a bad prime raises first)."""
        check_sampling(temperature, top_k, top_p)
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"length: expected an integer >= 0, got {length!r}")
        generator = None
        if seed is not None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
        prime_ids = self._prime_ids(prime, unknown)
        logits, state = self._run_prime(prime_ids)
        if prime and on_text is not None:
            on_text(prime)
        previous = prime_ids[-1] if prime else None  # word models: a space goes between two words
        pieces: list[str] = []
        tail = ""
        for k in range(length):
            token = sample_next(logits, temperature, top_k, top_p, greedy, generator)  # (1,)
            tid = int(token)
            if self.line_mode and tid == self.vocab.eos_id:
                break
            if self.word_level:
                piece, previous = self.vocab.piece(tid, previous), tid
            else:
                piece = self.vocab.decode([tid], skip_specials=True)
            pieces.append(piece)
            if on_text is not None:
                on_text(piece)
            if stop_at:
                tail = (tail + piece)[-len(stop_at) :]
                if tail == stop_at:
                    break
            if k + 1 < length:  # no step after the last symbol: its logits would go unused
                logits, state = self.model.step(token, state)
        return prime + "".join(pieces)

    @torch.no_grad()
    def evaluate_text(self, text: str, unknown: str | None = None, batch_size: int = 32, seq_len: int = 100) -> dict:
        """Loss of the model on ``text``: nats per symbol, bits per symbol, perplexity. Word
        models read it as a corpus: every line, the last included, ends with ``<eos>``."""
        unknown = self._unknown(unknown)
        if self.word_level:
            ids = self.vocab.encode(text, unknown=unknown, final_eos=True)
        else:
            ids = self.vocab.encode(text, unknown=unknown)
        if len(ids) < 2:
            raise ValueError(f"data: expected at least 2 symbols to evaluate, got {len(ids)}")
        return loss_report(stream_loss(self.model, ids, batch_size, seq_len, self.device), len(ids) - 1)


def loss_report(nats: float, tokens: int) -> dict:
    return {"loss": nats, "bits": nats / math.log(2), "perplexity": math.exp(nats), "tokens": tokens}
