"""Which device a run or a command may use: checked at the boundary, before anything is loaded or built.

    check_device("cuda:1")     "cuda:1", or ValueError "device: expected ..., got ..."

Only the CPU and CUDA devices rnnkit is tested on are accepted ("mps", "meta", "xla" and other torch
device types parse but cannot run a model here), and a CUDA device must exist on this machine.
"""

from __future__ import annotations

import re

import torch

_NAME = re.compile(r"(cpu|cuda)(:\d{1,4})?")


def check_device(name, allow_auto: bool = True) -> str:
    """``name`` if it names a usable device ("auto" where ``allow_auto``), else ValueError."""
    kinds = "'auto', 'cpu' or 'cuda[:N]'" if allow_auto else "'cpu' or 'cuda[:N]'"
    if allow_auto and name == "auto":
        return name
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"device: expected {kinds}, got {name!r}")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device: expected an available device, got {name!r} but CUDA is not available")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"device: expected a CUDA device index below {count}, got {name!r}")
    elif device.index not in (None, 0):
        raise ValueError(f"device: expected 'cpu' (one CPU device), got {name!r}")
    return name
