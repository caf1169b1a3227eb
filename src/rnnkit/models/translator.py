"""An encoder-decoder with attention: read a source sentence, write its translation (many-to-many,
unsynced: Sutskever et al. 2014, Cho et al. 2014, Bahdanau et al. 2015, Luong et al. 2015).

    source (B, S) -> embedding -> dropout -> encoder stack (any cell, bidirectional) -> memory (B, S, M)
    encoder's final state --bridge--> decoder's initial state

    decoder, for t = 1..T (y_0 = <bos>):
        x_t  = [E y_{t-1} ; h~_{t-1} if input feeding]                            (dropout on E y)
        h_t  = decoder stack step (x_t, state)
        c_t, α_t = attention(h_t, memory) over the valid source positions
        h~_t = tanh(W_c [c_t ; h_t])              (attention "none": h~_t = h_t, the plain model)
        p(y_t | y_<t, source) = softmax(W_o dropout(h~_t) + b_o)

Bridge (the decoder's initial state, every layer alike, from the TOP encoder layer's final state
f = [forward h_S ; backward h_1] for a bidirectional encoder, its h_S otherwise):

    "learned"  h_0 = tanh(W_b f + b_b); an LSTM decoder's c_0 = W_c' f_c from the encoder's final c
               (both LSTMs), else 0
    "last"     h_0 = f (needs decoder hidden size == size of f; c_0 likewise or 0)
    "zero"     h_0 = 0, c_0 = 0 (the decoder learns everything from attention)

Training is teacher forcing. Without input feeding and scheduled sampling the decoder reads the
whole target at once (one call of the recurrent layer: its fused backend) and the attention of
every step is one batched product; with either, it runs ``step`` by ``step``, as decoding does.
Decoding (greedy, sampling, beam search: ``rnnkit.infer.decoding``) goes through ``start`` and
``step``: the recurrent layers' one-step API, one time loop for both.

Loss: cross-entropy per target token (``<eos>`` included, padding excluded), with label smoothing
in training mode only; in eval mode it is the plain negative log-likelihood (so exp(loss) is the
perplexity per target token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import is_real
from rnnkit.layers import Dropout, Recurrent, RecurrentConfig
from rnnkit.models.attention import ATTENTIONS, Attention
from rnnkit.models.batch import IGNORE, ModelOutput, TranslationBatch
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings, check_dropout, check_model_fits, derive

BRIDGES = ("learned", "last", "zero")


@dataclass
class TranslatorConfig(ModelSettings):
    """Architecture of a translator. The vocabulary sizes and special ids come from the data; the
    two recurrent stacks are ``encoder`` and ``decoder`` (TOML ``[model.encoder]``, ``[model.decoder]``)."""

    DERIVED: ClassVar = {"encoder": RNN_DERIVED, "decoder": RNN_DERIVED}

    source_vocab_size: int = 0
    target_vocab_size: int = 0
    pad_id: int = 0  # the target vocabulary's <pad>, <bos>, <eos>
    bos_id: int = 2
    eos_id: int = 3
    embedding_size: int = 256
    attention: str = "additive"  # none | additive | dot | general
    attention_size: int = 0  # additive only: 0 = the decoder's hidden size
    input_feeding: bool = False  # Luong: h~_{t-1} is part of the decoder's input x_t
    bridge: str = "learned"  # learned | last | zero
    dropout: float = 0.2  # embeddings, between layers, before the output layer
    tie_weights: bool = False  # the target embedding is the output matrix (embedding == decoder size)
    label_smoothing: float = 0.0  # training loss only
    scheduled_sampling: float = 0.0  # training: the chance a step reads the model's own last guess
    encoder: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=256, num_layers=1, bidirectional=True)
    )
    decoder: RecurrentConfig = field(default_factory=lambda: RecurrentConfig("lstm", hidden_size=256, num_layers=1))

    def validate(self) -> TranslatorConfig:
        for name in ("source_vocab_size", "target_vocab_size", "embedding_size"):
            _check_int(self, name, 1)
        for name in ("pad_id", "bos_id", "eos_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.target_vocab_size:
                raise ValueError(f"model: expected {name} in [0, {self.target_vocab_size}), got {value!r}")
        _check_int(self, "attention_size", 0)
        if self.attention not in ATTENTIONS:
            raise ValueError(f"model: expected attention in {ATTENTIONS}, got {self.attention!r}")
        if self.bridge not in BRIDGES:
            raise ValueError(f"model: expected bridge in {BRIDGES}, got {self.bridge!r}")
        check_dropout(self.dropout)
        for name in ("label_smoothing", "scheduled_sampling"):
            value = getattr(self, name)
            top = 1.0 if name == "scheduled_sampling" else 0.999
            if not is_real(value) or not 0.0 <= value <= top:
                raise ValueError(f"model: expected {name} in [0, {top:g}], got {value!r}")
        if self.input_feeding and self.attention == "none":
            raise ValueError(
                "model: input_feeding needs attention (it feeds the attentional state); got attention='none'"
            )
        if self.decoder.bidirectional:
            raise ValueError("model: expected a unidirectional decoder (it writes left to right), got bidirectional")
        E = self.embedding_size
        self.encoder = derive(self.encoder, E, self.dropout)
        dec_h = self.decoder.proj_size or self.decoder.hidden_size
        self.decoder = derive(self.decoder, E + (dec_h if self.input_feeding else 0), self.dropout)
        if self.tie_weights and E != dec_h:
            raise ValueError(f"model: tie_weights needs embedding_size == the decoder's size, got {E} and {dec_h}")
        final = self.memory_size  # the bridge reads the top encoder layer's final h, both directions
        if self.bridge == "last" and final != dec_h:
            raise ValueError(
                f"model: bridge 'last' needs the decoder's size == the encoder's final state size ({final}: "
                f"{'2 x ' if self.encoder.bidirectional else ''}its hidden size), got {dec_h}; use bridge 'learned'"
            )
        if self.attention == "dot" and final != dec_h:
            raise ValueError(
                f"model: dot attention needs the decoder's size == the encoder outputs' size, got {dec_h} and "
                f"{final}; use general or additive attention"
            )
        Vs, Vt = self.source_vocab_size, self.target_vocab_size
        others = self.encoder.parameter_count() + (Vs + Vt) * E + (dec_h + 1) * Vt + 2 * (final + dec_h) * dec_h
        check_model_fits(self.decoder, others, f"vocab sizes {Vs} and {Vt}, embedding_size={E}, decoder size={dec_h}")
        return self

    @property
    def memory_size(self) -> int:
        """M: the size of an encoder output (and of its final state, directions concatenated)."""
        enc = self.encoder
        return (enc.proj_size or enc.hidden_size) * (2 if enc.bidirectional else 1)


@dataclass
class DecoderState:
    """What a decoding step carries: the encoder's memory (B, S, M), its attention keys, the source
    mask (B, S), the decoder stack's state and (input feeding) h~ of the last step (B, H)."""

    memory: Tensor
    keys: Tensor | None
    mask: Tensor
    rnn: object
    feed: Tensor | None

    def select(self, index: Tensor) -> DecoderState:
        """The rows ``index`` of every part (beam search: expand, reorder, drop finished sentences)."""

        def pick(x, dim):
            if x is None:
                return None
            if isinstance(x, tuple):
                return tuple(pick(p, dim) for p in x)
            return x.index_select(dim, index)

        return DecoderState(
            pick(self.memory, 0), pick(self.keys, 0), pick(self.mask, 0), pick(self.rnn, 1), pick(self.feed, 0)
        )


