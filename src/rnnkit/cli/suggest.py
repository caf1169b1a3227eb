"""The close match for an unknown option: ``--rnn-size`` -> "did you mean --hidden-size?".

Two sources, in order: other toolkits' names for rnnkit's options (char-rnn's rnn_size, seq_length,
learning_rate ...; Keras / PyTorch scripts' hidden_dim, n_layers, epochs ...), then difflib over the
command's own options. An alias is offered only where the command has its target.
"""

from __future__ import annotations

import argparse
import difflib

#: another toolkit's option name (lower case, "-" for "_") -> rnnkit's
ALIASES = {
    # char-rnn / torch-rnn / nanoGPT
    "rnn-size": "--hidden-size",
    "seq-length": "--seq-len",
    "learning-rate": "--lr",
    "learning-rate-decay": "--lr-decay",
    "learning-rate-decay-after": "--lr-decay-start",
    "decay-rate": "--lr-decay",
    "grad-clip": "--clip",
    "model": "--cell",
    "eval-val-every": "--eval-every",
    "eval-interval": "--eval-every",
    "print-every": "--log-every",
    "log-interval": "--log-every",
    "checkpoint-dir": "--run-dir",
    "out-dir": "--run-dir",
    "max-iters": "--max-steps",
    "gpuid": "--device",
    "gpu": "--device",
    "cuda": "--device",
    "wordvec-size": "--embedding-size",
    "n-embd": "--embedding-size",
    "n-layer": "--num-layers",
    "block-size": "--seq-len",
    "weight-decay-rate": "--weight-decay",
    # Keras / PyTorch scripts
    "hidden-dim": "--hidden-size",
    "hidden-units": "--hidden-size",
    "units": "--hidden-size",
    "nhid": "--hidden-size",
    "n-hidden": "--hidden-size",
    "n-layers": "--num-layers",
    "nlayers": "--num-layers",
    "layers": "--num-layers",
    "embed-dim": "--embedding-size",
    "embedding-dim": "--embedding-size",
    "emb-size": "--embedding-size",
    "emsize": "--embedding-size",
    "bptt": "--seq-len",
    "epochs": "--max-epochs",
    "epoch": "--max-epochs",
    "num-epochs": "--max-epochs",
    "n-epochs": "--max-epochs",
    "steps": "--max-steps",
    "max-iter": "--max-steps",
    "num-steps": "--max-steps",
    "clip-grad": "--clip",
    "clip-norm": "--clip",
    "max-grad-norm": "--clip",
    "wd": "--weight-decay",
    "dropout-rate": "--dropout",
    "rnn-type": "--cell",
    "cell-type": "--cell",
    "bidir": "--bidirectional",
    "tied": "--tie-weights",
    "tie": "--tie-weights",
}


def suggestion(parser: argparse.ArgumentParser, option: str) -> str | None:
    """The option of ``parser`` that ``option`` (e.g. "--rnn_size=128") most likely meant, or None."""
    options = [s for s in parser._option_string_actions if s.startswith("--")]
    wanted = _normal(option)
    alias = ALIASES.get(wanted)
    if alias in options:
        return alias
    by_name = {_normal(s): s for s in options}
    if wanted in by_name:  # --batch_size, --Batch-Size
        return by_name[wanted]
    close = difflib.get_close_matches(wanted, list(by_name), n=1, cutoff=0.7)
    return by_name[close[0]] if close else None


def unknown_options_message(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """The one-line error for arguments ``parser`` did not recognise: "unknown option --rnn-size; did you
    mean --hidden-size?" for the first unknown option with a close match, else argparse's own text."""
    for extra in extras:
        if extra.startswith("-") and len(extra) > 1 and not _is_number(extra):
            meant = suggestion(parser, extra)
            if meant:
                return f"unknown option {extra.split('=')[0]}; did you mean {meant}?"
    return f"unrecognized arguments: {' '.join(extras)}"


def _normal(option: str) -> str:
    return option.split("=")[0].lstrip("-").lower().replace("_", "-")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
