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
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Create or replace `path` atomically with `data`.

    Raises:
        OSError: from the file system; the previous `path` is then unchanged.
    """
    path = Path(path)
    # pid + random: two processes saving to the same path never write into each other's temp file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    f = open(tmp, "xb")  # "x": never another save's file; if this fails there is nothing to clean up
    try:
        with f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt too: never leave a half-written temp file behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    remove_stale_temps(path)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete ".NAME.<pid>.<hex>.tmp" files next to `path` left by processes that no longer run
    (a save killed before its rename). Returns what was removed. POSIX only (pid liveness check)."""
    if os.name != "posix":
        return []
    removed = []
    for tmp in Path(path).parent.glob(f".{Path(path).name}.*.tmp"):
        pid = tmp.name[len(Path(path).name) + 2 :].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
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
