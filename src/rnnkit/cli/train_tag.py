"""``rnnkit train tag``: train a sequence tagger (synced many-to-many), e.g. part-of-speech tags.

rnnkit train tag en_ewt-ud-train.conllu.gz --valid en_ewt-ud-dev.conllu --test en_ewt-ud-test.conllu
rnnkit train tag train.conllu --column xpos --char-features
rnnkit train tag tagged.txt --split 0.8,0.1,0.1      # token<TAB>tag lines, blank line between sentences

Data: CoNLL-U (UPOS by default, --column xpos; comments, multi-word ranges and empty nodes are
skipped) or ``token<TAB>tag`` columns. Model: word embedding (+ a character BiRNN per word with
--char-features) -> bidirectional stacked RNN -> per-token linear; the loss counts real tokens only.
At the end the best checkpoint is evaluated on the test split (token accuracy, per-tag P/R/F1,
accuracy on words unseen in training).
"""

from __future__ import annotations

import argparse

from rnnkit.cli.defaults import run_defaults, show_defaults
from rnnkit.cli.flags import add_labelled_data_flags, add_recurrent_flags, add_run_flags, add_training_flags
from rnnkit.cli.options import add
from rnnkit.cli.run import run_verb
from rnnkit.tasks.registry import task_named


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-tag",
        prog="rnnkit train tag",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", nargs="*", help="CoNLL-U or token<TAB>tag file(s) to train on")
    add_run_flags(p)
    d = p.add_argument_group("data")
    add_labelled_data_flags(d, "sentences")
    add(d, "--column", dest="data.column", choices=["upos", "xpos"], help="CoNLL-U tag column")
    add(
        d,
        "--format",
        dest="data.format",
        choices=["auto", "conllu", "columns"],
        help="data format (auto: from the content)",
    )
    add(
        d,
        "--word-dropout",
        dest="data.word_dropout",
        type=float,
        help="alpha: in training a word seen n times becomes <unk> with probability alpha/(alpha+n)",
    )
    m = p.add_argument_group("model")
    add_recurrent_flags(m, "word embedding size")
    add(
        m,
        "--char-features",
        dest="model.char_features",
        action="store_const",
        const=True,
        help="add a character BiRNN's reading of each word to its embedding",
    )
    add(
        m,
        "--char-embedding-size",
        dest="model.char_embedding_size",
        type=int,
        help="character embedding size (--char-features)",
    )
    add(
        m,
        "--char-hidden-size",
        dest="model.char_hidden_size",
        type=int,
        help="character BiRNN hidden units per direction (--char-features)",
    )
    add(
        m,
        "--unidirectional",
        dest="model.rnn.bidirectional",
        action="store_const",
        const=False,
        help="left-to-right only (default: bidirectional)",
    )
    add_training_flags(p)
    p.set_defaults(run=lambda args: run_verb(args, task_named("tag")))
    show_defaults(p, run_defaults(task_named("tag")))
