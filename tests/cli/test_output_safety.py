"""Nothing rnnkit writes goes through a symlink it did not create, every file is replaced whole
(a reader or a second writer never sees half of one), and a full disk, a quota or a read-only
directory stops a run with one line that says which checkpoint is kept (issue 12, items 1 and 7)."""

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.checkpoint.atomic import atomic_file, atomic_write
from rnnkit.train.metrics import MetricsLog, plot_curves

from ._harness import assert_error, cli, ok
from ._runs import TINY, files

VICTIM = b"precious: never to be written by rnnkit\n"


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_bytes(VICTIM)
    return path


def plant(link: Path, target: Path) -> Path:
    if link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to(target)
    return link


def assert_untouched(victim: Path, *links: Path) -> None:
    assert victim.read_bytes() == VICTIM
    for link in links:
        assert not link.is_symlink(), f"{link} is still the planted link"


def no_temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.tmp*"))


def assert_stopped(result, *fragments) -> str:
    """A run that started and then could not write: its log lines, then ONE error line, exit 2."""
    code, _, err = result
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err, err
    assert [line for line in lines if line.startswith("rnnkit:")] == lines[-1:], err
    return assert_error((code, "", lines[-1]), *fragments)


def resume(run: Path, steps: int = 8):
    return cli("train", "--resume", run, "--max-steps", steps, "--sample-length", 0, "--no-progress")


# ----- 1. symlinks: every output of a run ------------------------------------------------------------
RUN_OUTPUTS = ["metrics.jsonl", "config.json", "curves.png", "curves.tmp.png", "latest.json", "best.json"]


@pytest.mark.parametrize("name", RUN_OUTPUTS)
def test_resume_never_writes_through_a_symlink_in_the_run_directory(copied_run, victim, name):
    link = plant(copied_run / name, victim)
    code, _, err = resume(copied_run)
    assert code == 0, err
    assert_untouched(victim, *([link] if name != "curves.tmp.png" else []))
    assert read_meta(copied_run / "latest.safetensors")["step"] == 8
    if name == "metrics.jsonl":  # not read through the link either: the history starts afresh
        assert all(json.loads(line) for line in link.read_text().splitlines())


def test_a_new_run_never_writes_through_links_planted_in_its_directory(data_dir, tmp_path, victim):
    run = tmp_path / "new"
    run.mkdir()
    links = [plant(run / name, victim) for name in RUN_OUTPUTS]
    budget = ["--max-steps", 4, "--eval-every", 2, "--sample-length", 0]
    ok("train", data_dir / "corpus.txt", "--run-dir", run, *budget, *TINY)
    assert_untouched(victim, *links[:3], *links[4:])
    assert load_checkpoint(run / "latest.safetensors").meta["step"] == 4


def test_a_link_planted_in_the_middle_of_a_run_is_refused_not_followed(tmp_path, victim):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.append({"kind": "train", "step": 1, "train_loss": 2.0})
    plant(tmp_path / "metrics.jsonl", victim)
    with pytest.raises(OSError) as e:
        log.append({"kind": "train", "step": 2, "train_loss": 1.5})
    assert e.value.errno == errno.ELOOP
    assert_untouched(victim)
    plot_curves(log.records, plant(tmp_path / "curves.png", victim))
    assert_untouched(victim, tmp_path / "curves.png")


def test_visualize_replaces_a_symlink_at_its_output(copied_run, victim, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on a mat\n")
    default = plant(copied_run / "visualize.html", victim)
    ok("visualize", copied_run, "--text", text)
    out = plant(tmp_path / "page.html", victim)
    ok("visualize", copied_run, "--text", text, "--out", out)
    assert_untouched(victim, default, out)
    assert "<html" in out.read_text().lower()


def test_diagnose_replaces_symlinks_at_its_outputs(copied_run, victim, tmp_path):
    out = tmp_path / "flow"
    out.mkdir()
    links = [plant(out / name, victim) for name in ("gradient_flow.csv", "gradient_flow.png")]
    ok("diagnose", copied_run, "--out", out, "--steps", 5, "--batch-size", 2, "--jacobian-examples", 1)
    assert_untouched(victim, *links)
    assert out.joinpath("gradient_flow.csv").read_text().startswith("model,")


def test_confusion_plots_replace_symlinks(tmp_path, victim):
    from rnnkit.infer.metrics import plot_confusion

    link = plant(tmp_path / "confusion_test.png", victim)
    plot_confusion([[3, 1], [0, 2]], ["a", "b"], link)
    assert_untouched(victim, link)
    assert link.read_bytes().startswith(b"\x89PNG")


# ----- 1. the one writer: atomic, never a mix ------------------------------------------------------
def test_atomic_write_replaces_links_and_dangling_links(tmp_path, victim):
    link = plant(tmp_path / "out.txt", victim)
    atomic_write(link, "new")
    dangling = plant(tmp_path / "dangling.txt", tmp_path / "nowhere" / "x")
    atomic_write(dangling, b"new")
    assert_untouched(victim, link, dangling)
    assert link.read_text() == "new" and not (tmp_path / "nowhere").exists()


def test_a_failed_write_leaves_the_old_file_and_names_the_target(tmp_path):
    path = tmp_path / "out.csv"
    atomic_write(path, "old")
    with pytest.raises(OSError) as e, atomic_file(path, text=True) as f:
        f.write("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert e.value.filename == str(path)
    assert path.read_text() == "old" and no_temp_files(tmp_path) == []


WRITER = textwrap.dedent("""
    import sys
    from rnnkit.checkpoint.atomic import atomic_write
    path, byte = sys.argv[1], sys.argv[2].encode()
    for _ in range(150):
        atomic_write(path, byte * 200_000)
""")


def test_two_concurrent_writers_never_produce_a_mixed_or_partial_file(tmp_path):
    path = tmp_path / "shared.bin"
    atomic_write(path, b"0" * 200_000)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), b], env=env) for b in "ab"]
    seen = set()
    while any(w.poll() is None for w in writers):
        data = path.read_bytes()
        assert len(data) == 200_000 and len(set(data)) == 1, "a mixed or partial file"
        seen.add(data[:1])
    assert [w.wait() for w in writers] == [0, 0]
    assert no_temp_files(tmp_path) == [] and seen


