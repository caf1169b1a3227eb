"""What the training data was: each source file's size and sha256, stored in a run's resolved config
as ``config["source_digests"] = [{"path", "size", "sha256"}, ...]`` (written by ``TaskSpec.meta``).

``rnnkit eval RUN`` on a stored split rebuilds that split from the files; ``check_sources`` refuses
(one line naming the file) when one of them changed since training, since the split, and with it the
vocabulary, would silently differ. A checkpoint written before digests existed has no such list:
nothing can be checked, and the vocabulary check of each task's eval is all there is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

KEY = "source_digests"
#: The [data] settings that name held-out files (a translator's target sides have their own).
HELD_OUT = ("valid", "valid_target", "test", "test_target")


def source_files(config: dict) -> list[Path]:
    """The files a run's data came from: its sources (a directory: every file in it) and held-out files."""
    data = config.get("data", {})
    paths = [Path(p) for p in config.get("source", [])] + [Path(data[k]) for k in HELD_OUT if data.get(k)]
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return {"path": str(path), "size": path.stat().st_size, "sha256": sha.hexdigest()}


def source_digests(config: dict) -> list[dict]:
    """[{"path", "size", "sha256"}] of every file ``source_files`` names that exists."""
    return [digest(p) for p in source_files(config) if p.is_file()]


def check_sources(config: dict) -> None:
    """Raise ValueError naming the first training file that is missing or differs from its digest."""
    for stored in config.get(KEY) or []:
        path = Path(stored["path"])
        if not path.is_file():
            raise ValueError(
                f"eval: the training file {path} is gone; expected it as it was at training time to rebuild the "
                "stored split, or --data FILE"
            )
        if path.stat().st_size != stored["size"] or digest(path)["sha256"] != stored["sha256"]:
            raise ValueError(
                f"eval: the training file {path} changed since training (size or sha256 differs); expected it as "
                "it was to rebuild the stored split, or --data FILE"
            )


def check_vocab(rebuilt: dict, stored: dict, sources: list[str]) -> None:
    """The vocabulary rebuilt from the sources must be the checkpoint's (the one check old runs allow)."""
    if rebuilt != stored:
        raise ValueError(
            f"eval: the vocabulary rebuilt from {', '.join(sources)} differs from the checkpoint's (the data "
            "changed since training); expected the training data as it was, or --data FILE"
        )
