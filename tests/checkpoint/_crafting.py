"""Crafting hostile checkpoints: edits of a real file that are signed again (the checksums are
unkeyed, so anyone can), and raw header edits that are not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from safetensors.torch import save as save_safetensors

from rnnkit.checkpoint.container import _document_digest, _dumps, read_container, tensor_digest


def resign(path: Path, edit: Callable[[dict, dict], None]) -> None:
    """Rewrite ``path`` after ``edit(doc, tensors)`` (the rnnkit document, the tensors by stored name,
    aliases left out), with both checksums recomputed: a file that passes every integrity check."""
    doc, tensors = read_container(path)
    for alias in doc["aliases"]:
        tensors.pop(alias)
    edit(doc, tensors)
    doc["aliases"] = {a: t for a, t in doc["aliases"].items() if t in tensors}
    doc["tensors_sha256"] = tensor_digest(tensors)
    doc["sha256"] = _document_digest(doc)
    path.write_bytes(save_safetensors(tensors, metadata={"rnnkit": _dumps(doc)}))


def edit_meta(edit: Callable[[dict], None]) -> Callable[[dict, dict], None]:
    """An edit of the user meta (as stored: plain JSON, codec tags included)."""
    return lambda doc, tensors: edit(doc["meta"])


def edit_header(path: Path, edit: Callable[[dict], None], data: bytes | None = None) -> None:
    """Rewrite the safetensors header JSON (not re-signed: the tensor entries are not in the document)."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    edit(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + (raw[8 + n :] if data is None else data))


def resign_header(path: Path, edit: Callable[[dict, dict], None]) -> int:
    """Edit the header and the document inside it together (``edit(header, doc)``), the document
    signed again; returns where the tensor data starts."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    doc = json.loads(header["__metadata__"]["rnnkit"])
    edit(header, doc)
    doc["sha256"] = _document_digest(doc)
    header["__metadata__"]["rnnkit"] = _dumps(doc)
    text = json.dumps(header, separators=(",", ":")).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n :])
    return 8 + len(text)


def at(path: str, value) -> Callable[[dict], None]:
    """Set the dotted ``path`` of the meta (``"model.config.rnn.hidden_size"``) to ``value``."""
    *parents, last = path.split(".")

    def edit(meta: dict) -> None:
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def drop(path: str) -> Callable[[dict], None]:
    """Remove the dotted ``path`` of the meta."""
    *parents, last = path.split(".")

    def edit(meta: dict) -> None:
        node = meta
        for key in parents:
            node = node[key]
        del node[last]

    return edit
