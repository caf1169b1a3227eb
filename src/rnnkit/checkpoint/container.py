"""The checkpoint file: one safetensors container whose header metadata carries the rnnkit document.

Layout (standard safetensors, so any safetensors reader can open it):

    8 bytes      little-endian u64 N, the header length
    N bytes      JSON header: {"__metadata__": {"rnnkit": DOCUMENT}, NAME: {dtype, shape, data_offsets}, ...}
    the rest     raw little-endian tensor data

DOCUMENT is a JSON object: format_version, kind, ..., aliases, tensors_sha256, sha256. Two checksums:
tensors_sha256 covers every tensor's name, dtype, shape and bytes; sha256 covers the document itself
(which includes tensors_sha256), so read_document can vouch for the header without reading the data
and read_container vouches for everything.

safetensors writes and parses the file (safetensors.torch.save / load). This module adds the document
and its checksums, tied-weight aliases, atomic replacement (atomic.py) and a short header read of its
own: read_document must not touch the tensor data, and checking the header against the real file size
first turns every damaged file into one CheckpointError line, before anything is allocated.
read_container reads the file with a single read, so a concurrent os.replace by a trainer cannot hand
it a header from one version and data from the next.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import BinaryIO

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor

from .atomic import atomic_write

FORMAT_VERSION = 1
KIND = "rnnkit-checkpoint"
METADATA_KEY = "rnnkit"
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit

# The dtypes safetensors stores; the optional ones exist only in newer torch builds.
_STORABLE = frozenset(
    getattr(torch, name)
    for name in (
        "float64 float32 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex64 "
        "uint64 uint32 uint16 float8_e4m3fn float8_e5m2"
    ).split()
    if hasattr(torch, name)
)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, truncated, corrupted, not rnnkit's, or from another
    format version. The message is one line that names the file."""


def write_container(path: Path, tensors: dict[str, Tensor], body: dict) -> dict:
    """Write `tensors` and the JSON-compatible `body` atomically as one file; return the stored document.

    Tensors are moved to the CPU and made contiguous; names that are exact aliases of an earlier name
    (tied weights) are stored once and listed in the document's "aliases".

    Raises:
        ValueError: a tensor that safetensors cannot store (sparse, meta, unsupported dtype).
        OSError: from the file system; the previous file at `path` is then unchanged.
    """
    stored, aliases = _prepare_tensors(tensors)
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        **body,
        "aliases": aliases,
        "tensors_sha256": tensor_digest(stored),
    }
    doc["sha256"] = _document_digest(doc)
    atomic_write(path, save_safetensors(stored, metadata={METADATA_KEY: _dumps(doc)}))
    return doc


def read_document(path: Path) -> dict:
    """Read and verify only the header's rnnkit document (fast: the tensor data is not read).

    Raises:
        CheckpointError: missing, truncated, corrupted header, not rnnkit's, other format version.
    """
    with _open(path) as f:
        return _document(_header(f, os.fstat(f.fileno()).st_size, path), path)


def read_container(path: Path) -> tuple[dict, dict[str, Tensor]]:
    """Read and verify the whole file: (document, {name: CPU tensor}), aliases restored as the same object.

    The tensors are writable and own their memory (not views of the file).

    Raises:
        CheckpointError: as read_document, and tensor data that does not match its checksum.
    """
    with _open(path) as f:
        data = f.read()
    doc = _document(_header(io.BytesIO(data), len(data), path), path)
    try:
        tensors = load_safetensors(data)  # each tensor gets its own copy of its bytes
    except SafetensorError as e:
        raise _corrupted(path, e) from None
    except KeyError as e:  # a dtype safetensors knows and this torch build lacks
        raise _corrupted(path, f"dtype {e} has no torch equivalent here") from None
    if tensor_digest(tensors) != doc["tensors_sha256"]:
        raise CheckpointError(f"checkpoint: {path}: tensor data does not match its checksum; the file is corrupted")
    for alias, target in doc["aliases"].items():
        if target not in tensors:
            raise _corrupted(path, f"alias {alias!r} points at missing tensor {target!r}")
        tensors[alias] = tensors[target]
    return doc, tensors


