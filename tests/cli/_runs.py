"""What the CLI tests share: a small corpus, tiny model flags, one thread, the files of a run."""

import contextlib
import random
from pathlib import Path

import torch

WORDS = "the cat sat on a mat and ran to see her dog who was not there at all today".split()
NAMES = ["anna", "bob", "carl", "dora", "emma", "finn", "gus"]
TINY = [
    "--hidden-size",
    "16",
    "--num-layers",
    "1",
    "--embedding-size",
    "8",
    "--batch-size",
    "4",
    "--seq-len",
    "20",
    "--device",
    "cpu",
    "--no-progress",
]


def corpus_text(lines: int = 70, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(lines)) + "\n"


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.is_file()}