class Translator(nn.Module):
    """Shapes: inputs (B, S) source ids with ``lengths`` (B,); targets (B, T) target ids ending in
    ``<eos>``, IGNORE (-100) past each sentence's end; out: logits (B, T, V_t). ``loss`` is the mean
    over target tokens (see the module doc)."""

    kind = "translator"
    batch_type = TranslationBatch

    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.config = cfg = config.validate()
        E = cfg.embedding_size
        self.source_embedding = nn.Embedding(cfg.source_vocab_size, E)
        self.target_embedding = nn.Embedding(cfg.target_vocab_size, E)
        self.encoder = Recurrent(cfg.encoder)
        self.decoder = Recurrent(cfg.decoder)
        M, H = cfg.memory_size, self.decoder.output_size
        L = cfg.decoder.num_layers
        self.bridge = self.bridge_cell = None
        if cfg.bridge == "learned":
            self.bridge = nn.Linear(M, L * H)  # h_0 = tanh(W_b f + b_b), every layer its own slice
            if self.encoder.cell.has_cell_state and self.decoder.cell.has_cell_state:
                c_size = self.decoder._state_sizes[1]
                enc_c = cfg.encoder.hidden_size * (2 if cfg.encoder.bidirectional else 1)
                self.bridge_cell = nn.Linear(enc_c, L * c_size)
        self.attention = None if cfg.attention == "none" else Attention(cfg.attention, H, M, cfg.attention_size)
        self.combine = None if self.attention is None else nn.Linear(M + H, H, bias=False)  # W_c
        self.drop = Dropout(cfg.dropout)
        self.head = nn.Linear(H, cfg.target_vocab_size)  # W_o, b_o
        if cfg.tie_weights:
            self.head.weight = self.target_embedding.weight  # one matrix, two uses (Press & Wolf 2017)

    def config_dict(self) -> dict:
        return self.config.to_dict()

    # ----- training: teacher forcing ----------------------------------------------------------------
    def forward(self, batch: TranslationBatch, state=None) -> ModelOutput:
        cfg = self.config
        start = self.start(batch.inputs, batch.lengths)
        targets = batch.targets
        if targets is None:
            raise ValueError("targets: expected the target ids (B, T) for teacher forcing, got None")
        self._check_ids(targets, cfg.target_vocab_size, "targets", ignore=True)
        if targets.shape[0] != batch.inputs.shape[0]:
            raise ValueError(f"targets: expected {batch.inputs.shape[0]} rows (the inputs'), got {targets.shape[0]}")
        B = targets.shape[0]
        previous = torch.cat([targets.new_full((B, 1), cfg.bos_id), targets[:, :-1]], dim=1)  # y_0 .. y_{T-1}
        previous = previous.masked_fill(previous == IGNORE, cfg.pad_id)
        if cfg.input_feeding or (cfg.scheduled_sampling and self.training):
            logits = self._step_by_step(previous, start)
        else:
            logits = self._whole_target(previous, start)
        loss = F.cross_entropy(
            logits.reshape(-1, cfg.target_vocab_size),
            targets.reshape(-1).long(),
            ignore_index=IGNORE,
            label_smoothing=cfg.label_smoothing if self.training else 0.0,
        )
        return ModelOutput(logits, loss, None)

    def _whole_target(self, previous: Tensor, start: DecoderState) -> Tensor:
        x = self.drop(self.target_embedding(previous.t()))  # (T, B, E)
        h, _ = self.decoder(x, start.rnn)  # (T, B, H): causal, so padding at the end changes nothing before it
        out = self._attend(h.transpose(0, 1), start)[0]  # (B, T, H)
        return self.head(self.drop(out))  # (B, T, V)

    def _step_by_step(self, previous: Tensor, state: DecoderState) -> Tensor:
        p = self.config.scheduled_sampling if self.training else 0.0
        logits: list[Tensor] = []
        tokens = previous[:, 0]
        for t in range(previous.shape[1]):
            if t and p:  # scheduled sampling (Bengio et al. 2015): per sentence, the model's own argmax
                own = torch.rand(tokens.shape[0], device=tokens.device) < p
                tokens = torch.where(own, logits[-1].detach().argmax(-1), previous[:, t])
            elif t:
                tokens = previous[:, t]
            step_logits, state, _ = self.step(tokens, state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B, T, V)

    # ----- decoding: one step at a time ---------------------------------------------------------------
    def start(self, inputs: Tensor, lengths: Tensor | None) -> DecoderState:
        """Encode the source: inputs (B, S) ids, lengths (B,) (None: all S) -> the first step's state."""
        cfg = self.config
        self._check_ids(inputs, cfg.source_vocab_size, "inputs")
        B, S = inputs.shape
        if lengths is None:
            lengths = torch.full((B,), S, dtype=torch.long)
        lengths = torch.as_tensor(lengths)
        x = self.drop(self.source_embedding(inputs.t()))  # (S, B, E)
        out, final = self.encoder(x, lengths=lengths)  # (S, B, M), final state per each sentence's length
        memory = out.transpose(0, 1)  # (B, S, M)
        mask = torch.arange(S, device=inputs.device)[None, :] < lengths.to(inputs.device)[:, None]  # (B, S)
        keys = None if self.attention is None else self.attention.keys(memory)
        rnn = self._bridge(final, B, memory)
        feed = memory.new_zeros(B, self.decoder.output_size) if cfg.input_feeding else None
        return DecoderState(memory, keys, mask, rnn, feed)

    def step(self, tokens: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor | None]:
        """tokens (B,) the last output -> (logits (B, V), the next state, attention weights (B, S) or None)."""
        x = self.drop(self.target_embedding(tokens))  # (B, E)
        if state.feed is not None:
            x = torch.cat([x, state.feed], dim=-1)  # input feeding: (B, E + H)
        h, rnn = self.decoder.step(x, state.rnn)  # (B, H)
        out, alpha = self._attend(h.unsqueeze(1), state)  # (B, 1, H), (B, 1, S)
        out = out.squeeze(1)
        next_state = DecoderState(state.memory, state.keys, state.mask, rnn, out if state.feed is not None else None)
        return self.head(self.drop(out)), next_state, None if alpha is None else alpha.squeeze(1)

    # ----- pieces -------------------------------------------------------------------------------------
    def _attend(self, h: Tensor, state: DecoderState) -> tuple[Tensor, Tensor | None]:
        """h (B, T, H) decoder outputs -> (h~ (B, T, H), α (B, T, S)); no attention: (h, None)."""
        if self.attention is None:
            return h, None
        context, alpha = self.attention(h, state.keys, state.memory, state.mask)  # (B, T, M), (B, T, S)
        return torch.tanh(self.combine(torch.cat([context, h], dim=-1))), alpha

    def _bridge(self, final, B: int, like: Tensor):
        """The decoder's initial state from the encoder's final state (see the module doc)."""
        cfg, dec = self.config, self.decoder
        L = cfg.decoder.num_layers
        h_size, c_size = dec._state_sizes
        has_c = dec.cell.has_cell_state
        if cfg.bridge == "zero":
            h0 = like.new_zeros(L, B, h_size)
            return (h0, like.new_zeros(L, B, c_size)) if has_c else h0
        enc_h, enc_c = final if isinstance(final, tuple) else (final, None)
        f = _top(enc_h, self.encoder.num_directions)  # (B, M)
        if cfg.bridge == "last":
            h0 = f.unsqueeze(0).expand(L, B, h_size).contiguous()
            if not has_c:
                return h0
            f_c = None if enc_c is None else _top(enc_c, self.encoder.num_directions)
            c0 = like.new_zeros(L, B, c_size) if f_c is None or f_c.shape[-1] != c_size else f_c.expand(L, B, c_size)
            return h0, c0.contiguous()
        h0 = torch.tanh(self.bridge(f)).view(B, L, h_size).transpose(0, 1).contiguous()  # (L, B, H)
        if not has_c:
            return h0
        if self.bridge_cell is None:
            return h0, like.new_zeros(L, B, c_size)
        c0 = self.bridge_cell(_top(enc_c, self.encoder.num_directions)).view(B, L, c_size).transpose(0, 1)
        return h0, c0.contiguous()

    def _check_ids(self, ids, V: int, what: str, ignore: bool = False) -> None:
        if not isinstance(ids, Tensor) or ids.dtype not in (torch.long, torch.int) or ids.dim() != 2:
            got = f"dtype {ids.dtype} and shape {tuple(ids.shape)}" if isinstance(ids, Tensor) else type(ids).__name__
            raise ValueError(f"{what}: expected a 2-D integer tensor (B, T) of token ids, got {got}")
        if ids.numel():
            valid = ids[ids != IGNORE] if ignore else ids
            if valid.numel() and (int(valid.min()) < 0 or int(valid.max()) >= V):
                raise ValueError(
                    f"{what}: expected token ids in [0, {V}), got values in [{int(valid.min())}, {int(valid.max())}]"
                )


def _top(state: Tensor, dirs: int) -> Tensor:
    """The top layer's final state, directions side by side: (L*dirs, B, H) -> (B, dirs*H)."""
    top = state[-dirs:]
    return top.transpose(0, 1).reshape(top.shape[1], -1)


def _check_int(cfg, name: str, low: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"model: expected {name} to be an integer >= {low}, got {value!r}")


__all__ = ["BRIDGES", "DecoderState", "Translator", "TranslatorConfig"]
