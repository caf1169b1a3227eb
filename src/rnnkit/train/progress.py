"""What a run shows while it trains: a bar on a terminal, plain lines anywhere else.

    a terminal (the stream is a tty)    one tqdm bar, at most 80 columns wide (the terminal's width
                                        when narrower), redrawn in place; every lasting line (an
                                        evaluation, "(best)", a sample) is written ABOVE it: the log
                                        callable runs inside tqdm's ``external_write_mode``, which
                                        clears the bar first and redraws it after; on a terminal
                                        too narrow for the numbers and 10 cells of bar, the numbers
                                        alone (tqdm trims what still does not fit: never a wrap)
    anything else (a file, a pipe, CI,  no carriage return at all: a plain progress line through the
    nohup, tee)                         log callable at the run's first metrics record, then at the
                                        first record after every ``PLAIN_EVERY_S`` (30) seconds of
                                        wall time, and just before every evaluation's line
    off (--no-progress, progress=False) neither; the lasting lines still come

Each shows the step (of the total, when a step or epoch budget gives one), the training loss of the
last log interval, ONE throughput figure in the task's own units (``Task.unit``: "char" or "word"
for language models, "ex" (examples) for classifiers, "word" for taggers; "tok" when a task names
none): the ``tokens_per_s`` of metrics.jsonl's record, the epoch, and the time left (the time
budget's, or the remaining steps at the run's average pace so far, evaluations included, whichever
is sooner). tqdm's own step rate and ETA are not shown: they smooth differently and disagreed with
the throughput beside them.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable

from tqdm import tqdm  # the text bar: this module picks bar or plain lines itself

PLAIN_EVERY_S = 30.0
WIDTH = 80
MIN_BAR = 10  # narrower than this, the bar's cells give way to the numbers
_BAR = "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}"
_NO_BAR = "{percentage:3.0f}% {n_fmt}/{total_fmt}{postfix}"
_NO_TOTAL = "step {n_fmt}{postfix}"


def clock(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    seconds = int(max(0.0, seconds))
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def number(x: float) -> str:
    """A loss for a narrow line: 2.215, 12.50, 1.235e+04."""
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.4g}"


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def terminal_width(stream) -> int:
    """The stream's terminal columns (else $COLUMNS, else 80), at most WIDTH (80)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    if not columns:  # not a terminal we can ask, or one that reports no size (a fresh pty)
        columns = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else WIDTH
    return max(20, min(WIDTH, columns))


class Progress:
    """Args:
    log: the lasting lines' callable (the CLI prints to stderr); plain progress lines go through it too.
    enabled: False: no bar and no progress lines.
    total: the run's step total (None: a time budget alone).
    initial: the step the run starts (or resumes) at.
    unit: what the task's batches count ("char", "word", "ex", "tok").
    budget_s: the time budget in seconds (0: none), counted from this object's creation.
    stream: where the bar goes and whose tty-ness picks the mode (default sys.stderr).
    """

    def __init__(
        self,
        log: Callable[[str], None],
        enabled: bool = True,
        total: int | None = None,
        initial: int = 0,
        unit: str = "tok",
        budget_s: float = 0.0,
        stream=None,
        now: Callable[[], float] = time.perf_counter,
    ):
        self.stream = sys.stderr if stream is None else stream
        self.mode = "off" if not enabled else ("bar" if is_terminal(self.stream) else "lines")
        self._log, self.total, self.initial, self.unit, self.budget_s = log, total, initial, unit, budget_s
        self._now, self.started = now, now()
        self.step, self.figures, self._last_line, self._line_step = initial, "", -math.inf, None
        self.bar = None
        if self.mode == "bar":
            self.bar = tqdm(
                total=total,
                initial=initial,
                file=self.stream,
                ncols=terminal_width(self.stream),
                bar_format=_BAR if total else _NO_TOTAL,
                leave=True,
            )

    def write(self, message: str) -> None:
        """A lasting line (or lines): above the bar on a terminal."""
        with tqdm.external_write_mode(file=self.stream) if self.bar is not None else contextlib.nullcontext():
            self._log(message)

    def advance(self, step: int) -> None:
        """One training step done: the run is at ``step``."""
        self.step = step
        if self.bar is not None:
            self.bar.update(step - self.bar.n)

    def record(self, record: dict) -> None:
        """A metrics record ("train_loss", "tokens_per_s", "epoch", "elapsed_s", ...)."""
        self.step = record["step"]
        parts = [
            f"loss {number(record['train_loss'])}",
            f"{tqdm.format_sizeof(record['tokens_per_s'])} {self.unit}/s",
            f"epoch {record['epoch']:.2f}",
        ]
        if (left := self.time_left()) is not None:
            parts.append(f"{clock(left)} left")
        self.figures = ", ".join(parts)
        if self.bar is not None:
            self.bar.bar_format = self._format()
            self.bar.set_postfix_str(self.figures, refresh=False)
        elif self.mode == "lines" and self._now() - self._last_line >= PLAIN_EVERY_S:
            self.line()

    def before_eval(self) -> None:
        """An evaluation's line follows: in plain mode, a progress line first."""
        if self.mode == "lines" and self.figures and self._line_step != self.step:
            self.line()

    def _format(self) -> str:
        if not self.total:
            return _NO_TOTAL
        numbers = len(f"100%|| {self.total}/{self.total}, {self.figures}")
        return _BAR if numbers + MIN_BAR <= self.bar.ncols else _NO_BAR

    def line(self) -> None:
        self._last_line, self._line_step = self._now(), self.step
        where = f"step {self.step}"
        if self.total:
            where += f"/{self.total} ({100 * self.step / self.total:.0f}%)"
        self._log(f"{where}: {self.figures}")

    def time_left(self) -> float | None:
        """Seconds left: the time budget's, or the remaining steps at this run's pace, whichever is sooner."""
        elapsed, lefts = self._now() - self.started, []
        if self.budget_s:
            lefts.append(self.budget_s - elapsed)
        if self.total and self.step > self.initial:
            lefts.append((self.total - self.step) * elapsed / (self.step - self.initial))
        return max(0.0, min(lefts)) if lefts else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
