"""``rnnkit eval`` of a language model: loss in nats and bits per symbol, and perplexity, on files
or on the stored splits of the training text (rebuilt from the checkpoint's settings)."""

from __future__ import annotations

import json

from rnnkit.config import override
from rnnkit.data import read_text
from rnnkit.tasks.digests import check_sources, check_vocab
from rnnkit.tasks.known import inherited
from rnnkit.tasks.lm.config import DataConfig
from rnnkit.tasks.lm.loaded import LoadedLanguageModel, loss_report
from rnnkit.tasks.lm.prepare import prepare_corpus
from rnnkit.tasks.lm.training import stream_loss
from rnnkit.tasks.spec import EvalRequest, Log


def evaluate_lm(lm: LoadedLanguageModel, request: EvalRequest, out: Log) -> None:
    results: dict[str, dict] = {}
    if request.data:
        texts = {path: read_text(path) for path in request.data}  # read all first: a bad file fails before any output
        for path, text in texts.items():
            results[path] = lm.evaluate_text(text, request.unknown, request.batch_size, request.seq_len)
    else:
        stored = lm.meta["config"]
        data_cfg = override(DataConfig(), stored["data"], "checkpoint [data]")
        check_sources(stored)
        corpus = prepare_corpus(data_cfg, stored["source"], inherited(lm.meta))
        check_vocab(corpus.vocab.to_dict(), lm.meta["vocab"], stored["source"])
        for split in request.splits:
            if len(corpus.splits[split]) < 2:
                raise ValueError(f"eval: the stored {split} split is empty; expected a split with text, or --data FILE")
        for split in request.splits:
            ids = corpus.splits[split]
            nats = stream_loss(lm.model, ids, request.batch_size, request.seq_len, lm.device)
            results[split] = loss_report(nats, len(ids) - 1)
    if request.as_json:
        out(json.dumps(next(iter(results.values())) if len(results) == 1 else results))
        return
    per = "word" if lm.word_level else "symbol"
    for where, result in results.items():
        where = where if request.data else f"the {where} split"
        out(
            f"{where}: {result['loss']:.4f} nats/{per}, {result['bits']:.4f} bits/{per}, "
            f"perplexity {result['perplexity']:.3f} ({result['tokens']:,} predictions)"
        )
