"""``rnnkit train translate``: train an encoder-decoder with attention (many-to-many, unsynced).

rnnkit train translate eng-fra.txt --max-length 15                       # a pair table: source<TAB>target
rnnkit train translate eng-fra.txt --source-column 1 --target-column 0   # the other direction
rnnkit train translate --source train.de.gz --target train.en.gz \\
    --valid-source val.de.gz --valid-target val.en.gz \\
    --test-source test_2016_flickr.de.gz --test-target test_2016_flickr.en.gz --tokens subword

Data: a TSV of pairs (source<TAB>target[<TAB>anything], columns by --source-column /
--target-column, no header) or two aligned files, one sentence per line (.gz read transparently).
Without held-out files the pairs are split by --split with --split-seed. Tokens: words (punctuation
split off, with joiner marks so the output is real text) or SentencePiece subwords trained on the
training side (--subword-vocab, --subword-model, --shared-vocab). Pairs with an empty side are
dropped, and with --max-length training pairs with a longer side; both are counted. The best
checkpoint (highest greedy validation BLEU on --bleu-sentences sentences; --monitor val_loss for
the loss) is scored on the test split at the end: BLEU and chrF (sacreBLEU), greedy and beam 5.
"""

from __future__ import annotations

import argparse

from rnnkit.cells import CELL_TYPES
from rnnkit.cli.defaults import run_defaults, show_defaults
from rnnkit.cli.flags import add_run_flags, add_training_flags
from rnnkit.cli.options import add, fractions
from rnnkit.cli.run import run_verb
from rnnkit.tasks.registry import task_named


