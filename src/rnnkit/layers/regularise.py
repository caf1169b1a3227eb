"""The regularisers inside the recurrence, as every backend that can honour them applies them.

    weight drop         W_hh' = W_hh ⊙ M / (1 - p), M ~ Bernoulli(1 - p) per weight, ONE mask per
                        forward call for the whole sequence and batch (DropConnect, Wan et al. 2013;
                        AWD-LSTM, Merity et al. 2018). The masked weight is computed from the stored
                        one and handed to the backend as any weight: the parameter itself is never
                        swapped or written, so every backend (fused, autograd, torch's kernels), data
                        parallelism and ``state_dict`` see the plain parameter.
    recurrent dropout   h_{t-1} ⊙ m / (1 - p) where it enters the recurrent projection, m ~ Bernoulli
                        (1 - p) per sequence and unit, the SAME m at every step (Gal & Ghahramani
                        2016). The cell's direct paths (the GRU's z ⊙ h_{t-1}) read the unmasked h.
    zoneout             per unit and step, keep the previous value: h_t = d ⊙ h_{t-1} + (1 - d) ⊙ h̃_t,
                        d ~ Bernoulli(p) (Krueger et al. 2017); on the LSTM's c_t with its own rate.
                        At evaluation the expectation: h_t = p h_{t-1} + (1 - p) h̃_t. (The LSTM's h̃_t
                        is o ⊙ tanh(c̃_t) of the cell's own c̃_t, as in the paper.)
    variational dropout between layers: ``RecurrentConfig.variational`` (``rnnkit.layers.dropout``'s
                        ``locked_dropout``: one mask per sequence, the same at every step).

All masks come from torch's global generator, so a seed fixes them and a checkpoint's RNG state
resumes them exactly. Weight drop and the masks between layers act on whole tensors and run on
every backend; recurrent dropout and zoneout change each step and run on the autograd backend
("auto" picks it for them; the others refuse in ``RecurrentConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.layers.dropout import dropout


def drop_weights(w: tuple, index: int, p: float) -> tuple:
    """``w`` with ``w[index]`` (W_hh) DropConnect-masked: one mask for this call."""
    return w[:index] + (dropout(w[index], p),) + w[index + 1 :]


@dataclass
class StepRegulariser:
    """What one layer-direction's reference loop applies at every step (see the module docstring).

    ``mask``: the recurrent-dropout mask (B, h size), scaled, or None; ``zoneout`` / ``zoneout_cell``
    the probabilities; ``training``: masks (True) or the expectation (False)."""

    mask: Tensor | None
    zoneout: float
    zoneout_cell: float
    training: bool

    @classmethod
    def of(cls, config, training: bool, h0: Tensor) -> StepRegulariser | None:
        """The regulariser of one layer-direction's call (its masks drawn now), or None."""
        p = config.recurrent_dropout if training else 0.0
        if not (p or config.zoneout or config.zoneout_cell):
            return None
        mask = dropout(torch.ones_like(h0), p) if p else None  # (B, h size): one per sequence
        return cls(mask, config.zoneout, config.zoneout_cell, training)

    def recurrent_input(self, h: Tensor) -> Tensor:
        return h if self.mask is None else h * self.mask

    def after(self, h_new: Tensor, c_new: Tensor | None, h: Tensor, c: Tensor | None):
        """The step's new state after zoneout, from the cell's (h_new, c_new) and the previous (h, c)."""
        if self.zoneout:
            h_new = zone_out(h_new, h, self.zoneout, self.training)
        if self.zoneout_cell and c_new is not None:
            c_new = zone_out(c_new, c, self.zoneout_cell, self.training)
        return h_new, c_new


def zone_out(new: Tensor, previous: Tensor, p: float, training: bool) -> Tensor:
    """Each unit keeps its previous value with probability p (training), or the expectation."""
    if not training:
        return torch.lerp(new, previous, p)  # new + p (previous - new)
    keep = torch.rand(new.shape, device=new.device) < p  # a fresh draw every step
    return torch.where(keep, previous, new)
