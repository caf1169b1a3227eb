"""A tagger's report: ``rnnkit eval`` of its checkpoints, and the report at the end of training:
token accuracy, per-tag precision / recall / F1, and the accuracy on words outside the training
vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from rnnkit.config import override
from rnnkit.infer.metrics import format_report
from rnnkit.tasks.digests import check_sources, check_vocab
from rnnkit.tasks.known import inherited
from rnnkit.tasks.labelled import one_split
from rnnkit.tasks.spec import EvalRequest
from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.loaded import LoadedTagger
from rnnkit.tasks.tag.prepare import prepare_tagging, read_sentences


def report_tagger(checkpoint, sentences, where: str, out: Callable[[str], None], as_json=False) -> dict:
    from rnnkit.tasks.loading import load

    tagger = load(checkpoint, expect="tag")
    result = tagger.evaluate(sentences)
    out(json.dumps(result) if as_json else format_report(result, title=where))
    return result


def evaluate_tagger(loaded: LoadedTagger, request: EvalRequest, out: Callable[[str], None]) -> None:
    """``rnnkit eval`` of a tagger checkpoint."""
    stored = loaded.meta["config"]
    data_cfg = override(TagDataConfig(), stored["data"], "checkpoint [data]")
    if request.data:
        sentences, where = read_sentences(data_cfg, request.data), ", ".join(request.data)
    else:
        split = one_split(request)
        check_sources(stored)
        prepared = prepare_tagging(data_cfg, stored["source"], inherited(loaded.meta))
        check_vocab(prepared.vocab.to_dict(), loaded.meta["vocab"], stored["source"])
        sentences, where = prepared.sentences[split], f"the {split} split"
        if not len(sentences):
            raise ValueError(
                f"eval: the stored {split} split is empty; expected a split with sentences, or --data FILE"
            )
    result = loaded.evaluate(sentences)
    out(json.dumps(result) if request.as_json else format_report(result, title=where))
