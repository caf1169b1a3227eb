"""What a run shows while it trains (rnnkit.train.progress): a bar of at most 80 columns on a
terminal with every lasting line above it; plain lines, never a carriage return, anywhere else."""

import io
import re

import torch
from torch import nn

from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.progress import PLAIN_EVERY_S, Progress, clock, terminal_width
from tests.train._toy import ToyTask, no_plots  # noqa: F401 (no_plots: a fixture)


class Terminal(io.StringIO):
    """A stream that says it is a terminal (of unknown size: 80 columns, or $COLUMNS)."""

    def isatty(self):
        return True


def train_into(stream, run_dir, task=None, **train) -> str:
    """Train a toy model with progress on, the log and the bar both writing to ``stream``."""
    torch.manual_seed(0)
    cfg = TrainConfig(**{"device": "cpu", "log_every": 2, "eval_every": 4, "lr": 0.01, "max_steps": 12, **train})
    log = lambda message: print(message, file=stream)  # noqa: E731 (the CLI's log, to our stream)
    trainer = Trainer(nn.Linear(3, 1), task or ToyTask(), cfg, run_dir, {"config": {}}, log=log, progress=True)
    trainer.fit()
    return stream.getvalue()


def record(step, loss=2.5, rate=123456.0, epoch=1.5):
    return {"step": step, "train_loss": loss, "tokens_per_s": rate, "epoch": epoch, "elapsed_s": 0.0}


def test_off_a_terminal_there_is_no_carriage_return_and_every_line_is_whole(tmp_path, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)  # where the bar would go
    out = train_into(stream, tmp_path)
    assert "\r" not in out
    lines = out.splitlines()
    evals = [line for line in lines if "val loss" in line]
    assert evals == [f"step {s}: val loss 1.0000" + (" (best)" if s == 4 else "") for s in (4, 8, 12)]
    progress = [line for line in lines if "val loss" not in line]
    assert progress, out
    for line in progress:  # "step 4/12 (33%): loss 1.234, 12.3k tok/s, epoch 0.80, 0:01 left"
        assert re.fullmatch(r"step \d+/12 \(\d+%\): loss [\d.]+, [\d.]+k? tok/s, epoch [\d.]+, \d+:\d\d left", line), (
            line
        )
    # one before every evaluation's line (the first record's line is the step 2 one)
    assert [line.split("/")[0] for line in progress] == ["step 2", "step 4", "step 8", "step 12"]


def test_plain_lines_come_every_30_seconds_and_before_each_evaluation():
    lines, now = [], [0.0]
    p = Progress(lines.append, total=None, unit="ex", stream=io.StringIO(), now=lambda: now[0])
    assert p.mode == "lines"
    for step in range(1, 11):
        now[0] = 10.0 * step  # a record every 10 s
        p.record(record(step))
    assert PLAIN_EVERY_S == 30
    assert [line.split(":")[0] for line in lines] == ["step 1", "step 4", "step 7", "step 10"]
    assert lines[-1] == "step 10: loss 2.500, 123k ex/s, epoch 1.50"  # no budget: no time left
    p.before_eval()  # an evaluation at the step just shown: no second line
    assert len(lines) == 4
    now[0] += 1
    p.record(record(11))
    p.advance(12)
    p.before_eval()  # an evaluation at step 12 (the last record's figures)
    assert len(lines) == 5 and lines[-1].startswith("step 12: loss 2.500")


def test_on_a_terminal_the_bar_fits_80_columns_and_lasting_lines_go_above_it(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    out = train_into(stream, tmp_path, max_steps=40, eval_every=10, log_every=1)
    frames = [frame for line in out.split("\n") for frame in line.split("\r")]
    assert max(len(frame) for frame in frames) <= 80
    bars = [f for f in frames if "|" in f and "tok/s" in f]
    assert bars and re.fullmatch(r"100%\|[█#]+\| 40/40, loss [\d.]+, [\d.]+k? tok/s, epoch [\d.]+, 0:00 left", bars[-1])
    assert "step/s" not in out and "it/s" not in out  # one throughput figure: the task's units
    for s in (10, 20, 30, 40):  # every evaluation's line on a line of its own: the bar cleared, nothing after it
        line = next(line for line in out.split("\n") if f"step {s}: val loss" in line)
        assert line.split("\r")[-1] == f"step {s}: val loss 1.0000" + (" (best)" if s == 10 else "")
        assert line.split("\r")[-2].strip() == ""  # the bar's frame before it was blanked


def test_narrower_terminals_get_a_narrower_bar(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    assert terminal_width(Terminal()) == 60
    monkeypatch.setenv("COLUMNS", "200")
    assert terminal_width(Terminal()) == 80
    stream = Terminal()
    monkeypatch.setenv("COLUMNS", "50")
    p = Progress(lambda m: None, total=1000, initial=0, unit="char", stream=stream)
    for step in range(1, 30):
        p.advance(step)
        p.record(record(step, rate=2.5e6))
    p.bar.refresh()
    p.close()
    frames = [f for line in stream.getvalue().split("\n") for f in line.split("\r") if f.strip()]
    assert frames and max(len(f) for f in frames) <= 50  # trimmed, never wrapped
    assert frames[-1].startswith("  3% 29/1000, loss 2.500, 2.50M char/s")  # the numbers, not one cell of bar


def test_the_time_left_is_the_budget_or_the_pace_whichever_is_sooner():
    now = [0.0]
    p = Progress(lambda m: None, enabled=False, total=100, initial=20, budget_s=600, now=lambda: now[0])
    now[0] = 40.0
    p.advance(40)  # 20 steps in 40 s: 60 steps left take 120 s; the budget has 560 s
    assert p.time_left() == 120.0
    now[0] = 590.0
    assert p.time_left() == 10.0
    assert clock(3723) == "1:02:03" and clock(65) == "1:05" and clock(-3) == "0:00"


def test_no_progress_shows_nothing_but_the_lasting_lines(tmp_path, monkeypatch):
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    torch.manual_seed(0)
    cfg = TrainConfig(device="cpu", log_every=1, eval_every=3, lr=0.01, max_steps=6)
    log = lambda message: print(message, file=stream)  # noqa: E731
    Trainer(nn.Linear(3, 1), ToyTask(), cfg, tmp_path, {"config": {}}, log=log, progress=False).fit()
    assert stream.getvalue() == "step 3: val loss 1.0000 (best)\nstep 6: val loss 1.0000\n"


def test_the_throughput_is_named_for_what_the_task_counts(tmp_path, monkeypatch):
    from rnnkit.tasks.classify.training import ClassificationTask
    from rnnkit.tasks.lm.training import LanguageModelTask
    from rnnkit.tasks.tag.training import TaggingTask

    assert ClassificationTask.unit == "ex" and TaggingTask.unit == "word"

    class Vocab:
        def __init__(self, kind):
            self.kind = kind

    ids = torch.arange(50).numpy() % 7
    for kind, unit in (("char", "char"), ("word", "word")):
        assert LanguageModelTask(ids, None, 2, 5, torch.device("cpu"), vocab=Vocab(kind)).unit == unit
    task = ToyTask()
    task.unit = "ex"
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    assert " ex/s" in train_into(stream, tmp_path, task=task)
