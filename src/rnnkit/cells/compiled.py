"""Compiled step kernels: the fused path's elementwise step math as one pass over memory (CPU).

The fused backend's time loop does, per step, one recurrent GEMM plus the cell's elementwise
math. In eager PyTorch that math is ~7 kernels forward and ~5 backward for an LSTM, each a
separate pass over the (B, 4H) gates with its own dispatch; on a CPU they cost as much as a
third of a training step. ``kernels/lstm_step.cpp`` (and ``gru_step.cpp``, for the torch.nn form
of the GRU) does each step's math in ONE pass (the same equations, written out next to each other
in that file).

The source is compiled on first use with the system C++ compiler (``$CXX`` or ``g++``) into
a per-user cache (``$RNNKIT_CACHE``, else ``$XDG_CACHE_HOME/rnnkit``, else ``~/.cache/rnnkit``),
keyed by a hash of the source, the flags, the compiler and the CPU, and loaded with ctypes:
plain C functions taking raw pointers, no torch headers, so the build takes about a second and
needs no ninja. It uses OpenMP, and because torch loads its own ``libgomp.so.1`` first, the
kernel shares torch's thread pool (``torch.set_num_threads`` applies to both).

Nothing depends on it: where there is no compiler, the build fails, the tensors live on
another device, or ``RNNKIT_KERNELS=0``, the layers run the cells' eager code instead (same math;
tests compare the two). ``status()`` says which is in use and why.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor

KERNELS = Path(__file__).with_name("kernels")
SOURCES = {
    "lstm": KERNELS / "lstm_step.cpp",
    "gru": KERNELS / "gru_step.cpp",
    "lnlstm": KERNELS / "lnlstm_step.cpp",
    "lngru": KERNELS / "lngru_step.cpp",
    "scan": KERNELS / "scan.cpp",
}
HEADERS = (KERNELS / "activations.h", KERNELS / "layer_norm.h")  # included by the sources: part of the cache key
#: The C functions of each kernel, ``rnnkit_<kernel>_<function>_<f32|f64>``: (pointers, int64s).
SIGNATURES = {
    "lstm": {"forward": (5, 2), "backward": (6, 2), "step": (8, 3)},
    "gru": {"forward": (4, 2), "backward": (7, 2)},
    "lnlstm": {"forward": (13, 2), "backward": (16, 2)},
    "lngru": {"forward": (9, 2), "backward": (12, 2)},
    "scan": {
        f"{cell}_{way}": size
        for cell in ("mingru", "minlstm")
        for way, size in (("forward", (3, 2)), ("backward", (7, 2)))
    },
}
FLAGS = [
    "-O3",
    "-march=native",  # the cache key includes the CPU, so a shared home directory stays safe
    "-mprefer-vector-width=512",  # AVX-512 machines: use the full width (no effect elsewhere)
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fopenmp",
    "-shared",
    "-fPIC",
    "-std=c++17",
]
_DTYPES = {torch.float32: "f32", torch.float64: "f64"}

_lock = threading.Lock()
_libraries: dict[str, ctypes.CDLL | None] = {}
_functions: dict[tuple[str, torch.dtype], ctypes._CFuncPtr] = {}  # ("lstm_forward", dtype): C function
_reasons: dict[str, str] = {}
_enabled = os.environ.get("RNNKIT_KERNELS", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    if os.environ.get("RNNKIT_CACHE"):
        return Path(os.environ["RNNKIT_CACHE"]) / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnnkit" / "kernels"


def _cpu_identity() -> str:
    """What -march=native depends on: the CPU model and its feature flags (Linux), else the arch."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
        lines = [ln for ln in text.splitlines() if ln.startswith(("model name", "flags"))]
        return "\n".join(sorted(set(lines)))
    except OSError:
        return platform.machine() + platform.processor()


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "g++"))


def _build(name: str) -> Path:
    """Compile kernels/<name>.cpp into the cache (once per source, flags, compiler and CPU)."""
    compiler = _compiler()
    if compiler is None:
        raise RuntimeError(f"no C++ compiler found (looked for {os.environ.get('CXX', 'g++')!r}; set $CXX)")
    source = SOURCES[name]
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    key = hashlib.sha256(
        "\0".join(
            [source.read_text(), *(h.read_text() for h in HEADERS), " ".join(FLAGS), version, _cpu_identity()]
        ).encode()
    ).hexdigest()[:16]
    directory = cache_dir()
    target = directory / f"{name}-{key}.so"
    if target.exists():
        return target
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK):
            raise PermissionError(f"cannot write {directory}")
    except OSError:  # a read-only home: build per user in the temporary directory instead
        directory = Path(tempfile.gettempdir()) / f"rnnkit-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / target.name
        if target.exists():
            return target
    fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".so", dir=directory)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *FLAGS, str(source), "-o", tmp], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["(no output)"])[0]
            raise RuntimeError(f"{Path(compiler).name} failed on {source.name}: {first}")
        os.replace(tmp, target)  # atomic: concurrent builders each publish a complete file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def library(name: str) -> ctypes.CDLL | None:
    """The loaded kernel library ``name``, building it on first use; None where unavailable."""
    if not _enabled:
        return None
    lib = _libraries.get(name, False)
    if lib is not False:
        return lib
    with _lock:
        if name not in _libraries:
            try:
                lib = ctypes.CDLL(str(_build(name)))
                _declare(lib, name)
                _libraries[name] = lib
                _reasons[name] = "compiled"
            except Exception as error:  # any failure means: use the eager path
                _libraries[name] = None
                _reasons[name] = f"eager ({error})"
                warnings.warn(
                    f"rnnkit: compiled {name} kernel unavailable, using eager PyTorch ops: {error}", stacklevel=3
                )
    return _libraries[name]


