"""The schema of a run's checkpoint metadata: a checkpoint is untrusted input.

Its checksums are unkeyed (anyone can edit the JSON document and sign it again), so every field a
loader reads is checked here, after ``migrate`` and before anything is built, and a bad one is one
CheckpointError line: ``checkpoint: FILE: <field> ...; expected ...``.

    task           a str (the registry checks the name)
    model          {"kind": a kind of ``rnnkit.models.MODEL_KINDS``, "config": a dict}
    vocab          a dict (its form is checked by ``vocab_from_dict`` when it is read)
    config         {"data": dict, "model": dict, "train": dict, "source": [str, ...], "task": str
                   (absent in rnnkit 0.1), "source_digests": [{"path": str, "size": int >= 0,
                   "sha256": 64 hex digits}, ...] (optional), "init_from": {"path": str, "step":
                   int >= 0 or None, "weights_sha256": 64 hex digits} (a fine-tuned run; optional)}:
                   each may be absent in a RunMeta built through the API; ``check_complete``
                   requires them (or {})
    labels, tags   lists of distinct str (classify; tag)
    chars          a dict (tag: the character vocabulary)
    step, epoch, index          ints >= 0              (the trainer's entries, when present)
    best_score, best_tiebreak_loss   numbers or None
    monitor        a str;  loss_guard: an object of numbers (or None);  eval: an object

``check_sizes`` then ties the model config to what the metadata holds (vocab_size to the
vocabulary, num_classes to the labels, num_tags to the tags, char_vocab_size to the characters).
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.checkpoint import CheckpointError

_SHA256 = re.compile(r"[0-9a-f]{64}")


def bad(where: str | Path, what: str, expected: str) -> CheckpointError:
    """The one-line error for a checkpoint field."""
    return CheckpointError(f"checkpoint: {where}: {what}; expected {expected}")


def check_meta(meta, where: str | Path) -> None:
    """Raise CheckpointError unless the (migrated) metadata ``meta`` has the schema above."""
    if not isinstance(meta, dict):
        raise bad(where, f"its metadata is a {type(meta).__name__}", "a JSON object written by rnnkit train")
    model = meta.get("model")
    if not isinstance(model, dict) or "kind" not in model:
        raise CheckpointError(f"checkpoint: {where} has no model description; expected one written by rnnkit train")
    missing = [k for k in ("task", "vocab", "config") if k not in meta]
    if missing:
        raise CheckpointError(f"checkpoint: {where} has no {', '.join(missing)}; expected one written by rnnkit train")
    _typed(where, "task", meta["task"], str, "a task name")
    _typed(where, "model.kind", model["kind"], str, "a model kind")
    _typed(where, "model.config", model.get("config"), dict, "the model's config as an object")
    _typed(where, "vocab", meta["vocab"], dict, "the vocabulary as an object")
    check_run_config(meta["config"], where)
    for key in ("labels", "tags"):
        if key in meta:
            _names(where, key, meta[key])
    if "chars" in meta:
        _typed(where, "chars", meta["chars"], dict, "the character vocabulary as an object")
    _check_trainer(meta, where)


def check_run_config(config, where: str | Path) -> None:
    """The stored run configuration's shape (each section's keys are checked where it is read)."""
    _typed(where, "config", config, dict, "the run configuration as an object")
    for section in ("data", "model", "train"):
        if section in config:
            _typed(where, f"config.{section}", config[section], dict, f"the [{section}] table as an object")
    source = config.get("source", [])
    if not (isinstance(source, list) and all(isinstance(s, str) for s in source)):
        raise bad(where, f"config.source is {source!r:.80}", "a list of file paths")
    if "task" in config:
        _typed(where, "config.task", config["task"], str, "a task name")
    if "source_digests" in config:
        digests = config["source_digests"]
        _typed(where, "config.source_digests", digests, list, 'a list of {"path", "size", "sha256"} objects')
        for i, d in enumerate(digests):
            if not _shaped(d, _DIGEST):
                raise bad(
                    where,
                    f"config.source_digests[{i}] is {d!r:.80}",
                    '{"path": str, "size": int >= 0, "sha256": 64 lowercase hex digits}',
                )
    if "init_from" in config and not _shaped(config["init_from"], _INIT_FROM):
        raise bad(
            where,
            f"config.init_from is {config['init_from']!r:.80}",
            '{"path": str, "step": int >= 0 or null, "weights_sha256": 64 lowercase hex digits}',
        )


def check_complete(config: dict, where: str | Path) -> None:
    """A run configuration that can be evaluated and resumed: every section (an empty one is what the
    API saves without a run configuration; ``check_run_config`` checked the types)."""
    missing = [k for k in ("data", "model", "train", "source") if k not in config]
    if config and missing:
        raise bad(where, f"config has no {', '.join(missing)}", "the run configuration rnnkit train stored")


def check_sizes(model_config, vocab, meta: dict, where: str | Path) -> None:
    """The model config's sizes against the vocabulary and the labels / tags / characters stored beside it."""
    pairs = [("vocab_size", len(vocab), "the vocabulary's size")] if getattr(model_config, "vocab_size", 0) else []
    if getattr(model_config, "task", None) == "classify" and "labels" in meta:
        pairs.append(("num_classes", max(2, len(meta["labels"])), "the number of labels (at least 2)"))
    if hasattr(model_config, "num_tags") and "tags" in meta:
        pairs.append(("num_tags", len(meta["tags"]), "the number of tags"))
    for name, want, what in pairs:
        got = getattr(model_config, name)
        if got != want:
            raise bad(where, f"model.config {name} is {got}", f"{want}, {what}")


