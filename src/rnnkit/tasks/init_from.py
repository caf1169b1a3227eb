"""Fine-tuning: a new run whose weights start from another run's checkpoint (``--init-from RUN``).

    rnnkit.tasks.driver.read_init(spec, RUN)   RUN checked, of the same task -> Init
    Init.defaults(spec)           the configuration layer under the new run's --config and flags
    Init.check_kept(spec, cfg)    refuse what would change RUN's model or vocabulary (one line each)
    Init.check_run_dir(run_dir)   the new run never writes into RUN's directory
    Init.load_into(model)         RUN's weights into the built model -> the record the new run stores

RUN is a run directory (its best.safetensors, else its latest) or a checkpoint file, and is
untrusted input like every checkpoint: its header is checked before anything is built
(``rnnkit.tasks.loading.check_checkpoint``), its weights must be finite and must not change while
they are read. What the new run takes from RUN, and what is its own:

    RUN's       the weights; the model ([model]: every setting but the task's ``tunable_model``,
                dropout and the recurrent backend); the vocabulary, labels, tags and characters
                (``rnnkit.tasks.known``) and the [data] settings that define them (the task's
                ``vocab_settings``); its other [data] settings unless given (its held-out files
                excepted: they belong to RUN's data)
    its own     the data; [train] (composed as for any new run: a fresh optimiser, schedule, step
                counter, budgets and seed); its run directory (RUN is only ever read)

The new run's config records ``init_from`` = {"path": RUN's checkpoint file, "step": its step,
"weights_sha256": ``tensor_digest`` of its weights}; resuming the new run later needs RUN no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from rnnkit.checkpoint import load_checkpoint
from rnnkit.checkpoint.container import tensor_digest
from rnnkit.config import override
from rnnkit.tasks.meta import RunMeta
from rnnkit.tasks.schema import bad

#: How a few settings are spelled on the command line when not as --name-of-the-field.
_SPELLED = {"reset_after": "reset_after (--reset-before)", "mode": "mode (--line-mode)"}


@dataclass
class Init:
    """The checkpoint a fine-tuning run starts from: its file and its (checked, migrated) metadata."""

    path: Path
    meta: RunMeta

    @property
    def known(self) -> dict:
        """Its metadata as the tasks' ``prepare`` reads a vocabulary from (``rnnkit.tasks.known``)."""
        return self.meta.to_dict()

    def defaults(self, spec) -> dict:
        """{section: dataclass}: the task's defaults with RUN's [data] (but its held-out files) and
        [model] over them; [train] the task's own."""
        base = spec.defaults()
        data = {k: v for k, v in self.meta.config.get("data", {}).items() if k not in ("valid", "test")}
        return {
            "data": override(base["data"], data, "checkpoint [data]"),
            "model": override(base["model"], self.meta.model_config, "checkpoint [model]"),
            "train": base["train"],
        }

    def check_kept(self, spec, cfg: dict) -> None:
        """Refuse (one ValueError line naming them) settings of ``cfg`` that differ from RUN's
        where they would change its model or its vocabulary."""
        own = self.defaults(spec)
        model = _changes(_flat(own["model"].to_dict()), _flat(cfg["model"].to_dict()), spec.tunable_model, keep=False)
        if model:
            flags = list(
                dict.fromkeys(_flag(k) for k in spec.tunable_model)
            )  # encoder.backend, decoder.backend: one flag
            allowed = ", ".join(flags[:-1]) + " and " + flags[-1] if len(flags) > 1 else flags[0]
            raise ValueError(
                f"init-from: the model is the checkpoint's ({self.path}); expected no change to its architecture "
                f"(only {allowed} may be given), got {model}"
            )
        old = {k: getattr(own["data"], k) for k in spec.vocab_settings}
        data = _changes(old, {k: getattr(cfg["data"], k) for k in spec.vocab_settings}, spec.vocab_settings, keep=True)
        if data:
            raise ValueError(
                f"init-from: the vocabulary is the checkpoint's ({self.path}); expected none of the data settings "
                f"that define it ({', '.join(_flag(k) for k in spec.vocab_settings)}) to change, got {data}"
            )

    def check_run_dir(self, run_dir) -> None:
        if Path(run_dir).resolve() == self.path.parent.resolve():
            raise ValueError(
                f"init-from: the new run's directory {run_dir} holds {self.path.name}, the checkpoint it starts from; "
                "expected another --run-dir (fine-tuning never writes into the run it starts from)"
            )

    def load_into(self, model: nn.Module) -> dict:
        """Copy RUN's weights into ``model`` (built from the same config) and return the record
        of where they came from. Raises CheckpointError if the file changed since it was checked
        or holds non-finite weights."""
        from rnnkit.tasks.loading import check_finite_weights  # loading imports the specs

        ckpt = load_checkpoint(self.path, map_location="cpu")
        read = RunMeta.from_dict(ckpt.meta, ckpt.path)
        if (read.to_dict(), read.trainer) != (self.meta.to_dict(), self.meta.trainer):
            raise bad(self.path, "it changed while it was read", "a checkpoint that is not being replaced")
        check_finite_weights(ckpt.model_state, self.path)
        model.load_state_dict(ckpt.model_state)
        state = {k: t.contiguous() for k, t in ckpt.model_state.items()}
        step = self.meta.trainer.get("step")
        return {"path": str(self.path.resolve()), "step": step, "weights_sha256": tensor_digest(state)}


def _flat(table: dict, prefix: str = "") -> dict:
    """{"rnn": {"cell": "lstm"}} -> {"rnn.cell": "lstm"}."""
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _changes(old: dict, new: dict, keys, keep: bool) -> str:
    """The settings that differ, as flags: those in ``keys`` (``keep``) or all but those."""
    changed = [k for k in new if (k in keys) == keep and new[k] != old.get(k)]
    return ", ".join(f"{_flag(k)} {_shown(new[k])} (it has {_shown(old.get(k))})" for k in changed)


def _flag(key: str) -> str:
    leaf = key.rpartition(".")[2]
    return _SPELLED.get(leaf, "--" + leaf.replace("_", "-"))


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)
