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
read_container reads the header, checks it and its tensor entries (dtype, shape, byte span) against
the real file size and the memory available, and only then reads the rest through the same open file,
so a concurrent os.replace by a trainer cannot hand it a header from one version and data from the next,
and a huge or sparse file is refused in one line before anything is allocated. Only regular files are
opened (a FIFO, a device such as /dev/zero, a directory is refused by name), and JSON nesting is bounded.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
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
_MAX_DEPTH = 64  # JSON nesting of a header or document (rnnkit writes < 10): bounds every recursion
#: safetensors' dtype names -> bytes per element
DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    "C64": 8, "U64": 8, "U32": 4, "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
}  # fmt: skip

_TORCH_DTYPE_NAMES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32",
    "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL", "complex64": "C64", "uint64": "U64",
    "uint32": "U32", "uint16": "U16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}  # fmt: skip


def dtype_name(dtype: torch.dtype) -> str:
    """safetensors' name of a torch dtype ("F32" for torch.float32), as read_layout reports it."""
    return _TORCH_DTYPE_NAMES.get(str(dtype).removeprefix("torch."), str(dtype))


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
    return read_layout(path)[0]


def read_layout(path: Path) -> tuple[dict, dict[str, tuple[str, tuple[int, ...]]]]:
    """The verified document and every tensor's (safetensors dtype, shape), aliases included, from the
    header only (the tensor data is neither read nor verified).

    Raises:
        CheckpointError: as read_document.
    """
    with _open(path) as f:
        header = _header(f, os.fstat(f.fileno()).st_size, path)
    doc = _document(header, path)
    entries = {name: (e["dtype"], tuple(e["shape"])) for name, e in header.items() if name != "__metadata__"}
    for alias, target in doc["aliases"].items():
        if target not in entries:
            raise _corrupted(path, f"alias {alias!r} points at missing tensor {target!r}")
        entries[alias] = entries[target]
    return doc, entries


def read_container(path: Path) -> tuple[dict, dict[str, Tensor]]:
    """Read and verify the whole file: (document, {name: CPU tensor}), aliases restored as the same object.

    The tensors are writable and own their memory (not views of the file).

    Raises:
        CheckpointError: as read_document, and tensor data that does not match its checksum.
    """
    with _open(path) as f:
        size = os.fstat(f.fileno()).st_size
        doc = _document(_header(f, size, path), path)
        _check_memory(path, size)
        f.seek(0)
        data = f.read()
    if len(data) != size:  # shrunk while reading: not the file whose header was checked
        raise _corrupted(path, f"the file changed while it was read ({size} bytes, then {len(data)})")
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
    """Open a regular file for reading; anything else (a directory, a FIFO that would block, a device
    such as /dev/zero behind a symlink) is refused by name before it is opened."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"checkpoint: {path} is not a regular file; expected a checkpoint file")
        f = open(path, "rb")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint: no such file: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint: {path} is a directory; expected a checkpoint file") from None
    except PermissionError:
        raise CheckpointError(
            f"checkpoint: {path} cannot be read (permission denied); expected a readable file"
        ) from None
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced between the stat and the open
        f.close()
        raise CheckpointError(f"checkpoint: {path} is not a regular file; expected a checkpoint file")
    return f


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(path: Path, size: int) -> None:
    """Reading takes the file's bytes plus one copy of its tensors: refuse what cannot fit."""
    available = available_memory()
    if available is not None and 2 * size > available:
        raise CheckpointError(
            f"checkpoint: {path}: reading its {_bytes(size)} needs about {_bytes(2 * size)} of memory, "
            f"{_bytes(available)} is available; expected a checkpoint that fits in memory"
        )


def _bytes(n: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _loads(text, path: Path, what: str):
    """json.loads with the nesting bounded (a deep document is refused, never a RecursionError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _corrupted(path, f"{what} is nested too deeply") from None
    except (ValueError, TypeError):  # JSONDecodeError and UnicodeDecodeError
        raise _corrupted(path, f"{what} is not valid JSON") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise _corrupted(path, f"{what} is nested more than {_MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return value


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
    header = _loads(f.read(n), path, "its header")
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
        _check_entry(path, name, entry)
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


def _check_entry(path: Path, name: str, entry: dict) -> None:
    """A tensor entry's dtype is known and its shape's byte count is exactly its span."""
    dtype, shape = entry.get("dtype"), entry.get("shape")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise _corrupted(path, f"header entry {name!r} has dtype {dtype!r}; expected one of {sorted(DTYPE_BYTES)}")
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise _corrupted(path, f"header entry {name!r} has shape {shape!r:.60}; expected a list of sizes >= 0")
    begin, end = entry["data_offsets"]
    if math.prod(shape) * DTYPE_BYTES[dtype] != end - begin:
        raise _corrupted(
            path, f"header entry {name!r}: shape {shape} of {dtype} is not its {end - begin} bytes of data"
        )


def _document(header: dict, path: Path) -> dict:
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        raise CheckpointError(
            f"checkpoint: {path}: not an rnnkit checkpoint (its safetensors header has no {METADATA_KEY!r} metadata)"
        )
    doc = _loads(metadata[METADATA_KEY], path, "its rnnkit document")
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
    if not all(isinstance(v, str) for v in doc["aliases"].values()):
        raise _corrupted(path, "its rnnkit document's 'aliases' are not all tensor names")
    return doc
