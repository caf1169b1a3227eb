"""Random number generator states, captured and restored for exact resume.

Covered: the torch CPU generator, each CUDA device's generator (when CUDA is in use), python's
`random` module and numpy's global `np.random` state. Generators that a program creates itself
(torch.Generator, np.random.default_rng) are its own to save.

The captured state is a plain tree that checkpoint.codec can store without pickle: generator states are
tensors (the Mersenne Twister keys are 624-625 words; as tensors they stay out of the JSON sidecar)
and the rest are numbers.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def capture_rng_state() -> dict:
    """Snapshot every global RNG; drawing no numbers, so capturing does not change any stream.

    Returns:
        {"torch": uint8 tensor, "python": {...}, "numpy": {...}} plus "cuda": [uint8 tensor per device]
        when CUDA has been initialised in this process (a process that never touched CUDA has drawn no
        CUDA random numbers, and capturing would initialise a CUDA context just to save the seed state).
    """
    version, words, gauss_next = random.getstate()
    name, key, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    state = {
        "torch": torch.get_rng_state(),
        "python": {"version": version, "state": torch.tensor(words, dtype=torch.int64), "gauss_next": gauss_next},
        "numpy": {
            "bit_generator": name,
            "key": torch.from_numpy(key.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Put every global RNG back to a captured state.

    CUDA states are restored for the devices present (min of saved and available); a state captured
    on a GPU machine restores its CPU, python and numpy parts on a CPU-only machine.

    Args:
        state: what capture_rng_state returned (possibly after a save/load round trip).

    Raises:
        ValueError: a state that is not of that shape.
    """
    if not isinstance(state, dict) or not {"torch", "python", "numpy"} <= state.keys():
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"restore_rng_state: expected a dict with keys 'torch', 'python', 'numpy' "
            f"(from capture_rng_state), got {got}"
        )
    cpu = state["torch"]
    if not (isinstance(cpu, torch.Tensor) and cpu.dtype == torch.uint8):
        raise ValueError(f"restore_rng_state: expected 'torch' to be a uint8 tensor, got {_describe(cpu)}")
    py, npy = state["python"], state["numpy"]
    try:
        words = tuple(int(w) for w in py["state"].tolist())
        py_state = (py["version"], words, py["gauss_next"])
        np_state = (
            npy["bit_generator"],
            npy["key"].numpy().astype(np.uint32),
            npy["pos"],
            npy["has_gauss"],
            npy["cached_gaussian"],
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(
            f"restore_rng_state: expected 'python' and 'numpy' parts from capture_rng_state, "
            f"got a malformed one ({type(e).__name__}: {e})"
        ) from None
    # Both tuples are built above, so a malformed python/numpy part fails before any generator changes.
    torch.set_rng_state(cpu.cpu())
    random.setstate(py_state)
    np.random.set_state(np_state)
    if state.get("cuda") and torch.cuda.is_available():
        for device, s in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s.cpu(), device)


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a {x.dtype} tensor"
    return type(x).__name__
