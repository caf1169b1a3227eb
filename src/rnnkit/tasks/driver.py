"""The one run driver: train a new run or resume one, the same way for every task.

    train(spec, cfg, sources, run_dir, log)        a new run from resolved configs
    train(..., init=read_init(spec, RUN))          a new run fine-tuned from RUN's weights
    resume(spec, run_dir, train_changes, log)      continue a run from its latest checkpoint

All come down to ``_drive``: device and seed, the task's data, vocabulary check (resume), model
and trainer Task, the Trainer (checkpoints, metrics, curves, exact resume), the start or resume
line (and the warning when many validation tokens are <unk>), ``fit``, the summary line and the
task's report. ``_drive`` takes where the weights start from (``Start``): fresh, the run's own
latest checkpoint, or another run's checkpoint (fine-tuning, ``rnnkit.tasks.init_from``: RUN's
weights and vocabulary, the new run's own optimiser, schedule, step counter and directory). A
fine-tuned run stores its vocabulary and where it started (``init_from`` in its config), so its
resume reads its data with that vocabulary and needs nothing of RUN.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from rnnkit.checkpoint import Checkpoint, load_checkpoint, read_meta
from rnnkit.config import override
from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.tasks.init_from import Init
from rnnkit.tasks.known import KEY as INIT_KEY
from rnnkit.tasks.known import inherited, unknown_note
from rnnkit.tasks.meta import RunMeta, migrate
from rnnkit.tasks.spec import Finished, Log, TaskSpec
from rnnkit.train import Trainer, TrainingInterrupted, resolve_device, seed_everything
from rnnkit.train.changes import check_changes
from rnnkit.train.lock import RunLock

SECTIONS = ("data", "model", "train")


@dataclass
class Start:
    """Where a run's weights and training state come from: ``resume_from`` (a run's own
    checkpoint, every state restored), ``init`` (another run's weights only: fine-tuning) or
    nothing (fresh weights)."""

    resume_from: Path | None = None
    stored: RunMeta | None = None  # the checkpoint's metadata (its data must match)
    changed: tuple[str, ...] = ()  # the [train] settings given anew on resume (rnnkit.train.changes)
    init: Init | None = None

    @property
    def known(self) -> dict | None:
        """The metadata whose vocabulary the data is read with (None: built from the data)."""
        if self.init is not None:
            return self.init.known
        return inherited(self.stored.to_dict()) if self.stored is not None else None


def train(
    spec: TaskSpec,
    cfg: dict,
    sources: list[str],
    run_dir: Path,
    log: Log,
    progress: bool = True,
    options=None,
    init: Init | None = None,
) -> dict:
    """A new run of ``spec`` with the resolved configs ``cfg`` ({section: dataclass}, validated);
    with ``init`` (``read_init``), fine-tuned from that checkpoint's weights (``cfg`` composed over
    ``init.defaults``, checked by ``init.check_kept``)."""
    if init is not None:
        init.check_kept(spec, cfg)
        init.check_run_dir(run_dir)
    return _drive(spec, cfg, list(sources), Path(run_dir), Start(init=init), log, progress, options or {})


def read_init(spec: TaskSpec, path) -> Init:
    """The checkpoint ``path`` names (a run directory: its best, else its latest), checked from its
    header, as the start of a fine-tuning run of ``spec``: a run of another task is refused."""
    from rnnkit.tasks.loading import check_checkpoint  # loading imports the registry, which imports the specs

    where = resolve_checkpoint(path)
    meta = check_checkpoint(where)
    if meta.task != spec.name:
        raise ValueError(_other_task(meta.task, Path(path), "init-from"))
    return Init(where, meta)


def stored_run(run_dir: Path) -> RunMeta:
    """The metadata of the latest checkpoint in ``run_dir``, migrated."""
    from rnnkit.tasks.loading import check_checkpoint  # loading imports the registry, which imports the specs

    return check_checkpoint(Path(run_dir) / "latest.safetensors")


def resume(spec: TaskSpec, run_dir: Path, train_changes: dict, log: Log, progress: bool = True, options=None) -> dict:
    """Continue the run in ``run_dir`` from its latest checkpoint; ``train_changes`` override its
    [train] settings (budgets, learning rate, ...: each applied or refused, see
    ``rnnkit.train.changes``); data and model are the checkpoint's."""
    run_dir = Path(run_dir)
    stored = stored_run(run_dir)
    if stored.task != spec.name:
        raise ValueError(_other_task(stored.task, run_dir))
    defaults = spec.defaults()
    cfg = {s: override(defaults[s], stored.config[s], f"checkpoint [{s}]") for s in SECTIONS}
    check_changes(cfg["train"], train_changes)
    cfg["train"] = override(cfg["train"], train_changes, "flags").validate()
    start = Start(resume_from=run_dir / "latest.safetensors", stored=stored, changed=tuple(train_changes))
    return _drive(spec, cfg, stored.sources, run_dir, start, log, progress, options or {})


