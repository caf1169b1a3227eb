"""What the hostile-checkpoint tests share: the commands that load a checkpoint, the run's snapshot,
and the contract every crafted file must meet (one line, exit 2, no traceback, nothing changed)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tests.cli._harness import assert_error, cli
from tests.fixtures.make_v0_checkpoints import DATA_ROOT

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
TIB = 1 << 40


def v0_data() -> None:
    """The rnnkit 0.1 runs' training data, recreated at its fixed path from the fixture's copies."""
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    for name in ("text.txt", "cls.tsv", "tag.tsv"):
        shutil.copy(V0 / name, DATA_ROOT / name)


def commands(task: str, run: Path, out: Path) -> list[list]:
    """Every command that loads a checkpoint of ``task``, on the run directory ``run``."""
    resume = ["--resume", run, "--max-steps", 9, "--no-progress"]
    if task == "lm":
        text = DATA_ROOT / "text.txt"
        return [
            ["sample", run, "--length", 5],
            ["eval", run / "latest.safetensors", "--json"],
            ["visualize", run, "--text", text, "--out", out / "v.html"],
            ["diagnose", run, "--steps", 4, "--batch-size", 2, "--out", out / "diag"],
            ["train", *resume, "--sample-length", 0],
        ]
    sentences = run.parent / "sentences.txt"
    first = ["predict", run, "good movie one"] if task == "classify" else ["tag", run, sentences]
    return [first, ["eval", run], ["train", task, *resume]]


def snapshot(run: Path) -> dict:
    """What must not change: each entry's kind, size, mtime and the sha256 of its first MiB."""
    state = {}
    for p in sorted(run.iterdir()):
        st = os.lstat(p)
        head = b""
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                head = f.read(1 << 20)
        state[p.name] = (st.st_mode, st.st_size, st.st_mtime_ns, hashlib.sha256(head).hexdigest())
    return state


def both(run: Path, craft) -> None:
    """Apply ``craft(path)`` to the run's latest and best checkpoints."""
    for name in ("latest.safetensors", "best.safetensors"):
        craft(run / name)


#: The commands whose line must carry the case's own message; diagnose and train --resume have checks of
#: their own that may answer first (a kind diagnose cannot use, a vocabulary resume rebuilt differently).
NAMED = ("sample", "predict", "tag", "eval", "visualize")


def refused_everywhere(task: str, run: Path, out: Path, fragment: str, skip: tuple[str, ...] = ()) -> int:
    """Run every loading command on the crafted run: one line, exit 2, nothing changed; the inference
    commands' line names the run (or its file) and contains ``fragment``."""
    before = snapshot(run)
    tried = 0
    for argv in commands(task, run, out):
        if argv[0] in skip:
            continue
        code, stdout, err = cli(*argv)
        if argv[0] in NAMED:
            line = assert_error((code, stdout, err), fragment)
            assert str(run) in line, line
        else:
            assert_error((code, stdout, err))
        assert stdout == "", (argv, stdout)
        tried += 1
    assert snapshot(run) == before
    return tried