class BothStacks(argparse.Action):
    """A flag that sets one field of both recurrent stacks (``--cell gru``: encoder and decoder)."""

    def __call__(self, parser, namespace, values, option_string=None):
        field = self.dest.rpartition(".")[2]
        for stack in ("encoder", "decoder"):
            setattr(namespace, f"model.{stack}.{field}", values)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-translate",
        prog="rnnkit train translate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", nargs="*", help="a pair table (TSV), or nothing with --source/--target")
    add_run_flags(p)
    d = p.add_argument_group("data")
    add(d, "--source", dest="data_source", metavar="FILE", help="the source side of aligned training files")
    add(d, "--target", dest="data_target", metavar="FILE", help="the target side of aligned training files")
    add(d, "--source-column", dest="data.source_column", type=int, help="a pair table's source column (0-based)")
    add(d, "--target-column", dest="data.target_column", type=int, help="a pair table's target column (0-based)")
    add(d, "--valid", dest="data.valid", metavar="FILE", help="a validation pair table")
    add(d, "--valid-source", dest="data.valid", metavar="FILE", help="the source side of aligned validation files")
    add(d, "--valid-target", dest="data.valid_target", metavar="FILE", help="their target side")
    add(d, "--test", dest="data.test", metavar="FILE", help="a test pair table")
    add(d, "--test-source", dest="data.test", metavar="FILE", help="the source side of aligned test files")
    add(d, "--test-target", dest="data.test_target", metavar="FILE", help="their target side")
    add(d, "--tokens", dest="data.tokens", choices=["word", "subword"], help="words, or SentencePiece subwords")
    add(d, "--subword-vocab", dest="data.subword_vocab", type=int, help="pieces per subword model")
    add(d, "--subword-model", dest="data.subword_model", choices=["bpe", "unigram"], help="SentencePiece's algorithm")
    add(d, "--shared-vocab", dest="data.shared_vocab", action="store_const", const=True, help="one vocabulary for both")
    add(d, "--lowercase", dest="data.lowercase", action="store_const", const=True, help="fold case (output too)")
    add(d, "--min-freq", dest="data.min_freq", type=int, help="words seen fewer than N times in training become <unk>")
    add(d, "--max-vocab", dest="data.max_vocab", type=int, help="keep the most frequent words per side (0: all)")
    add(d, "--max-length", dest="data.max_length", type=int, help="drop training pairs with a side longer (0: none)")
    add(d, "--bleu-sentences", dest="data.bleu_sentences", type=int, help="validation sentences BLEU decodes (0: none)")
    add(d, "--encoding", dest="data.encoding", help="text encoding")
    add(d, "--errors", dest="data.errors", choices=["strict", "replace", "ignore"], help="undecodable bytes")
    add(d, "--split", dest="data.split", type=fractions, metavar="TRAIN,VAL,TEST", help="split fractions")
    add(d, "--split-seed", dest="data.split_seed", type=int, help="seed of the split")
    add(d, "--batch-size", dest="data.batch_size", type=int, help="sentence pairs per batch")
    add(d, "--no-bucket", dest="data.bucket", action="store_const", const=False, help="no length bucketing")
    m = p.add_argument_group("model")
    cells = list(CELL_TYPES)
    add(m, "--cell", dest="model.encoder.cell", action=BothStacks, choices=cells, help="both stacks' cell")
    add(m, "--encoder-cell", dest="model.encoder.cell", choices=cells, help="the encoder's cell")
    add(m, "--decoder-cell", dest="model.decoder.cell", choices=cells, help="the decoder's cell")
    add(m, "--hidden-size", dest="model.encoder.hidden_size", action=BothStacks, type=int, help="both stacks' size")
    add(m, "--encoder-hidden-size", dest="model.encoder.hidden_size", type=int, help="encoder units per layer")
    add(m, "--decoder-hidden-size", dest="model.decoder.hidden_size", type=int, help="decoder units per layer")
    add(m, "--encoder-layers", dest="model.encoder.num_layers", type=int, help="stacked encoder layers")
    add(m, "--decoder-layers", dest="model.decoder.num_layers", type=int, help="stacked decoder layers")
    add(
        m,
        "--no-bidirectional",
        dest="model.encoder.bidirectional",
        action="store_const",
        const=False,
        help="a left-to-right encoder only",
    )
    add(m, "--embedding-size", dest="model.embedding_size", type=int, help="both sides' embedding size")
    add(m, "--dropout", dest="model.dropout", type=float, help="dropout on embeddings, between layers, before the head")
    add(
        m,
        "--attention",
        dest="model.attention",
        choices=["none", "additive", "dot", "general"],
        help="none (the plain encoder-decoder), additive (Bahdanau), dot or general (Luong)",
    )
    add(m, "--attention-size", dest="model.attention_size", type=int, help="additive attention's size (0: decoder's)")
    add(
        m,
        "--input-feeding",
        dest="model.input_feeding",
        action="store_const",
        const=True,
        help="Luong's input feeding (the decoder then runs step by step in training)",
    )
    add(m, "--bridge", dest="model.bridge", choices=["learned", "last", "zero"], help="the decoder's initial state")
    add(m, "--tie-weights", dest="model.tie_weights", action="store_const", const=True, help="target embedding = head")
    add(m, "--label-smoothing", dest="model.label_smoothing", type=float, help="label smoothing of the training loss")
    add(
        m,
        "--scheduled-sampling",
        dest="model.scheduled_sampling",
        type=float,
        help="the chance a training step reads the model's own last guess (Bengio et al. 2015)",
    )
    add(
        m,
        "--backend",
        dest="model.encoder.backend",
        action=BothStacks,
        choices=["auto", "fused", "autograd", "native"],
        help="both stacks' recurrent backend",
    )
    add_training_flags(p)
    p.set_defaults(run=run)
    show_defaults(p, run_defaults(task_named("translate")))


def run(args) -> int:
    source, target = getattr(args, "data_source", None), getattr(args, "data_target", None)
    if (source is None) != (target is None):
        raise ValueError("data: expected --source FILE and --target FILE together (aligned files), got one of them")
    if source is not None:
        if args.data:
            raise ValueError(
                f"data: expected a pair table or --source/--target, got both ({args.data[0]} and --source {source})"
            )
        args.data = [source, target]
    return run_verb(args, task_named("translate"))
