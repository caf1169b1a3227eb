"""What the trainer knows of a task: the ``Task`` protocol. Nothing else about any task reaches it.

A task turns its data into batches, the model's losses into one number per batch, and a
validation pass into metrics; it names its own log line. Implementations: ``rnnkit.tasks``
(language modelling, classification, tagging).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor, nn


@runtime_checkable
class Task(Protocol):
    """Members:

    batches_per_epoch        batches in one pass over the training data
    loss_floor               a loss level (e.g. chance) below which a loss spike is noise, not divergence
    train_loss(model, index, epoch)  -> (mean loss tensor, units in the batch: tokens, examples)
    evaluate(model)          -> {"val_loss": ..., ...} (empty without validation data)
    describe(val)            -> the log line of an evaluation ("val loss 1.23 nats (...)")
    state_tensors() / load_state_tensors(tensors)  carried state saved in checkpoints (a TBPTT hidden state)

    Optional (read with getattr):
    unit                     what train_loss's units count, for the throughput ("char", "word", "ex"; default "tok")
    sample(model, seed)      -> a short text from the current weights (TrainConfig.sample_every), drawn
                             from a generator of its own seeded with ``seed``
    """

    loss_floor: float

    @property
    def batches_per_epoch(self) -> int: ...

    def train_loss(self, model: nn.Module, index: int, epoch: int = 0) -> tuple[Tensor, int]: ...

    def evaluate(self, model: nn.Module) -> dict[str, float]: ...

    def describe(self, val: dict[str, float]) -> str: ...

    def state_tensors(self) -> dict[str, Tensor]: ...

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None: ...