def _drive(
    spec: TaskSpec, cfg: dict, sources: list[str], run_dir: Path, start: Start, log: Log, progress: bool, options
) -> dict:
    """The whole run holds ``run_dir``'s lock (rnnkit.train.lock): a second run is refused in one
    line, and the lock is released on every exit path. A file that cannot be written (a full disk,
    a read-only or vanished directory, a quota) stops the run with one line saying what was kept."""
    with RunLock(run_dir, log):
        if start.resume_from is None and (run_dir / "latest.safetensors").exists():  # a run that finished meanwhile
            raise ValueError(
                f"run directory: {run_dir} already holds a checkpoint; expected a new directory (--run-dir) "
                f"or --resume {run_dir}"
            )
        device = resolve_device(cfg["train"].device)
        seed_everything(cfg["train"].seed)
        data = spec.prepare(cfg, sources, start.known)
        if start.stored is not None:
            spec.check_same_data(data, start.stored, sources)
        built = spec.build(cfg, data, device)
        record = start.init.load_into(built.model) if start.init is not None else None
        meta = spec.meta(cfg, built, data, sources)
        if record is not None or (start.stored is not None and INIT_KEY in start.stored.config):
            meta.config[INIT_KEY] = record or start.stored.config[INIT_KEY]
        trainer = Trainer(built.model, built.task, cfg["train"], run_dir, meta.to_dict(), log=log, progress=progress)
        if start.resume_from is not None:
            from rnnkit.tasks.loading import check_finite_weights

            ckpt = load_checkpoint(start.resume_from, map_location=device)
            check_finite_weights(ckpt.model_state, start.resume_from)  # a diverged run's weights: one line
            trainer.resume(_migrated(ckpt), start.changed)
            log(f"resuming {run_dir} at step {trainer.step} (epoch {trainer.epoch})")
        else:
            if record is not None:
                log(_fine_tuning(start.init.path, record))
            log(f"{spec.description(cfg, built, data)} on {device}; run directory {run_dir}")
            notes = [unknown_note(*spec.unknown_tokens(data, "train"), "tokens")] if record is not None else []
            for line in [*notes, spec.unknown_warning(cfg, data, fine_tuning=record is not None)]:
                if line:
                    log(line)
        try:
            summary = trainer.fit()
        except OSError as e:
            raise OSError(e.errno, _write_failed(e, trainer.latest_path)) from None
        except TrainingInterrupted as e:  # Ctrl-C: the message names this task's command
            raise e.continue_with(f"{spec.verb} --resume {shlex.quote(str(run_dir))}") from None
        log(
            f"stopped: {summary['stopped']} at step {summary['step']}; "
            f"{spec.best_text(summary['best_score'], cfg, data)}; checkpoints in {run_dir}"
        )
        try:
            spec.report(Finished(run_dir, cfg, sources, data, device, options), log)
        except OSError as e:  # e.g. a confusion PNG on a disk that filled after the last checkpoint
            raise OSError(e.errno, _write_failed(e, trainer.latest_path, during="report")) from None
    return summary


def _write_failed(error: OSError, latest: Path, during: str = "training stopped") -> str:
    """One line for an OSError while a run saves (ENOSPC, EDQUOT, EROFS, EACCES, ...): what failed,
    and the checkpoint that is kept (every save is atomic, so the last one that completed is whole)."""
    what = error.strerror or str(error)
    where = f" {error.filename}" if error.filename else ""
    try:
        kept = f"the last good checkpoint is kept at {latest} (step {read_meta(latest)['step']})"
    except (ValueError, OSError, KeyError):
        kept = "no checkpoint was written"
    then = ", then --resume" if during == "training stopped" else ""
    return f"{during}: could not write{where} ({what}); {kept}; free space or fix the directory{then}"


def _fine_tuning(path: Path, record: dict) -> str:
    step = "" if record["step"] is None else f"step {record['step']}, "
    return (
        f"init-from: the weights of {path} ({step}sha256 {record['weights_sha256'][:12]}); a fresh optimiser, "
        "schedule and step count"
    )


def _migrated(ckpt: Checkpoint) -> Checkpoint:
    ckpt.meta = migrate(ckpt.meta, ckpt.path)
    return ckpt


def _other_task(task: str, run_dir: Path, action: str = "resume") -> str:
    """The refusal of resuming (or fine-tuning from, ``action`` "init-from") ``run_dir``, a run of
    ``task``, with another task's verb."""
    from rnnkit.tasks.registry import TASKS

    if task not in TASKS:
        return f"{action}: {run_dir} holds a run of the task {task!r}; expected one of {', '.join(TASKS)}"
    spec = TASKS[task]
    if action == "resume":
        return f"resume: {run_dir} holds a {spec.title} run; resume it with `{spec.verb} --resume {run_dir}`"
    return f"{action}: {run_dir} holds a {spec.title} run; fine-tune it with `{spec.verb} DATA --init-from {run_dir}`"
