"""Ctrl-C during training: the first one is a request to stop, the second one stops at once.

``CtrlC`` (a context manager around ``Trainer.fit``) installs a SIGINT handler that only records the
request and puts the previous handler back, so:

    first Ctrl-C    the step in progress (and its evaluation or sample, when due) finishes; the
                    trainer then saves a resumable checkpoint, latest.safetensors, exactly as an
                    evaluation checkpoint (atomically; weights, optimiser, schedule, RNG, carried
                    state, the log interval's sums), and raises ``TrainingInterrupted``, whose
                    message names the step, the file and the command that continues the run;
    second Ctrl-C   Python's own KeyboardInterrupt, wherever the process is, e.g. in the middle of
                    that save: the save is abandoned (its temp file removed: rnnkit.checkpoint.atomic)
                    and the previous checkpoint stays whole. The CLI says "rnnkit: interrupted".

Both exit with status 130 from the CLI. The handler is installed only in the main thread (the only
one Python delivers signals to) and only when SIGINT is not ignored (a background job started with
SIGINT ignored keeps it so); the previous handler is restored when ``fit`` returns or raises.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C after saving a resumable checkpoint. ``str()`` is the whole
    one-line message, e.g. "interrupted at step 412; saved runs/x/latest.safetensors; continue
    with: rnnkit train classify --resume runs/x"."""

    def __init__(self, step: int, saved: Path, command: str = ""):
        super().__init__(step, saved, command)
        self.step, self.saved, self.command = step, Path(saved), command

    def continue_with(self, command: str) -> TrainingInterrupted:
        """The same interruption, naming ``command`` as the way to continue."""
        return TrainingInterrupted(self.step, self.saved, command)

    def __str__(self) -> str:
        then = f"continue with: {self.command}" if self.command else "continue with Trainer.resume() and fit()"
        return f"interrupted at step {self.step}; saved {self.saved}; {then}"


class CtrlC:
    """``with CtrlC() as ctrl_c: ... if ctrl_c.requested: ...``"""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C: the previous behaviour, at once

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):  # None: installed from outside Python
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
