"""Long-range memory tasks, generated in code: the adding problem and a recall task.

Both put what matters at the start (or anywhere) of a sequence and ask for it at the end, so the
loss at the last step must reach back ``lag`` steps: exactly where vanishing gradients bite.

Adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015 and Arjovsky et al.
2016). Each step carries two numbers: a value ~ U(0, 1) and a marker. Exactly two markers are 1:
one at a random step of the first half, one in the second half. The target is the sum of the two
marked values. Always predicting 1 (the target's mean) gives MSE = Var(u1 + u2) = 2/12 = 0.167:
that is the baseline; MSE < 0.01 counts as solved.

Recall task. Token ids: 0..K-1 are the K symbols to remember, K..K+D-1 are D distractors, K+D is
the "recall" cue. A sequence is [symbol, lag random tokens, cue]; the answer is the first symbol.
The tokens in between are drawn from the symbols and the distractors alike, so remembering "the
symbol seen" is not enough: it must be the one at the start.
Chance is 1/K; accuracy >= 0.99 counts as solved.

Each task scores a prediction as ``score`` = 0 at the baseline and 1 when perfect
(1 - MSE / 0.167, or (accuracy - 1/K) / (1 - 1/K)); "beats the baseline" means score >= 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.models import SequenceClassifierConfig

#: A score (0 = baseline, 1 = perfect) at least this high "beats the baseline".
BEATS_BASELINE = 0.1
#: Solved: test MSE below this (adding), or error rate at most this (recall, accuracy >= 0.99).
SOLVED_ERROR = 0.01


def adding_problem(n: int, length: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """``n`` adding-problem sequences of ``length`` >= 2 steps.

    Returns:
        inputs (n, length, 2) float32: [value, marker] per step; targets (n,) float32: the sum of the
        two marked values. The first marker is in steps [0, length // 2), the second in
        [length // 2, length).
    """
    _check_count(n, "n")
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ValueError(f"adding problem: expected a length >= 2, got {length!r}")
    values = torch.rand(n, length, generator=generator)  # (n, T)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, length, (n,), generator=generator)
    rows = torch.arange(n)
    markers = torch.zeros(n, length)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return torch.stack((values, markers), dim=-1), targets  # (n, T, 2), (n,)


def recall_task(
    n: int, lag: int, num_symbols: int = 8, num_distractors: int = 4, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``n`` recall sequences: a symbol, ``lag`` random tokens (symbols or distractors), the recall cue.

    Returns:
        inputs (n, lag + 2) long token ids (vocabulary size ``num_symbols + num_distractors + 1``);
        targets (n,) long: the symbol at step 0.
    """
    _check_count(n, "n")
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0:
        raise ValueError(f"recall task: expected a lag >= 0, got {lag!r}")
    if num_symbols < 2 or num_distractors < 1:
        raise ValueError(
            f"recall task: expected num_symbols >= 2 and num_distractors >= 1, got {num_symbols} and {num_distractors}"
        )
    symbols = torch.randint(0, num_symbols, (n,), generator=generator)
    # Distractors are drawn from the symbols as well as the distractor tokens: the network must
    # keep the FIRST symbol, not merely the only one it saw.
    distractors = torch.randint(0, num_symbols + num_distractors, (n, lag), generator=generator)
    cue = torch.full((n, 1), num_symbols + num_distractors, dtype=torch.long)
    return torch.cat((symbols[:, None], distractors, cue), dim=1), symbols  # (n, lag + 2), (n,)


@dataclass(frozen=True)
class MemoryTask:
    """One task, as the benchmark and the tests use it: batches, a model for it, and a score."""

    name: str  # "adding" or "recall"
    num_symbols: int = 8  # recall only
    num_distractors: int = 4  # recall only

    def __post_init__(self):
        if self.name not in TASK_NAMES:
            raise ValueError(f"task: expected one of {TASK_NAMES}, got {self.name!r}")

    @property
    def metric(self) -> str:
        return "mse" if self.name == "adding" else "accuracy"

    @property
    def baseline(self) -> float:
        """The metric of the best input-blind prediction: always 1 (MSE 1/6), or chance accuracy."""
        return 1.0 / 6.0 if self.name == "adding" else 1.0 / self.num_symbols

    def batch(self, n: int, lag: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        if self.name == "adding":
            return adding_problem(n, lag, generator)
        return recall_task(n, lag, self.num_symbols, self.num_distractors, generator)

    def model_config(self, cell: str, hidden_size: int = 128, **overrides) -> SequenceClassifierConfig:
        """A SequenceClassifier for the task: regression on 2 features, or classification of tokens."""
        if self.name == "adding":
            kwargs = {"task": "regress", "input_size": 2}
        else:
            vocab = self.num_symbols + self.num_distractors + 1
            kwargs = {"task": "classify", "num_classes": self.num_symbols, "vocab_size": vocab, "embedding_size": 16}
        values = {"cell": cell, "hidden_size": hidden_size, "pooling": "last", **kwargs, **overrides}
        return SequenceClassifierConfig.from_dict(values)  # recurrent keys given flat go to [model.rnn]

    def evaluate(self, out: Tensor, targets: Tensor, margin: float = 1.0) -> dict[str, float]:
        """{metric: value, "score": 0 at the baseline .. 1 perfect, "solved": 0/1, "beats_baseline": 0/1}.

        ``margin`` < 1 tightens the "solved" bar (error below margin x 0.01), e.g. to decide on a
        small validation set that a larger test set will pass too."""
        if self.name == "adding":
            value = float(((out.float() - targets.float()) ** 2).mean())
            score, solved = 1.0 - value / self.baseline, value < SOLVED_ERROR * margin
        else:
            value = float((out.argmax(-1) == targets).float().mean())
            score, solved = (value - self.baseline) / (1.0 - self.baseline), 1.0 - value <= SOLVED_ERROR * margin
        return {
            self.metric: value,
            "score": score,
            "solved": float(solved),
            "beats_baseline": float(score >= BEATS_BASELINE),
        }


TASK_NAMES = ("adding", "recall")


def _check_count(n, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what}: expected a positive number of sequences, got {n!r}")
