"""One writer per run directory: an exclusive lock held for the whole of a training or resume.

The lock is RUN/.rnnkit.lock, opened with O_NOFOLLOW (a symlink planted there is refused, never
followed) and locked with flock(LOCK_EX | LOCK_NB). The kernel releases a flock when its process
dies, SIGKILL included, so a lock file left by a dead process is stale by construction: the next
run takes it over (says so, and removes the temp files of the saves the dead run was killed in).
While held, the file holds one JSON line, {"pid", "host", "since", "command"}, which the refusal of
a second run quotes:

    run directory: RUN is in use by rnnkit process PID on HOST (since ...); expected one run per
    directory: wait for it to finish, or give another --run-dir

Release (every exit path: the context manager's __exit__ runs on errors and KeyboardInterrupt)
unlinks the file while still holding the lock, then closes it; a run that opened the old file in
the meantime sees, after its own flock, that the path no longer names its file and tries again.
A run directory this lock created is removed again if nothing else was written into it (a run
refused for bad data leaves no empty directory behind).

The run directory itself must be a real directory, not a symlink: whoever planted
``RUN -> ~/project`` would otherwise have rnnkit replace ~/project/config.json. (Its parents may be
links, e.g. runs/ -> /big/disk, as the user named them.)

Where flock is missing (not POSIX), the lock is the file's exclusive creation (O_EXCL) and a lock
whose pid is not alive on this host is stale.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

from rnnkit.checkpoint.atomic import process_alive as _alive

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".rnnkit.lock"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class RunDirectoryBusy(ValueError):
    """Another live rnnkit process holds the run directory. One-line message."""


class RunLock:
    """``with RunLock(run_dir, log) as lock:`` -- exclusive use of ``run_dir`` (created if missing).

    ``lock.previous`` is the stale lock's record when one was taken over (else None).

    Raises (on entry):
        RunDirectoryBusy: a live process holds it.
        ValueError: ``run_dir`` is a symlink or not a directory.
        OSError: the directory cannot be created or written (read-only, permissions, full).
    """

    def __init__(self, run_dir, log=lambda message: None):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.log = log
        self.fd: int | None = None
        self.created_dir = False
        self.previous: dict | None = None

    # ----- acquire ----------------------------------------------------------------------------
    def __enter__(self) -> RunLock:
        try:
            self._prepare_dir()
            self._acquire()
        except OSError as e:
            self._remove_dir_if_ours()
            if e.errno == errno.ELOOP:
                raise ValueError(
                    f"run directory: {self.path} is a symbolic link, not rnnkit's lock file; expected no link "
                    "there (remove it)"
                ) from None
            raise OSError(
                e.errno,
                f"run directory: cannot lock {self.run_dir} ({e.strerror or e}); expected a writable directory",
            ) from None
        except BaseException:
            self._remove_dir_if_ours()
            raise
        if self.previous is not None:
            self._remove_temps_of(self.previous.get("pid"))
            self.log(
                f"run directory: took over the stale lock of rnnkit process {self.previous.get('pid', '?')} "
                f"(since {self.previous.get('since', '?')}), which is no longer running"
            )
        return self

    def _prepare_dir(self) -> None:
        run_dir = self.run_dir
        if run_dir.is_symlink():
            raise ValueError(
                f"run directory: {run_dir} is a symbolic link (to {os.readlink(run_dir)}); expected a real "
                "directory (give its target as the run directory if that is meant)"
            )
        if run_dir.exists() and not run_dir.is_dir():
            raise ValueError(f"run directory: {run_dir} is a file; expected a directory")
        if not run_dir.exists():
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # a concurrent run made it first: not ours
                run_dir.mkdir()
                self.created_dir = True

    def _acquire(self) -> None:
        for _ in range(100):  # each retry means the holder released meanwhile; a bound, never a spin
            if fcntl is None:
                if self._created_exclusively():
                    return
                continue
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), 0o644)
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device planted there
                os.close(fd)
                raise ValueError(f"run directory: {self.path} is not a regular file; expected rnnkit's lock file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                holder = _read_record(fd)
                os.close(fd)
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise RunDirectoryBusy(self._busy(holder)) from None
            if not _same_file(fd, self.path):  # released (unlinked) between our open and our flock
                os.close(fd)
                continue
            record = _read_record(fd)
            self.previous = record or None  # content without a flock: left by a process that died
            self.fd = fd
            self._write_record()
            return
        raise RunDirectoryBusy(
            f"run directory: {self.run_dir} is being locked and released in a loop; expected one run"
        )

    def _created_exclusively(self) -> bool:  # pragma: no cover - only where flock is missing
        """The lock without flock: True once created; False after removing a dead process's lock."""
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        except FileExistsError:
            holder = json.loads(self.path.read_text(errors="replace") or "{}")
            pid = holder.get("pid") if isinstance(holder, dict) else None
            if holder.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
                self.previous = holder
                self.path.unlink()
                return False
            raise RunDirectoryBusy(self._busy(holder)) from None
        self._write_record()
        return True

    def _remove_temps_of(self, pid) -> None:
        """The ".NAME.<pid>.<hex>.tmp" files (rnnkit.checkpoint.atomic) of the dead holder: saves it
        was killed in the middle of, whatever file they were for."""
        if not isinstance(pid, int) or pid == os.getpid() or _alive(pid):
            return
        for tmp in self.run_dir.glob(f".*.{pid}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _busy(self, holder: dict) -> str:
        where = f" on {holder['host']}" if holder.get("host") and holder.get("host") != socket.gethostname() else ""
        return (
            f"run directory: {self.run_dir} is in use by rnnkit process {holder.get('pid', '?')}{where} "
            f"(since {holder.get('since', '?')}); expected one run per directory: wait for it to finish, "
            "or give another --run-dir"
        )

    def _write_record(self) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": " ".join(["rnnkit", *sys.argv[1:]])[:500],
        }
        with contextlib.suppress(OSError):  # a full disk: the flock still holds; the run's own writes will say
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, (json.dumps(record) + "\n").encode("utf-8"), 0)

    # ----- release ----------------------------------------------------------------------------
    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            if _same_file(self.fd, self.path):
                self.path.unlink()
        os.close(self.fd)  # closing drops the flock
        self.fd = None
        self._remove_dir_if_ours()

    def _remove_dir_if_ours(self) -> None:
        if self.created_dir:
            with contextlib.suppress(OSError):  # not empty (the run wrote files): kept
                self.run_dir.rmdir()
            self.created_dir = False


def _read_record(fd: int) -> dict:
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)
