"""Atomic saving: a failure or a SIGKILL at any moment leaves the previous checkpoint loadable."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import rnnkit.checkpoint as ckpt
from rnnkit.checkpoint import load_checkpoint, save_checkpoint


def save_version(path, step, n=64):
    return save_checkpoint(path, {"w": torch.full((n,), float(step))}, {"step": step}, rng=False)


def assert_is_version(path, step, n=64):
    ck = load_checkpoint(path)
    assert ck.meta == {"step": step} and torch.equal(ck.model_state["w"], torch.full((n,), float(step)))


def test_a_crash_mid_write_leaves_the_old_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    save_version(tmp_path / "ck", 1)

    def disk_full(fd):
        os.ftruncate(fd, os.fstat(fd).st_size // 2)  # only half the bytes reached the disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_version(tmp_path / "ck", 2)
    monkeypatch.undo()
    assert_is_version(tmp_path / "ck", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]


@pytest.mark.parametrize("error", [OSError("rename failed"), KeyboardInterrupt()])
def test_a_failing_rename_leaves_the_old_checkpoint_and_no_temp_file(tmp_path, monkeypatch, error):
    save_version(tmp_path / "ck", 1)

    def failing_replace(src, dst):
        raise error

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(type(error)):
        save_version(tmp_path / "ck", 2)
    monkeypatch.undo()
    assert_is_version(tmp_path / "ck", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]


def test_a_crash_between_the_two_renames_keeps_the_new_checkpoint(tmp_path, monkeypatch):
    save_version(tmp_path / "ck", 1)

    def sidecar_fails(path, write):
        raise OSError("killed before the sidecar")

    monkeypatch.setattr(ckpt, "atomic_write", sidecar_fails)  # only the sidecar goes through this name
    with pytest.raises(OSError):
        save_version(tmp_path / "ck", 2)
    assert_is_version(tmp_path / "ck", 2)
    assert json.loads((tmp_path / "ck.json").read_text())["meta"] == {"step": 1}  # stale, and harmless


# A fork server: it pays torch's import once, then forks one saver per round. Each saver writes a
# ~4 MB checkpoint in a loop until the test SIGKILLs it at a random moment. Threads are pinned to 1
# before anything runs, so forking is safe.
CHILD = textwrap.dedent("""
    import os, sys
    import torch
    torch.set_num_threads(1)
    from rnnkit.checkpoint import save_checkpoint
    path, n = sys.argv[1], int(sys.argv[2])
    for line in sys.stdin:
        step = int(line)
        pid = os.fork()
        if pid == 0:
            w = torch.empty(n)
            while True:
                w.fill_(float(step))
                save_checkpoint(path, {"w": w}, {"step": step}, rng=False)
                step += 1
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("dead", flush=True)
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_at_random_moments_never_breaks_the_checkpoint(tmp_path):
    path, n, kills = tmp_path / "ck", 1_000_000, 6
    save_version(path, 0, n)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    moments = random.Random(0)
    latest, saver = 0, None
    try:
        for round_ in range(1, kills + 1):
            server.stdin.write(f"{round_ * 1000}\n")
            server.stdin.flush()
            saver = int(server.stdout.readline())
            time.sleep(moments.uniform(0.02, 0.12) if round_ < kills else 0.4)  # the last lets saves finish
            os.kill(saver, signal.SIGKILL)
            assert server.stdout.readline().strip() == "dead"
            saver = None
            ck = load_checkpoint(path)  # never broken: the old version or a new one, whole
            step = ck.meta["step"]
            assert torch.equal(ck.model_state["w"], torch.full((n,), float(step)))
            assert step >= latest and (step == latest or step >= round_ * 1000)
            latest = step
            sidecar = path.with_suffix(".json")
            if sidecar.exists():  # possibly stale, but always whole JSON
                json.loads(sidecar.read_text())
    finally:
        if saver is not None:  # a failed assertion must not leave a saver running
            os.kill(saver, signal.SIGKILL)
        server.stdin.close()
        server.kill()
        server.wait()
    assert latest >= 1000, "no saver ever finished a save; the kills tested nothing"
    save_version(path, latest + 1, n)  # the next save sweeps the killed savers' temp files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]
    assert_is_version(path, latest + 1, n)


@pytest.mark.skipif(os.name != "posix", reason="pid liveness check is POSIX-only")
def test_the_next_save_removes_temp_files_of_dead_savers_only(tmp_path):
    path = tmp_path / "ck"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, live_pid = int(gone.stdout), os.getppid()
    dead = tmp_path / f".ck.safetensors.{dead_pid}.0a1b2c3d.tmp"
    live = tmp_path / f".ck.safetensors.{live_pid}.0a1b2c3d.tmp"  # a save in progress elsewhere: keep it
    other = tmp_path / f".other.{dead_pid}.0a1b2c3d.tmp"  # another file's: not ours to judge here
    for f in (dead, live, other):
        f.write_bytes(b"partial")
    save_version(path, 1)
    assert not dead.exists() and live.exists() and other.exists()
    assert_is_version(path, 1)