# ----- 7. full disk, quota, read-only: one line, what was kept, nothing damaged -------------------
def fail_writes(monkeypatch, fragment: str, code: int) -> None:
    """Every fsync and os.write to a file whose name holds ``fragment`` fails with ``code`` after
    cutting the file short (the bytes that did not fit)."""
    real_fsync, real_write = os.fsync, os.write

    def name(fd):
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return ""

    def fsync(fd):
        if fragment in name(fd):
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            raise OSError(code, os.strerror(code))
        return real_fsync(fd)

    def write(fd, data):
        if fragment in name(fd):
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "write", write)


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd to name an fd")


@needs_proc
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES])
@pytest.mark.parametrize(
    "fragment", ["latest.safetensors", "best.safetensors", "latest.json", "metrics.jsonl", "curves.png", "config.json"]
)
def test_a_failing_save_is_one_line_keeps_every_checkpoint_and_no_temp_file(copied_run, monkeypatch, fragment, code):
    before = {name: data for name, data in files(copied_run).items() if name.endswith(".safetensors")}
    fail_writes(monkeypatch, fragment, code)
    line = assert_stopped(resume(copied_run, steps=12), "training stopped: could not write", os.strerror(code))
    monkeypatch.undo()
    latest = read_meta(copied_run / "latest.safetensors")["step"]
    assert f"the last good checkpoint is kept at {copied_run / 'latest.safetensors'} (step {latest})" in line
    assert no_temp_files(copied_run) == []
    for name, data in before.items():  # each checkpoint is the old one, or a whole newer one
        ck = load_checkpoint(copied_run / name)
        assert files(copied_run)[name] == data or ck.meta["step"] > 6
    assert not (copied_run / ".rnnkit.lock").exists()
    code, _, err = resume(copied_run, steps=12)  # and the run goes on once the disk is fixed
    assert code == 0, err


def test_a_new_run_on_a_full_disk_says_no_checkpoint_was_written(data_dir, tmp_path, monkeypatch):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to name an fd")
    fail_writes(monkeypatch, "safetensors", errno.ENOSPC)
    run = tmp_path / "r"
    assert_stopped(
        cli("train", data_dir / "corpus.txt", "--run-dir", run, "--max-steps", 3, *TINY),
        "No space left on device",
        "no checkpoint was written",
    )
    monkeypatch.undo()
    assert not list(run.glob("*.safetensors")) and no_temp_files(run) == []


# ----- 7. a real small file system (tmpfs) ----------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MiB tmpfs at tmp_path/fs (needs root and CAP_SYS_ADMIN; skipped with the reason otherwise)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path, leave: int) -> Path:
    """Fill the file system of ``directory`` until at most ``leave`` bytes are free."""
    filler = directory / "filler"
    with open(filler, "wb") as f:
        while True:
            free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
            if free <= leave:
                break
            try:
                f.write(b"\0" * min(free - leave, 1 << 16))
                f.flush()
            except OSError:
                break
    return filler


@pytest.mark.parametrize("leave", [0, 20_000, 45_000])
def test_a_real_full_disk_is_one_line_and_damages_nothing(run, tmpfs, leave):
    import shutil

    copy = Path(shutil.copytree(run, tmpfs / "run"))
    before = files(copy)
    filler = fill(tmpfs, leave)
    line = assert_stopped(resume(copy, steps=60), "No space left on device")
    assert "the last good checkpoint is kept at" in line, line
    assert no_temp_files(copy) == []
    for name in ("latest.safetensors", "best.safetensors"):
        ck = load_checkpoint(copy / name)  # whole: the old one, or a newer one that fitted
        assert (copy / name).read_bytes() == before[name] or ck.meta["step"] > 6
    filler.unlink()
    code, _, err = resume(copy, steps=60)
    assert code == 0, err
    assert read_meta(copy / "latest.safetensors")["step"] == 60


