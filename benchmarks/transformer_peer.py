"""The small transformer rnnkit's character model is measured against (benchmarks/charlm_vs_transformer.py).

nanoGPT's README CPU configuration, written here with torch's own layers: 4 pre-norm blocks of
4 heads, 128-d embedding, block size 64, MLP 4x with GELU, no biases, dropout 0, a learned
position embedding, a final LayerNorm and an output head tied to the token embedding; weights
normal(0, 0.02), the residual output projections normal(0, 0.02 / sqrt(2 L)).

Attention is composed from nn.Linear and F.scaled_dot_product_attention(is_causal=True): on the
2-core benchmark machine (one thread, a loaded machine; 2.5 s of training steps per try, two
tries) it made 27.7-28.6 steps/s against 25.0-26.0 for nn.TransformerEncoderLayer(norm_first=True,
bias=False) with a causal mask, the same model otherwise.

Training (:func:`train`): AdamW lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on every parameter
with dim >= 2 (embeddings included, norms not), gradient norm clipped at 1.0, 100 linear warm-up
iterations, then a cosine from lr to min_lr 1e-4 over the wall clock left: progress = (elapsed -
warm-up seconds) / (budget - warm-up seconds), so the rate reaches min_lr when the budget ends.
Each step: 12 windows of 65 ids drawn uniformly from the training stream (seeded generator).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class PeerConfig:
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    batch_size: int = 12
    lr: float = 1e-3
    min_lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    warmup_iters: int = 100


class Block(nn.Module):
    """x + attn(LN(x)), then x + MLP(LN(x)); (B, T, D) -> (B, T, D)."""

    def __init__(self, cfg: PeerConfig):
        super().__init__()
        d = cfg.n_embd
        self.n_head = cfg.n_head
        self.ln_attn = nn.LayerNorm(d, bias=False)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.attn_out = nn.Linear(d, d, bias=False)  # residual projection
        self.ln_mlp = nn.LayerNorm(d, bias=False)
        self.mlp_in = nn.Linear(d, 4 * d, bias=False)
        self.mlp_out = nn.Linear(4 * d, d, bias=False)  # residual projection

    def forward(self, x: Tensor) -> Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).view(B, T, 3, self.n_head, D // self.n_head).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, heads, T, D/heads)
        x = x + self.attn_out(y.transpose(1, 2).reshape(B, T, D))
        return x + self.mlp_out(F.gelu(self.mlp_in(self.ln_mlp(x))))


class CharTransformer(nn.Module):
    """(B, T) ids, T <= block_size -> (B, T, V) logits."""

    def __init__(self, vocab_size: int, cfg: PeerConfig):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, cfg.n_embd)
        self.pos = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=False)
        self.head = nn.Linear(cfg.n_embd, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # tied
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, 0.0, 0.02)
        for block in self.blocks:
            for proj in (block.attn_out, block.mlp_out):
                nn.init.normal_(proj.weight, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    def forward(self, ids: Tensor) -> Tensor:
        h = self.tok(ids) + self.pos.weight[: ids.shape[1]]  # (B, T, D)
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied weight once


@torch.no_grad()
def _score(model: nn.Module, ids: Tensor, starts: list[int], length: int, skip: int, batch: int = 256):
    """(sum of nats, count) over windows ids[s : s + length + 1] (inputs then shifted targets),
    scoring the positions from ``skip`` on."""
    total, count = 0.0, 0
    offsets = torch.arange(length + 1)
    for i in range(0, len(starts), batch):
        windows = ids[torch.tensor(starts[i : i + batch])[:, None] + offsets]  # (W, length + 1)
        logits = model(windows[:, :-1])[:, skip:]
        targets = windows[:, 1 + skip :]
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"))
        count += targets.numel()
    return total, count


def block_loss(model: nn.Module, ids: Tensor, block: int = 64) -> float:
    """Nats per char over the whole stream: non-overlapping windows of ``block`` (+1 target), each
    scored in full (a char's context is its window so far); a shorter last window takes the rest."""
    model.eval()
    full = (len(ids) - 1) // block
    total, count = _score(model, ids, [block * w for w in range(full)], block, 0)
    rest = len(ids) - 1 - block * full
    if rest:
        t, c = _score(model, ids, [block * full], rest, 0)
        total, count = total + t, count + c
    return total / count


def sliding_loss(model: nn.Module, ids: Tensor, block: int = 64, stride: int = 32) -> float:
    """Nats per char with context >= block - stride for all but the first window's chars: windows of
    ``block`` every ``stride``, scoring only their last ``stride`` positions (the first window all)."""
    n = len(ids) - 1  # targets
    if n <= block:
        return block_loss(model, ids, block)
    model.eval()
    starts = list(range(0, n - block + 1, stride))
    total, count = _score(model, ids, starts[:1], block, 0)
    t, c = _score(model, ids, starts[1:], block, block - stride)
    total, count = total + t, count + c
    rest = n - (starts[-1] + block)  # targets past the last full window (< stride)
    if rest:
        t, c = _score(model, ids, [n - block], block, block - rest)
        total, count = total + t, count + c
    assert count == n, (count, n)
    return total / count


def _optimizer(model: nn.Module, cfg: PeerConfig) -> torch.optim.AdamW:
    params = list(model.parameters())  # the tied weight appears once
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=True)  # the fastest on a CPU