def tensor_digest(tensors: dict[str, Tensor]) -> str:
    """sha256 over (name, dtype, shape, bytes) of CPU contiguous tensors, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        h.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode() + b"\n")
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())  # (numel * itemsize,) raw bytes, no copy
    return h.hexdigest()


# --- writing helpers -------------------------------------------------------------------------------


def _prepare_tensors(tensors: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, str]]:
    stored: dict[str, Tensor] = {}
    aliases: dict[str, str] = {}
    first_of: dict[tuple, str] = {}
    for name, t in tensors.items():
        _check_storable(name, t)
        if t.numel():  # empty tensors may all report data_ptr 0; they are never aliases
            view = (t.device, t.data_ptr(), t.dtype, tuple(t.shape), t.stride())
            if view in first_of:  # the very same view (tied weights): store once, re-tie on load
                aliases[name] = first_of[view]
                continue
            first_of[view] = name
        # On the CPU and already contiguous this is the same tensor: no copy.
        stored[name] = t.detach().to("cpu").resolve_conj().resolve_neg().contiguous()
    _unshare(stored)
    return stored, aliases


def _unshare(stored: dict[str, Tensor]) -> None:
    """safetensors refuses tensors whose memory overlaps (e.g. w and w[:2]): clone the later ones."""
    by_storage = defaultdict(list)
    for name, t in stored.items():
        if t.numel():
            by_storage[t.untyped_storage().data_ptr()].append(name)
    for names in by_storage.values():
        names.sort(key=lambda k: stored[k].data_ptr())
        end = 0
        for name in names:
            t = stored[name]
            if t.data_ptr() < end:
                stored[name] = t.clone()
            else:
                end = t.data_ptr() + t.numel() * t.element_size()


def _check_storable(name: str, t: Tensor) -> None:
    if not isinstance(t, Tensor):
        raise ValueError(f"{name}: expected a Tensor, got {type(t).__name__}")
    if t.layout != torch.strided:
        raise ValueError(f"{name}: expected a dense tensor, got layout {t.layout} (use .to_dense())")
    if t.device.type == "meta":
        raise ValueError(f"{name}: expected a tensor with data, got one on the meta device")
    if t.dtype not in _STORABLE:
        raise ValueError(
            f"{name}: expected a dtype safetensors can store "
            f"({', '.join(sorted(str(d)[6:] for d in _STORABLE))}), got {t.dtype}"
        )


def _dumps(doc: dict) -> str:
    # Compact and deterministic: json.loads then _dumps reproduces the text exactly (key order is kept,
    # floats print as their shortest round-trip repr), which is what _document_digest relies on.
    return json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def _document_digest(doc: dict) -> str:
    return hashlib.sha256(_dumps({k: v for k, v in doc.items() if k != "sha256"}).encode()).hexdigest()


# --- reading helpers -------------------------------------------------------------------------------


def _open(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint: no such file: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint: {path} is a directory; expected a checkpoint file") from None


def _corrupted(path: Path, detail: object) -> CheckpointError:
    detail = " ".join(str(detail).split())  # one line, whatever the detail contains
    return CheckpointError(
        f"checkpoint: {path} is truncated or corrupted ({detail}); expected a complete rnnkit checkpoint"
    )


def _header(f: BinaryIO, size: int, path: Path) -> dict:
    """The JSON header of the `size`-byte file `f`, its tensors' byte ranges checked to tile the rest
    of the file exactly; only the header is read."""
    if size == 0:
        raise _corrupted(path, "the file is empty")
    if size < 8:
        raise _corrupted(path, f"the file is {size} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(f.read(8), "little")
    if n > size - 8 or n > _MAX_HEADER_BYTES:
        raise _corrupted(path, f"header length {n} exceeds the {size - 8} bytes after it")
    try:
        header = json.loads(f.read(n))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise _corrupted(path, "its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _corrupted(path, f"expected a JSON object as header, got {type(header).__name__}")
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
        ):
            raise _corrupted(path, f"header entry {name!r} is malformed")
        spans.append(offsets)
    spans.sort()
    data_bytes = 0
    for begin, end in spans:  # tensors tile the data region exactly: no gaps, no overlaps
        if begin != data_bytes:
            raise _corrupted(path, f"tensor data offsets leave a gap or overlap at byte {begin}")
        data_bytes = end
    if 8 + n + data_bytes != size:
        raise _corrupted(path, f"the file is {size} bytes; its header describes {8 + n + data_bytes}")
    return header


def _document(header: dict, path: Path) -> dict:
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        raise CheckpointError(
            f"checkpoint: {path}: not an rnnkit checkpoint (its safetensors header has no {METADATA_KEY!r} metadata)"
        )
    try:
        doc = json.loads(metadata[METADATA_KEY])
    except (ValueError, TypeError):
        raise _corrupted(path, "its rnnkit document is not valid JSON") from None
    if not isinstance(doc, dict):
        raise _corrupted(path, f"expected a JSON object as rnnkit document, got {type(doc).__name__}")
    version = doc.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint: {path} has format version {version!r}; expected {FORMAT_VERSION} "
            f"(this rnnkit reads version {FORMAT_VERSION})"
        )
    if doc.get("kind") != KIND:
        raise CheckpointError(
            f"checkpoint: {path}: not an rnnkit checkpoint (expected kind {KIND!r}, got {doc.get('kind')!r})"
        )
    if doc.get("sha256") != _document_digest(doc):
        raise CheckpointError(f"checkpoint: {path}: header does not match its checksum; the file is corrupted")
    if not (isinstance(doc.get("aliases"), dict) and isinstance(doc.get("tensors_sha256"), str)):
        raise _corrupted(path, "its rnnkit document lacks 'aliases' or 'tensors_sha256'")
    return doc
