"""Optional TensorBoard logging (``--tensorboard``, TrainConfig.tensorboard): RUN/tensorboard/.

Scalars, by step: train/loss, train/lr, train/grad_norm (the largest of the log interval, before
clipping), train/<unit>_per_s (the throughput metrics.jsonl records as tokens_per_s), and every
validation metric as val/<name> (val_loss -> val/loss, val_acc -> val/acc). metrics.jsonl stays the
run's record; this is a view of it for people who use TensorBoard (``tensorboard --logdir runs``).
A resumed run purges the events past its checkpoint's step (``purge_step``), as metrics.jsonl drops
its records, so the curves describe one history. Needs the ``tensorboard`` package (the extra
``rnnkit[tensorboard]``); without it, one line says so.
"""

from __future__ import annotations

from pathlib import Path

MISSING = (
    "train: --tensorboard needs the tensorboard package; install it with "
    "pip install 'rnnkit[tensorboard]' (or pip install tensorboard), or train without --tensorboard"
)


class TensorBoardLog:
    def __init__(self, run_dir: Path, step: int, unit: str):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError(MISSING) from None
        self.unit = unit
        self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=step + 1 if step else None)

    def train(self, record: dict) -> None:
        step = record["step"]
        for name, key in (("loss", "train_loss"), ("lr", "lr"), ("grad_norm", "grad_norm")):
            self.writer.add_scalar(f"train/{name}", record[key], step)
        self.writer.add_scalar(f"train/{self.unit}_per_s", record["tokens_per_s"], step)

    def eval(self, record: dict) -> None:
        for key, value in record.items():
            if key.startswith("val_") and isinstance(value, int | float):
                self.writer.add_scalar(f"val/{key[4:]}", value, record["step"])

    def close(self) -> None:
        self.writer.close()