def _declare(lib: ctypes.CDLL, name: str) -> None:
    for function, (pointers, sizes) in SIGNATURES[name].items():
        for dtype, suffix in _DTYPES.items():
            fn = getattr(lib, f"rnnkit_{name}_{function}_{suffix}")
            fn.argtypes, fn.restype = [ctypes.c_void_p] * pointers + [ctypes.c_int64] * sizes, None
            _functions[f"{name}_{function}", dtype] = fn


def usable(name: str, *tensors: Tensor) -> bool:
    """Whether the compiled kernel can run on these tensors: on the CPU, float32/float64 of one
    dtype, contiguous, and the library available."""
    first = tensors[0]
    if first.device.type != "cpu" or first.dtype not in _DTYPES or not _enabled:
        return False
    if any(t.dtype != first.dtype or not t.is_contiguous() for t in tensors):
        return False
    return library(name) is not None


def available(name: str, device: torch.device, dtype: torch.dtype) -> bool:
    """Whether the compiled kernel runs on tensors of this device and dtype (``usable`` less the
    contiguity, for a caller whose buffers are all fresh)."""
    if device.type != "cpu" or dtype not in _DTYPES or not _enabled:
        return False
    return library(name) is not None


def lstm_forward(a: Tensor, c_prev: Tensor, c: Tensor, tc: Tensor, h: Tensor) -> None:
    """In place: a (n, 4H) pre-activations -> [i|f|g|o]; writes c_t, tanh(c_t), h_t (n, H)."""
    n, H = c.shape
    pointers = (t.data_ptr() for t in (a, c_prev, c, tc, h))
    _functions["lstm_forward", a.dtype](*pointers, n, H)


def lstm_backward(act: Tensor, tc: Tensor, c_prev: Tensor, d_h: Tensor, d_c: Tensor, d_a: Tensor) -> None:
    """Writes d_a (n, 4H), the gradient w.r.t. the gate pre-activations; d_c (n, H) goes from
    dL/dc_t (from step t+1) to dL/dc_{t-1} in place."""
    n, H = d_c.shape
    pointers = (t.data_ptr() for t in (act, tc, c_prev, d_h, d_c, d_a))
    _functions["lstm_backward", act.dtype](*pointers, n, H)


def gru_forward(a: Tensor, hw: Tensor, h_prev: Tensor, h: Tensor) -> None:
    """In place: a (n, 3H) input projections -> [r|z|n]; hw (n, 3H) = h_{t-1} W_hh^T + b_hh;
    writes h_t (n, H). GRU with reset_after=True."""
    n, H = h.shape
    _functions["gru_forward", a.dtype](a.data_ptr(), hw.data_ptr(), h_prev.data_ptr(), h.data_ptr(), n, H)


def gru_backward(
    act: Tensor, hw: Tensor, h_prev: Tensor, d_h: Tensor, d_a: Tensor, d_xn: Tensor, d_h_prev: Tensor
) -> None:
    """Writes d_a (n, 3H), the gradient w.r.t. the recurrent projection [h_r|h_z|hn], and d_xn
    (n, H), the input projection's n slot; adds the direct path d_h z to d_h_prev (n, H)."""
    n, H = d_h.shape
    pointers = (t.data_ptr() for t in (act, hw, h_prev, d_h, d_a, d_xn, d_h_prev))
    _functions["gru_backward", act.dtype](*pointers, n, H)


def lnlstm_forward(a, r, c_prev, gamma_h, gamma_c, beta_c, c, tc, h, rm, rs, cm, cs) -> None:
    """The layer-norm LSTM's step after the recurrent GEMM r = h_{t-1} W_hh^T (n, 4H): a (n, 4H)
    -> activations; writes c, tc, h (n, H) and the statistics rm, rs, cm, cs (n, 1)."""
    n, H = c.shape
    tensors = (a, r, c_prev, gamma_h, gamma_c, beta_c, c, tc, h, rm, rs, cm, cs)
    _functions["lnlstm_forward", a.dtype](*(t.data_ptr() for t in tensors), n, H)