def test_a_read_only_run_directory_is_one_line(run, tmpfs):
    import shutil

    copy = Path(shutil.copytree(run, tmpfs / "run"))
    before = files(copy)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert_error(resume(copy), "run directory: cannot lock", "Read-only file system", "expected a writable directory")
    assert files(copy) == before


# ----- more hostile outputs: one line, exit 2, nothing damaged ----------------------------------------
def _visualize(run, tmp_path, out):
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on a mat\n")
    return ["visualize", run, "--text", text, "--out", out]


def _a_directory(tmp_path):
    (tmp_path / "adir").mkdir()
    return tmp_path / "adir"


def _a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile"


HOSTILE = {
    "visualize --out an existing directory": (
        lambda run, tmp: _visualize(run, tmp, _a_directory(tmp)),
        "Is a directory",
    ),
    "visualize --out under a file": (lambda run, tmp: _visualize(run, tmp, _a_file(tmp) / "page.html"), "afile"),
    "diagnose --out a file": (
        lambda run, tmp: ["diagnose", run, "--out", _a_file(tmp), "--steps", 5, "--batch-size", 2],
        "afile",
    ),
    "train --run-dir a dangling symlink": (
        lambda run, tmp: ["train", run / "x.txt", "--run-dir", plant(tmp / "dl", tmp / "gone"), *TINY],
        "is a symbolic link",
    ),
    "train --resume with a FIFO as the lock file": (
        lambda run, tmp: (os.mkfifo(run / ".rnnkit.lock"), ["train", "--resume", run, "--no-progress"])[1],
        "is not a regular file; expected rnnkit's lock file",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_outputs_are_one_line_and_damage_nothing(copied_run, tmp_path, victim, case):
    make, fragment = HOSTILE[case]
    argv = make(copied_run, tmp_path)
    before = {n: d for n, d in files(copied_run).items()}
    assert_error(cli(*argv), fragment)
    assert {n: d for n, d in files(copied_run).items()} == before
    assert_untouched(victim)
    assert no_temp_files(tmp_path) == []


def test_a_directory_planted_where_config_json_goes_stops_with_what_was_kept(copied_run):
    (copied_run / "config.json").unlink()
    (copied_run / "config.json").mkdir()
    before = files(copied_run)
    line = assert_stopped(resume(copied_run), "could not write", "config.json", "Is a directory")
    assert f"the last good checkpoint is kept at {copied_run / 'latest.safetensors'} (step 6)" in line
    assert files(copied_run) == before and no_temp_files(copied_run) == []


def test_hard_links_and_fifos_planted_in_a_run_are_replaced_not_written_or_waited_on(copied_run, victim):
    for name in ("config.json", "curves.png"):
        (copied_run / name).unlink()
        os.link(victim, copied_run / name)
    (copied_run / "metrics.jsonl").unlink()
    os.mkfifo(copied_run / "metrics.jsonl")  # reading it would block forever
    code, _, err = resume(copied_run)
    assert code == 0, err
    assert_untouched(victim)
    assert (copied_run / "metrics.jsonl").is_file() and metrics_kinds(copied_run) == {"train", "eval"}


def metrics_kinds(run: Path) -> set:
    return {json.loads(line)["kind"] for line in (run / "metrics.jsonl").read_text().splitlines()}


def test_a_new_run_on_a_read_only_file_system_is_one_line_and_leaves_nothing(data_dir, tmpfs):
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert_error(
        cli("train", data_dir / "corpus.txt", "--run-dir", tmpfs / "new", "--max-steps", 2, *TINY),
        "Read-only file system",
    )
    assert list(tmpfs.iterdir()) == []


@needs_proc
def test_a_report_that_cannot_be_written_says_the_checkpoints_are_kept(tmp_path, monkeypatch):
    rows = [("good fine great" if i % 2 else "bad awful poor", "pos" if i % 2 else "neg") for i in range(80)]
    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"{text}\t{label}\n" for text, label in rows))
    fail_writes(monkeypatch, "confusion_", errno.ENOSPC)
    run = tmp_path / "clf"
    argv = ["train", "classify", data, "--hidden-size", 8, "--max-epochs", 1, "--no-progress", "--run-dir", run]
    line = assert_stopped(cli(*argv), "report: could not write", "confusion_", "No space left on device")
    assert f"the last good checkpoint is kept at {run / 'latest.safetensors'}" in line
    assert no_temp_files(run) == [] and not (run / ".rnnkit.lock").exists()