def train(
    train_ids, val_ids, vocab_size: int, budget_s: float, eval_at: list[float], seed: int, cfg: PeerConfig | None = None
) -> dict:
    """Train for ``budget_s`` seconds of wall clock (evaluations included), evaluating
    (:func:`block_loss` on ``val_ids``) at the first step whose elapsed time reaches each of
    ``eval_at`` and once after the budget (unless the last step was just evaluated); then
    :func:`sliding_loss` once (not on the clock)."""
    cfg = cfg or PeerConfig()
    torch.manual_seed(seed)
    model = CharTransformer(vocab_size, cfg)
    opt = _optimizer(model, cfg)
    train_ids = torch.as_tensor(train_ids, dtype=torch.long)
    val_ids = torch.as_tensor(val_ids, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    offsets = torch.arange(cfg.block_size + 1)
    marks = sorted(t for t in eval_at if t < budget_s)
    curve, step, train_s, warm_s = [], 0, 0.0, 0.0

    def evaluate():
        loss = block_loss(model, val_ids, cfg.block_size)
        curve.append({"step": step, "elapsed_s": time.perf_counter() - started, "val_loss": loss})

    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < budget_s:
        if step < cfg.warmup_iters:
            lr = cfg.lr * (step + 1) / cfg.warmup_iters
        else:
            progress = min(1.0, (elapsed - warm_s) / max(budget_s - warm_s, 1e-9))
            lr = cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)
        for group in opt.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        model.train()
        starts = torch.randint(len(train_ids) - cfg.block_size, (cfg.batch_size,), generator=gen)
        windows = train_ids[starts[:, None] + offsets]  # (B, T + 1)
        logits = model(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), windows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        train_s += time.perf_counter() - t0
        if step == cfg.warmup_iters:
            warm_s = time.perf_counter() - started
        if marks and (now := time.perf_counter() - started) >= marks[0]:
            marks = [t for t in marks if t > now]
            evaluate()
    if not curve or curve[-1]["step"] != step:  # as rnnkit's trainer: no second evaluation of one step
        evaluate()
    return {
        "config": asdict(cfg),
        "parameters": model.parameter_count(),
        "curve": curve,
        "final_val_loss": curve[-1]["val_loss"],
        "best_val_loss": min(r["val_loss"] for r in curve),
        "sliding_val_loss": sliding_loss(model, val_ids, cfg.block_size, cfg.block_size // 2),
        "steps": step,
        "seconds": curve[-1]["elapsed_s"],
        "train_tokens_per_s": step * cfg.batch_size * cfg.block_size / max(train_s, 1e-9),
        "tokens_per_s_overall": step * cfg.batch_size * cfg.block_size / curve[-1]["elapsed_s"],
    }