def lnlstm_backward(act, r, c_prev, c, tc, rm, rs, cm, cs, gamma_h, gamma_c, d_h, d_c, dA, dZ, d_ah) -> None:
    """Writes dA (n, 4H) and dZ (n, H) (for the sums after the loop) and d_ah = dL/dr (n, 4H);
    d_c (n, H) goes from dL/dc_t to dL/dc_{t-1} in place."""
    n, H = d_c.shape
    tensors = (act, r, c_prev, c, tc, rm, rs, cm, cs, gamma_h, gamma_c, d_h, d_c, dA, dZ, d_ah)
    _functions["lnlstm_backward", act.dtype](*(t.data_ptr() for t in tensors), n, H)


def lngru_forward(a, q, h_prev, gamma_h, b_hh, u, h, qm, qs) -> None:
    """The layer-norm GRU's step after the recurrent GEMM q = h_{t-1} W_hh^T (n, 3H): a (n, 3H)
    -> activations; writes u = γ_h N(q) + b_hh (b_hh None: no bias), h (n, H), qm, qs (n, 1)."""
    n, H = h.shape
    tensors = (a, q, h_prev, gamma_h, b_hh, u, h, qm, qs)
    _functions["lngru_forward", a.dtype](*(0 if t is None else t.data_ptr() for t in tensors), n, H)


def lngru_backward(act, q, u, qm, qs, h_prev, gamma_h, d_h, dV, dU, d_ah, d_h_prev) -> None:
    """Writes dV, dU (n, 3H) (for the sums after the loop) and d_ah = dL/dq (n, 3H); adds the
    direct path d_h z to d_h_prev (n, H)."""
    n, H = d_h.shape
    tensors = (act, q, u, qm, qs, h_prev, gamma_h, d_h, dV, dU, d_ah, d_h_prev)
    _functions["lngru_backward", act.dtype](*(t.data_ptr() for t in tensors), n, H)


def scan_forward(cell: str, gates: Tensor, H_all: Tensor, limits: Tensor | None) -> None:
    """A scan cell's whole forward (``kernels/scan.cpp``): gates (G, T, B, H) -> writes h_1..h_T
    into H_all (T+1, B, H) (h_0 in place on entry). ``limits`` (T,) int64: units running per step."""
    T = gates.shape[1]
    N = H_all[0].numel()
    pointers = (gates.data_ptr(), H_all.data_ptr(), 0 if limits is None else limits.data_ptr())
    _functions[f"scan_{cell}_forward", gates.dtype](*pointers, T, N)


def scan_backward(
    cell: str,
    gates: Tensor,
    H_all: Tensor,
    d_Y: Tensor,
    d_h_n: Tensor | None,
    d_gates: Tensor,
    d_h0: Tensor,
    limits: Tensor | None,
) -> None:
    """A scan cell's whole backward: writes d_gates (G, T, B, H) and d_h0 (B, H) from dL/dY
    (T, B, H) and dL/dh_n (B, H) or None."""
    T = gates.shape[1]
    N = H_all[0].numel()
    tensors = (gates, H_all, d_Y, d_h_n, d_gates, d_h0, limits)
    _functions[f"scan_{cell}_backward", gates.dtype](*(0 if t is None else t.data_ptr() for t in tensors), T, N)


#: ``lstm_step`` (GEMVs inside the kernel) is for generation-sized batches; above this many rows
#: BLAS GEMMs plus ``lstm_forward`` are faster.
STEP_MAX_ROWS = 8


def lstm_step(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor | None, h_prev: Tensor, c_prev: Tensor, h: Tensor, c: Tensor
) -> None:
    """A whole LSTM step, the matrix-vector products included: x (B, D), h_prev, c_prev (B, H) ->
    writes h, c (B, H). ``bias`` = b_ih + b_hh (4H,) or None. For B <= ``STEP_MAX_ROWS``."""
    B, D = x.shape
    H = h.shape[1]
    pointers = [t.data_ptr() for t in (x, w_ih, w_hh)] + [0 if bias is None else bias.data_ptr()]
    pointers += [t.data_ptr() for t in (h_prev, c_prev, h, c)]
    _functions["lstm_step", x.dtype](*pointers, B, D, H)


def status() -> dict[str, str]:
    """{kernel name: "compiled" or "eager (why)"} for the kernels asked for so far (builds none)."""
    if not _enabled:
        return {name: "eager (RNNKIT_KERNELS=0)" for name in SOURCES}
    return {name: _reasons.get(name, "not built yet") for name in SOURCES}


@contextmanager
def disabled():
    """Within the block, every cell runs its eager path (tests compare the two)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before
