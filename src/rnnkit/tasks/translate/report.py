"""A translator's report: ``rnnkit eval`` of its checkpoints, and the report at the end of training.

BLEU and chrF by sacreBLEU on detokenised output against the references as written (lower-cased
when the run lower-cased), with sacreBLEU's signatures printed; perplexity per target token
(``<eos>`` included) by teacher forcing; a few examples.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from rnnkit.config import override
from rnnkit.data.readers.parallel import ParallelText
from rnnkit.tasks.digests import check_sources
from rnnkit.tasks.labelled import one_split
from rnnkit.tasks.spec import EvalRequest
from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.tasks.translate.loaded import LoadedTranslator
from rnnkit.tasks.translate.prepare import prepare_translation, read_pairs
from rnnkit.tasks.translate.training import teacher_forced_nll

#: Examples printed under the scores.
EXAMPLES = 3


def scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """{"bleu", "chrf", "bleu_signature", "chrf_signature"} of detokenised text (sacreBLEU defaults)."""
    import sacrebleu

    bleu, chrf = sacrebleu.BLEU(), sacrebleu.CHRF()
    refs = [list(references)]
    return {
        "bleu": float(bleu.corpus_score(list(hypotheses), refs).score),
        "chrf": float(chrf.corpus_score(list(hypotheses), refs).score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def evaluate_pairs(
    loaded: LoadedTranslator, pairs: ParallelText, beam: int = 5, alpha: float = 1.0, batch_size: int = 64
) -> dict:
    """BLEU, chrF (beam search, or greedy with ``beam`` 1), perplexity, and the outputs, of ``pairs``."""
    lowercase = bool(loaded.meta["config"]["data"].get("lowercase", False))
    references = [t.lower() for t in pairs.targets] if lowercase else list(pairs.targets)
    hypotheses = loaded.translate(pairs.sources, beam=beam, alpha=alpha, batch_size=batch_size)
    result = scores(hypotheses, references)
    src = loaded.encode(pairs.sources)
    eos = loaded.target_vocab.eos_id
    tgt = [[*loaded.target_vocab.encode_tokens(loaded.target_segmenter.cut(t)), eos] for t in pairs.targets]
    nll = teacher_forced_nll(loaded.model, src, tgt, batch_size, loaded.device)
    result.update(
        perplexity=math.exp(min(nll, 700.0)),
        nll=nll,
        pairs=len(pairs),
        beam=beam,
        alpha=alpha,
        hypotheses=hypotheses,
        references=references,
    )
    return result


def print_scores(result: dict, where: str, out: Callable[[str], None], sources: Sequence[str]) -> None:
    decoding = f"beam {result['beam']}, alpha {result['alpha']:g}" if result["beam"] > 1 else "greedy"
    out(
        f"{where} ({result['pairs']:,} pairs, {decoding}): BLEU {result['bleu']:.2f}, chrF {result['chrf']:.2f}; "
        f"perplexity {result['perplexity']:.2f} per target token"
    )
    out(f"  sacreBLEU {result['bleu_signature']}; chrF {result['chrf_signature']}")
    for s, h, r in list(zip(sources, result["hypotheses"], result["references"]))[:EXAMPLES]:
        out(f"  source     {s}\n  output     {h}\n  reference  {r}")


def report_translator(run_dir: Path, data, split: str, log: Callable[[str], None]) -> None:
    """After training: the best checkpoint on ``split``, greedy and beam 5."""
    from rnnkit.tasks.loading import load

    loaded = load(run_dir, expect="translate")
    pairs = data.pairs[split]
    for beam in (1, 5):
        result = evaluate_pairs(loaded, pairs, beam=beam)
        print_scores(result, f"best checkpoint on the {split} split", log, pairs.sources if beam == 1 else ())


def evaluate_translator(loaded: LoadedTranslator, request: EvalRequest, out: Callable[[str], None]) -> None:
    """``rnnkit eval`` of a translator: a stored split, or ``--data`` (a pair table, or two aligned
    files: source then target)."""
    stored = loaded.meta["config"]
    data_cfg = override(TranslateDataConfig(), stored["data"], "checkpoint [data]")
    if request.data:
        pairs, where = read_pairs(data_cfg, request.data), ", ".join(request.data)
    else:
        split = one_split(request)
        check_sources(stored)
        pairs = prepare_translation(data_cfg, stored["source"], loaded.meta).pairs[split]
        where = f"the {split} split"
        if not len(pairs):
            raise ValueError(f"eval: the stored {split} split is empty; expected a split with pairs, or --data FILE")
    result = evaluate_pairs(loaded, pairs, request.beam, request.alpha, request.batch_size)
    if request.as_json:
        out(json.dumps({k: v for k, v in result.items() if k not in ("hypotheses", "references")}))
    else:
        print_scores(result, where, out, pairs.sources)
