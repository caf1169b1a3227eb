"""Process-level settings the command line applies before any work (the library never does).

glibc serves every allocation above ~128 KB-32 MB with a fresh mmap and returns it to the OS on
free, so each training step page-faults all of its large buffers again. Keeping freed memory in
the heap (what jemalloc/tcmalloc do by default) removes that cost: on the 2-core benchmark machine
it made an LSTM training step ~10% faster and the per-step autograd reference ~2x faster
(benchmarks/RESULTS.md). Set RNNKIT_MALLOC=default to leave glibc as it is.

Warnings print as one line (``rnnkit: warning: ...``), not Python's file:line plus source line.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import warnings

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4


def tune_malloc() -> bool:
    """Keep large freed blocks for reuse (glibc only). Returns whether the setting took effect."""
    if os.environ.get("RNNKIT_MALLOC", "") == "default":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to tune
        return False
    ok = mallopt(_M_MMAP_MAX, 0)  # no per-allocation mmaps: big tensors come from the heap...
    ok &= mallopt(_M_TRIM_THRESHOLD, 1 << 30)  # ...which keeps up to 1 GiB of freed memory
    ok &= mallopt(_M_TOP_PAD, 64 << 20)  # and grows in 64 MiB steps
    return bool(ok)


def one_line_warnings() -> None:
    """Print warnings as ``rnnkit: warning: <message>`` (e.g. the compiled kernel falling back)."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        print(f"rnnkit: warning: {text.removeprefix('rnnkit: ')}", file=file or sys.stderr)

    warnings.showwarning = show
