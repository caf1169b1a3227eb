"""What the padded-batch tasks (classification, tagging) share: the data settings every labelled task
has, the train / val / test split of the sources, and small helpers of their messages and reports.

The data settings are dataclasses; TOML ``[data]`` tables and CLI flags override them
(``rnnkit.config.override``), and the resolved values are stored in every checkpoint, so ``predict``,
``tag`` and ``eval`` read new text exactly as training did. Without separate ``valid`` / ``test``
files the sources are split by ``split`` with ``split_seed``: the same data and seed always give the
same split, so ``rnnkit eval`` can rebuild the test split from the checkpoint's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data import DataError, split_indices
from rnnkit.tasks.spec import EvalRequest

SPLITS = ("train", "val", "test")


@dataclass
class LabelledDataConfig:
    """What both tasks share: decoding, the vocabulary, held-out data, the split and the batches.

    Attributes:
        lowercase / min_freq / max_vocab: the vocabulary (``max_vocab`` 0 = no cap; specials count).
        encoding / errors: how files are decoded.
        valid / test: separate held-out files; without them the data is split by ``split``
            (train, val, test fractions) with ``split_seed``.
        batch_size / bucket: padded batches of B sequences, grouped by similar length.
    """

    lowercase: bool = False
    min_freq: int = 1
    max_vocab: int = 0
    encoding: str = "utf-8"
    errors: str = "strict"
    valid: str = ""
    test: str = ""
    split: tuple = (0.8, 0.1, 0.1)
    split_seed: int = 1234
    batch_size: int = 32
    bucket: bool = True

    def validate(self):
        for name, low in (("min_freq", 1), ("max_vocab", 0), ("batch_size", 1), ("split_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DataError(f"data: expected {name} to be an integer >= {low}, got {value!r}")
        split = tuple(self.split)
        if len(split) != 3 or any(not 0 <= f < 1 for f in split) or abs(sum(split) - 1) > 1e-6 or split[0] <= 0:
            raise DataError(
                f"data: expected split = three fractions (train, val, test) in [0, 1) summing to 1, got {self.split!r}"
            )
        return self


def split_parts(n: int, labels, cfg, held: dict) -> dict[str, list[int]]:
    """Indices of the train / val / test parts of the sources (a part given as a file is empty)."""
    fractions = [cfg.split[0], 0.0 if "val" in held else cfg.split[1], 0.0 if "test" in held else cfg.split[2]]
    total = sum(fractions)
    if fractions[1] == 0 and fractions[2] == 0:
        return {"train": list(range(n)), "val": [], "test": []}
    used = [i for i, f in enumerate(fractions) if f > 0]
    cuts = split_indices(
        labels if labels is not None else ["_"] * n,
        [fractions[i] / total for i in used],
        cfg.split_seed,
        stratify=labels is not None,
    )
    out = {name: [] for name in SPLITS}
    for i, part in zip(used, cuts, strict=True):
        out[SPLITS[i]] = list(part)
    return out


def one_split(request: EvalRequest) -> str:
    if len(request.splits) != 1:
        raise ValueError(f"eval: expected one --split for a classifier or tagger, got {','.join(request.splits)}")
    return request.splits[0]


def beside(checkpoint, name: str) -> Path:
    """A file in the checkpoint's run directory."""
    base = Path(checkpoint)
    return (base if base.is_dir() else base.parent) / name


def listed(labels: Sequence[str], limit: int = 8) -> str:
    return "[" + ", ".join(repr(x) for x in labels[:limit]) + (", ...]" if len(labels) > limit else "]")
