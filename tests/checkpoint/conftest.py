"""Fixtures of the hostile-checkpoint tests: one run per task in today's format (rnnkit 0.1 runs
resumed, trained once per session) and a private copy of one to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rnnkit.checkpoint import read_meta
from tests.checkpoint._hostile import V0, v0_data
from tests.cli._harness import ok


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    v0_data()
    root = tmp_path_factory.mktemp("hostile")
    out = {}
    for name, verb in (("lm", []), ("classify", ["classify"]), ("tag", ["tag"])):
        run = root / name
        shutil.copytree(V0 / ("char_lm" if name == "lm" else name), run)
        lm_only = ["--sample-length", "0"] if name == "lm" else []
        ok("train", *verb, "--resume", run, "--max-steps", "6", "--no-progress", *lm_only)
        assert read_meta(run / "latest.safetensors")["meta_version"] == 1
        shutil.copy(run / "latest.safetensors", run / "best.safetensors")
        out[name] = run
    (root / "sentences.txt").write_text("the cat sees a dog\na bird eats\n", encoding="utf-8")
    return out


@pytest.fixture
def copy_of(runs, tmp_path):
    def copy(task: str) -> Path:
        run = Path(shutil.copytree(runs[task], tmp_path / task))
        (tmp_path / "sentences.txt").write_text("the cat sees a dog\na bird eats\n", encoding="utf-8")
        return run

    return copy
