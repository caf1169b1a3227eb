"""``rnnkit train classify``: train a sequence classifier (many-to-one) or regressor.

rnnkit train classify sst2/train.tsv --valid sst2/dev.tsv --bidirectional --pooling max
rnnkit train classify rt-polarity.pos rt-polarity.neg --split 0.81,0.09,0.1   # one file per class
rnnkit train classify names/ --tokens char --split 0.72,0.08,0.2             # a directory, one file per class
rnnkit train classify scores.csv --text-column review --label-column stars --task regress

Data: a TSV/CSV table with a text and a label column (header detected; --text-column /
--label-column by name or 0-based number), two or more files with one class each (the label is
the file name's distinguishing part: rt-polarity.pos -> "pos"), or a directory of such files
(names/Arabic.txt -> "Arabic"). Without --valid/--test the examples are split by --split
(train, val, test), stratified by label, with --split-seed. The best checkpoint (the highest
validation accuracy, --monitor val_acc; the lowest validation loss for --task regress) is evaluated
on the test split at the end; a confusion-matrix heatmap goes to the run directory.
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
        "train-classify",
        prog="rnnkit train classify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", nargs="*", help="a TSV/CSV file, two or more files one per class, or a directory")
    add_run_flags(p)
    d = p.add_argument_group("data")
    add_labelled_data_flags(d, "sequences")
    add(d, "--tokens", dest="data.tokens", choices=["word", "char"], help="word or char tokens")
    add(d, "--text-column", dest="data.text_column", help="text column: header name or 0-based number")
    add(d, "--label-column", dest="data.label_column", help="label column: header name or 0-based number")
    add(
        d,
        "--delimiter",
        dest="data.delimiter",
        help="field separator (default: tab for .tsv, comma for .csv, else detected)",
    )
    add(
        d,
        "--header",
        dest="data.header",
        choices=["auto", "yes", "no"],
        help="is the first row a header (auto: detected)",
    )
    add(d, "--no-stratify", dest="data.stratify", action="store_const", const=False, help="plain random split")
    add(d, "--max-length", dest="data.max_length", type=int, help="keep the first N tokens of each text (0: all)")
    add(
        d,
        "--class-weights",
        dest="data.class_weights",
        choices=["none", "balanced"],
        help="balanced: weigh each class's loss by N / (C * count) (class imbalance)",
    )
    m = p.add_argument_group("model")
    add(
        m,
        "--task",
        dest="model.task",
        choices=["classify", "regress"],
        help="classify into classes, or regress one number",
    )
    add_recurrent_flags(m)
    add(
        m,
        "--bidirectional",
        dest="model.rnn.bidirectional",
        action="store_const",
        const=True,
        help="bidirectional recurrent layers (BiRNN)",
    )
    add(
        m,
        "--pooling",
        dest="model.pooling",
        choices=["last", "mean", "max"],
        help="over time: the last state (both ends when bidirectional), the mean or the max",
    )
    add_training_flags(p)
    p.set_defaults(run=lambda args: run_verb(args, task_named("classify")))
    show_defaults(p, run_defaults(task_named("classify")))
