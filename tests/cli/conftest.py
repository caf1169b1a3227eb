"""The fixtures the CLI tests share: a small corpus (data_dir), a character model trained on it
(run, once per module) and a private copy of that run to break (copied_run)."""

import random
import shutil
from pathlib import Path

import pytest

from ._harness import cli
from ._runs import NAMES, TINY, corpus_text, one_thread


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data")
    (d / "corpus.txt").write_text(corpus_text())  # ~1.7 KB
    rng = random.Random(1)
    (d / "names.txt").write_text("\n".join(rng.choice(NAMES) for _ in range(300)) + "\n")
    return d


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory) -> Path:
    """A character model trained for 6 steps (checkpoints at steps 3 and 6)."""
    run = tmp_path_factory.mktemp("runs") / "chars"
    with one_thread():
        code, out, err = cli(
            "train",
            data_dir / "corpus.txt",
            "--run-dir",
            run,
            "--max-steps",
            6,
            "--eval-every",
            3,
            "--log-every",
            2,
            "--sample-length",
            20,
            *TINY,
        )
    assert code == 0, err
    assert "Traceback" not in err
    return run


@pytest.fixture
def copied_run(run, tmp_path) -> Path:
    """A private copy of the trained run, to break."""
    return Path(shutil.copytree(run, tmp_path / "copy"))
