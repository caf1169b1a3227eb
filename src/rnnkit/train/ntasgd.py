"""NT-ASGD: non-monotonically triggered averaged SGD (Merity, Keskar & Socher 2018, AWD-LSTM).

    until the trigger:  w <- w - lr (g + weight_decay w)                      (plain SGD)
    trigger:            at an evaluation whose loss is worse than the best of every evaluation
                        but the last ``nonmono`` (the validation loss stopped improving), once
    from then on:       the same SGD step, and the average of the iterates since the trigger,
                        w̄ <- w̄ + (w - w̄) / n   after the n-th step

The average is what the run is evaluated with and what its best checkpoint holds: the trainer
evaluates inside ``averaged()``, which puts w̄ into the parameters and the SGD iterate back after.
Everything (the evaluation history, the trigger step, w̄ and n) is in ``state_dict``, so a resumed
run continues exactly.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch


class NTASGD(torch.optim.Optimizer):
    def __init__(self, params, lr: float, weight_decay: float = 0.0, nonmono: int = 5):
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})
        first = self.param_groups[0]
        first.setdefault("nonmono", nonmono)
        first.setdefault("history", [])  # every evaluation's loss, in order
        first.setdefault("averaging_from", -1)  # the step the trigger fired after (-1: not yet)
        first.setdefault("averaged_steps", 0)  # n: steps averaged so far

    @property
    def averaging(self) -> bool:
        return self.param_groups[0]["averaging_from"] >= 0

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        first = self.param_groups[0]
        if self.averaging:
            first["averaged_steps"] += 1
        n = first["averaged_steps"]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad if not group["weight_decay"] else p.grad.add(p, alpha=group["weight_decay"])
                p.add_(d, alpha=-group["lr"])
                if self.averaging:
                    state = self.state[p]
                    if "ax" not in state or n == 1:
                        state["ax"] = p.detach().clone()
                    else:
                        state["ax"].add_(p - state["ax"], alpha=1.0 / n)
        return loss

    def observe(self, loss: float, step: int) -> bool:
        """Record an evaluation's loss; fire the trigger if it is due. Returns whether it fired."""
        first = self.param_groups[0]
        history, k = first["history"], first["nonmono"]
        fire = not self.averaging and len(history) > k and loss > min(history[:-k])
        history.append(float(loss))
        if fire:
            first["averaging_from"] = int(step)
        return fire

    @contextmanager
    def averaged(self):
        """Within the block the parameters hold the average w̄ (once averaging has begun)."""
        if not self.averaging or not self.param_groups[0]["averaged_steps"]:
            yield
            return
        swapped = []
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    ax = self.state[p].get("ax")
                    if ax is not None:
                        swapped.append((p, p.detach().clone()))
                        p.copy_(ax)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, iterate in swapped:
                    p.copy_(iterate)
