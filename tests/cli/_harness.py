"""Running ``rnnkit`` in-process for the CLI tests: exit code, stdout, stderr; and the error contract."""

from __future__ import annotations

import contextlib
import io
import sys

import torch

from rnnkit.cli.main import main


def cli(*argv, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``rnnkit ARGV`` in-process on one thread: (exit code, stdout, stderr), argparse's exits included."""
    out, err, threads, saved = io.StringIO(), io.StringIO(), torch.get_num_threads(), sys.stdin
    torch.set_num_threads(1)
    sys.stdin = io.StringIO(stdin or "")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:
            code = e.code
        finally:
            sys.stdin = saved
            torch.set_num_threads(threads)
    return code, out.getvalue(), err.getvalue()


def ok(*argv, stdin: str | None = None) -> str:
    """Run and require success (exit 0, no traceback); returns stdout."""
    code, out, err = cli(*argv, stdin=stdin)
    assert code == 0, err
    assert "Traceback" not in err
    return out


def assert_error(result, *fragments) -> str:
    """Exit code 2 and exactly one line on stderr, "rnnkit: error: ...", containing every fragment."""
    code, _, err = result
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("rnnkit: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