def check_chars(model_config, chars, where: str | Path) -> None:
    """A tagger's char_vocab_size against its stored character vocabulary (when it reads characters)."""
    if chars is not None and model_config.char_vocab_size != len(chars):
        raise bad(
            where,
            f"model.config char_vocab_size is {model_config.char_vocab_size}",
            f"{len(chars)}, the character vocabulary's size",
        )


def check_translation(model_config, target_vocab, source_vocab, where: str | Path) -> None:
    """A translator's vocabulary sizes and special ids against its two stored vocabularies."""
    for name, vocab, what in (("target", target_vocab, "vocab"), ("source", source_vocab, "source_vocab")):
        size = getattr(model_config, f"{name}_vocab_size")
        if size != len(vocab):
            raise bad(where, f"model.config {name}_vocab_size is {size}", f"{len(vocab)}, the size of its {what}")
    for special in ("pad", "bos", "eos"):
        stored, expected = getattr(model_config, f"{special}_id"), getattr(target_vocab, f"{special}_id")
        if stored != expected:
            raise bad(where, f"model.config {special}_id is {stored}", f"{expected}, the vocabulary's <{special}>")


def check_segmenters(segmenters, where: str | Path) -> None:
    """A translator's stored segmenters: {"source", "target"}, each one ``segmenter_from_dict`` reads."""
    from rnnkit.data.segment import segmenter_from_dict

    if not isinstance(segmenters, dict) or set(segmenters) != {"source", "target"}:
        raise bad(where, "segmenters is not an object of 'source' and 'target'", "both sides' segmenters")
    for side in ("source", "target"):
        try:
            segmenter_from_dict(segmenters[side])
        except ValueError as e:
            raise bad(where, f"segmenters.{side}: {' '.join(str(e).split())}", "a segmenter rnnkit wrote") from None


def _check_trainer(meta: dict, where: str | Path) -> None:
    for key in ("step", "epoch", "index"):
        if key in meta and not _count(meta[key]):
            raise bad(where, f"{key} is {meta[key]!r:.80}", "an integer >= 0")
    for key in ("best_score", "best_tiebreak_loss"):
        if key in meta and not (meta[key] is None or _number(meta[key])):
            raise bad(where, f"{key} is {meta[key]!r:.80}", "a number or null")
    if "monitor" in meta:
        _typed(where, "monitor", meta["monitor"], str, "a metric name")
    guard = meta.get("loss_guard", {})
    if not (isinstance(guard, dict) and all(v is None or _number(v) for v in guard.values())):
        raise bad(where, f"loss_guard is {guard!r:.80}", "an object of numbers")
    if "eval" in meta:
        _typed(where, "eval", meta["eval"], dict, "an object of metrics")


def _names(where, key: str, value) -> None:
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise bad(where, f"{key} is {value!r:.80}", "a list of names (str)")
    if len(set(value)) != len(value):
        raise bad(where, f"{key} repeats a name", f"distinct {key}")


def _typed(where, name: str, value, kind: type, expected: str) -> None:
    if not isinstance(value, kind):
        raise bad(where, f"{name} is a {type(value).__name__} ({value!r:.60})", expected)


def _count(value) -> bool:
    return type(value) is int and value >= 0


def _sha256(value) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def _shaped(value, fields: dict) -> bool:
    """``value`` is an object with exactly the keys of ``fields``, each value passing its check."""
    return isinstance(value, dict) and set(value) == set(fields) and all(ok(value[k]) for k, ok in fields.items())


#: The records of a run's config: a source file's digest, and where a fine-tuned run started.
_DIGEST = {"path": lambda v: isinstance(v, str), "size": _count, "sha256": _sha256}
_INIT_FROM = {"path": lambda v: isinstance(v, str), "step": lambda v: v is None or _count(v), "weights_sha256": _sha256}


def _number(value) -> bool:
    return type(value) in (int, float)
