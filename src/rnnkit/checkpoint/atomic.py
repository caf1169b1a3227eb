"""Atomic file replacement: a reader (or a crash) sees the old file or the new one, never a mix.

The recipe, and why each step is there:
  1. write the new content to a temp file in the SAME directory (os.replace is only atomic within one
     file system, and a temp file elsewhere could be on another one);
  2. fsync the temp file, so its data is on disk before the rename is (otherwise a power cut can leave
     the new name pointing at an empty or partial file on some file systems);
  3. os.replace(temp, final): one atomic rename on POSIX and Windows; this is the commit point;
  4. fsync the directory, so the rename itself survives a power cut.
A failure before step 3 removes the temp file and leaves the old file untouched. A SIGKILL before
step 3 cannot run any cleanup: it leaves a stray ".NAME.<pid>.<random>.tmp" next to the target, which
no reader ever opens. The next successful save of the same file removes the ".NAME.<pid>.*.tmp" files
whose process is gone (POSIX; a live process's temp file may be a save in progress and is kept).

Symlinks: every file rnnkit writes goes through here (checkpoints and their sidecars, config.json,
metrics.jsonl's rewrite, curves.png, visualize.html, gradient_flow.csv/.png, confusion PNGs, the
memory benchmark's files), so none is ever written THROUGH a symlink: the temp file is created with
O_CREAT | O_EXCL (which never follows a link, not even a dangling one), and os.replace on a path that
is a symlink replaces the link itself, never its target. A reader, a second writer or a crash sees
a whole old file or a whole new one.

Errors carry the target's name (not the temp file's): ``OSError(errno, strerror, path)``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def atomic_write(path: Path, data: bytes | str) -> None:
    """Create or replace `path` atomically with `data` (str is written as UTF-8).

    Raises:
        OSError: from the file system, naming `path`; the previous `path` is then unchanged.
    """
    with atomic_file(path, text=isinstance(data, str)) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_file(path: Path, text: bool = False) -> Iterator[IO]:
    """A new file object whose content replaces `path` atomically when the block ends without an
    exception (an exception, KeyboardInterrupt included, removes it and leaves `path` as it was).
    ``text=True``: a UTF-8 text file with newline="" (for csv). For writers that want a file object,
    e.g. ``fig.savefig(f, format="png")``.

    Raises:
        OSError: from the file system, naming `path`.
    """
    path = Path(path)
    # pid + random: two processes saving to the same path never write into each other's temp file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # "x" (O_EXCL): never another save's file and never through a link; on failure nothing to clean up
        f = open(tmp, "x", encoding="utf-8", newline="") if text else open(tmp, "xb")
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:  # KeyboardInterrupt too: never leave a half-written temp file behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.filename in (None, str(tmp)):
            raise _naming(e, path) from None
        raise
    fsync_dir(path.parent)
    remove_stale_temps(path)


def _naming(error: OSError, path: Path) -> OSError:
    """The same error, about the file the caller asked for rather than its temp file."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete ".NAME.<pid>.<hex>.tmp" files next to `path` left by processes that no longer run
    (a save killed before its rename). Returns what was removed. POSIX only (pid liveness check)."""
    if os.name != "posix":
        return []
    removed = []
    for tmp in Path(path).parent.glob(f".{Path(path).name}.*.tmp"):
        pid = tmp.name[len(Path(path).name) + 2 :].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or process_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (POSIX)."""
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories; the rename is still atomic
        pass
    finally:
        os.close(fd)


def write_figure(fig, path: Path, dpi: int) -> Path:
    """Save a matplotlib figure as PNG at `path` atomically (never through a symlink) and close it."""
    try:
        with atomic_file(path) as f:
            fig.savefig(f, format="png", dpi=dpi)
    finally:
        import matplotlib.pyplot as plt  # only a figure's owner calls this, so matplotlib is loaded

        plt.close(fig)
    return Path(path)
