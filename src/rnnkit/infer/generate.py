"""Text generation and evaluation with a trained language model: what ``rnnkit.load`` returns."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from rnnkit.infer.sampling import check_sampling, next_token_probs, sample_next
from rnnkit.models import stream_loss


@dataclass
class LoadedLanguageModel:
    """A trained model with its vocabulary and checkpoint metadata.

    lm = rnnkit.load("runs/x/best.safetensors")
    print(lm.generate("ROMEO:", length=200, temperature=0.8, seed=1))
    lm.next_distribution("The cat sat on the ")   # {char: probability}
    """

    model: torch.nn.Module
    vocab: object
    meta: dict
    device: torch.device

    @property
    def line_mode(self) -> bool:
        return self.vocab.bos_id is not None and self.vocab.eos_id is not None

    def _prime_ids(self, prime: str, unknown: str) -> list[int]:
        ids = [int(i) for i in self.vocab.encode(prime, unknown=unknown)] if prime else []
        if self.line_mode:
            return [self.vocab.bos_id, *ids]
        if not ids:  # nothing to condition on: start as a new line would, or with the first symbol
            ids = [self.vocab.id_of("\n") if self.vocab.has("\n") else 0]
        return ids

    @torch.no_grad()
    def _run_prime(self, ids: list[int]):
        """Run the prime through the network ONCE; returns (logits after it (1, V), state)."""
        self.model.eval()
        x = torch.tensor([ids], dtype=torch.long, device=self.device)  # (1, T)
        logits, _, state = self.model(x)
        return logits[:, -1], state

    @torch.no_grad()
    def next_distribution(
        self, prime: str = "", temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, unknown: str = "error"
    ) -> dict[str, float]:
        """Probability of each next symbol after ``prime``, most likely first."""
        check_sampling(temperature, top_k, top_p)
        logits, _ = self._run_prime(self._prime_ids(prime, unknown))
        probs = next_token_probs(logits, temperature, top_k, top_p)[0]
        order = torch.argsort(probs, descending=True).tolist()
        return {self.vocab.decode([i]): float(probs[i]) for i in order}

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
        unknown: str = "error",
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """Sample ``length`` symbols after ``prime`` (the prime is not repeated in the result).

        The prime sets the state in one pass; then one symbol at a time is drawn and fed back,
        carrying the state (never re-running the prefix). Stops early at ``stop_at`` (included)
        or, in line mode, at <eos> (not included). ``on_text`` receives each piece as it comes."""
        check_sampling(temperature, top_k, top_p)
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"length: expected an integer >= 0, got {length!r}")
        generator = None
        if seed is not None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
        logits, state = self._run_prime(self._prime_ids(prime, unknown))
        pieces: list[str] = []
        tail = ""
        for _ in range(length):
            token = sample_next(logits, temperature, top_k, top_p, greedy, generator)  # (1,)
            tid = int(token)
            if self.line_mode and tid == self.vocab.eos_id:
                break
            piece = self.vocab.decode([tid], skip_specials=True)
            pieces.append(piece)
            if on_text is not None:
                on_text(piece)
            if stop_at:
                tail = (tail + piece)[-len(stop_at) :]
                if tail == stop_at:
                    break
            logits, state = self.model.step(token, state)
        return "".join(pieces)

    @torch.no_grad()
    def evaluate_text(self, text: str, unknown: str = "error", batch_size: int = 32, seq_len: int = 100) -> dict:
        """Loss of the model on ``text``: nats per symbol, bits per symbol, perplexity."""
        ids = self.vocab.encode(text, unknown=unknown)
        if len(ids) < 2:
            raise ValueError(f"data: expected at least 2 symbols to evaluate, got {len(ids)}")
        return loss_report(stream_loss(self.model, ids, batch_size, seq_len, self.device), len(ids) - 1)


def loss_report(nats: float, tokens: int) -> dict:
    return {"loss": nats, "bits": nats / math.log(2), "perplexity": math.exp(nats), "tokens": tokens}
