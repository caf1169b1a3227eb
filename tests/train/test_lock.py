"""The run-directory lock: one holder, a live one refuses in one line, a dead one's lock is taken
over, released on every exit path, never through a symlink (issue 12, item 6)."""

import json
import os
import subprocess
import sys

import pytest

from rnnkit.train.lock import LOCK_NAME, RunDirectoryBusy, RunLock


def test_a_second_holder_is_refused_in_one_line_naming_the_first(tmp_path):
    with RunLock(tmp_path / "run"):
        record = json.loads((tmp_path / "run" / LOCK_NAME).read_text())
        assert record["pid"] == os.getpid() and record["host"] and record["since"]
        with pytest.raises(RunDirectoryBusy) as e, RunLock(tmp_path / "run"):
            pass
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"run directory: {tmp_path / 'run'} is in use by rnnkit process {os.getpid()} (since ")
    assert "expected one run per directory" in message
    assert not (tmp_path / "run" / LOCK_NAME).exists()


def test_another_process_is_refused_while_the_lock_is_held(tmp_path):
    probe = (
        "import sys\nfrom rnnkit.train.lock import RunLock, RunDirectoryBusy\n"
        "try:\n    RunLock(sys.argv[1]).__enter__()\nexcept RunDirectoryBusy as e:\n    print(e); sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with RunLock(tmp_path):
        held = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, env=env)
    assert held.returncode == 3 and f"in use by rnnkit process {os.getpid()}" in held.stdout
    free = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, env=env)
    assert free.returncode == 0, free.stdout + free.stderr


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_stale_lock_of_a_dead_process_is_taken_over_and_said(tmp_path):
    stale = {"pid": dead_pid(), "host": "here", "since": "yesterday", "command": "rnnkit train"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(stale) + "\n")
    killed_save = tmp_path / f".best.safetensors.{stale['pid']}.0badc0de.tmp"
    killed_save.write_bytes(b"half a checkpoint")
    said = []
    with RunLock(tmp_path, log=said.append) as lock:
        assert lock.previous == stale
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert said == [
        f"run directory: took over the stale lock of rnnkit process {stale['pid']} (since yesterday), "
        "which is no longer running"
    ]
    assert not (tmp_path / LOCK_NAME).exists() and not killed_save.exists()


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt(), OSError(28, "full")])
def test_the_lock_is_released_on_every_exit_path(tmp_path, error):
    with pytest.raises(type(error)), RunLock(tmp_path):
        raise error
    assert not (tmp_path / LOCK_NAME).exists()
    with RunLock(tmp_path):  # free again
        pass


def test_a_directory_the_lock_created_is_removed_if_nothing_was_written(tmp_path):
    with RunLock(tmp_path / "a" / "run"):
        pass
    assert not (tmp_path / "a" / "run").exists()
    with RunLock(tmp_path / "kept"):
        (tmp_path / "kept" / "latest.safetensors").write_bytes(b"x")
    assert (tmp_path / "kept" / "latest.safetensors").exists()


def test_a_symlinked_run_directory_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "run").symlink_to(target)
    with pytest.raises(ValueError, match=r"is a symbolic link \(to .*elsewhere\); expected a real directory"):
        RunLock(tmp_path / "run").__enter__()
    assert list(target.iterdir()) == []


def test_a_symlink_planted_as_the_lock_file_is_refused_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_NAME).symlink_to(victim)
    with pytest.raises(ValueError, match="is a symbolic link, not rnnkit's lock file; expected no link there"):
        RunLock(run).__enter__()
    assert victim.read_text() == "precious"


def test_a_file_where_the_run_directory_should_be_is_refused(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    with pytest.raises(ValueError, match="is a file; expected a directory"):
        RunLock(tmp_path / "run").__enter__()
