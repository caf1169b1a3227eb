"""``rnnkit`` command line: one sub-command per module here. Errors print one line, exit 2.

Start-up is lazy: the top-level parser lists the commands from ``COMMAND_TABLE`` (name, module,
one-line help) without importing any of them, so ``rnnkit --help`` and ``rnnkit --version`` never
import torch; only the chosen command's module is imported and only its parser is built.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rnnkit import __version__
from rnnkit.cli.suggest import unknown_options_message

#: name -> (module, the one-line help of ``rnnkit --help``; the module's add_parser gives the same)
COMMAND_TABLE = {
    "train": (
        "rnnkit.cli.train",
        "train a language model on text; `train classify` / `train tag` / `train translate`: the other tasks",
    ),
    "sample": ("rnnkit.cli.sample", "generate text from a trained model"),
    "predict": ("rnnkit.cli.predict", "label texts with a trained classifier"),
    "tag": ("rnnkit.cli.tag", "tag tokens with a trained tagger"),
    "translate": ("rnnkit.cli.translate", "translate sentences with a trained translator (beam search, n-best)"),
    "eval": (
        "rnnkit.cli.eval",
        "evaluate a trained model (LM: nats, bits, perplexity; classifier/tagger: accuracy, F1, confusion)",
    ),
    "runs": ("rnnkit.cli.runs", "list the runs under a directory (default runs/): task, model, steps, best, size"),
    "info": ("rnnkit.cli.info", "one run: its configuration, data, metrics and files"),
    "diagnose": ("rnnkit.cli.diagnose", "gradient flow through time: plot, CSV and a one-line summary"),
    "visualize": (
        "rnnkit.cli.visualize",
        "colour a text by a unit's activation (self-contained HTML); --find units tracking text properties",
    ),
    "bench": (
        "rnnkit.cli.bench",
        "benchmarks: `bench memory` trains each cell on long-range memory tasks at several lags",
    ),
}
COMMANDS = tuple(COMMAND_TABLE)
#: "rnnkit train classify ...", "train tag ...", "train translate ..." are the sub-commands "train-classify", ...
TRAIN_TASKS = ("classify", "tag", "translate")
HIDDEN = {f"train-{task}": f"rnnkit.cli.train_{task}" for task in TRAIN_TASKS}
EXIT_STATUS = (
    "exit status: 0 done; 1 training stopped because it diverged; 2 bad input, a run directory in use by "
    "another run, or a file that could not be read or written (a full disk, a read-only directory: one line "
    "says which checkpoint is kept, and every checkpoint already written stays whole); 130 interrupted"
)


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, like every other bad input
        self.exit(2, f"rnnkit: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's, but an unknown option with a close match says which option was meant."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(unknown_options_message(self, extras))
        return parsed


def top_parser() -> ArgumentParser:
    """``rnnkit`` itself: --help, --version and the command list, built from COMMAND_TABLE alone."""
    parser = ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks from their equations.", epilog=EXIT_STATUS
    )
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name, (_, help_text) in COMMAND_TABLE.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def command_parser(name: str) -> ArgumentParser:
    """The parser of one command (its module imported now, no other)."""
    module = importlib.import_module(HIDDEN.get(name) or COMMAND_TABLE[name][0])
    sub = ArgumentParser(prog="rnnkit").add_subparsers(parser_class=ArgumentParser)
    module.add_parser(sub)
    return sub.choices[name]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name, rest = _command_of(argv)
    if name is None:
        parser = top_parser()
        parser.parse_args(argv)  # --help, --version and errors exit here
        parser.print_help(sys.stderr)
        return 2
    from rnnkit.cli.runtime import one_line_warnings, tune_malloc

    tune_malloc()  # before torch allocates anything
    one_line_warnings()
    args = command_parser(name).parse_args(rest)
    from rnnkit.train import TrainingStopped

    try:
        return args.run(args) or 0
    except TrainingStopped as e:
        print(f"rnnkit: {e}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:  # DataError and CheckpointError are ValueErrors
        message = _os_error_text(e) if isinstance(e, OSError) else str(e)
        message = message.splitlines()[0] if message else type(e).__name__
        print(f"rnnkit: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # rnnkit.train.TrainingInterrupted says where the run was saved
        print(f"rnnkit: {e}" if str(e) else "rnnkit: interrupted", file=sys.stderr)
        return 130


def _command_of(argv: list[str]) -> tuple[str | None, list[str]]:
    """(command, its arguments) when argv starts with one; (None, argv) for the top-level parser."""
    if not argv or argv[0] not in (*COMMANDS, *HIDDEN):
        return None, argv
    if argv[0] == "train" and len(argv) >= 2 and argv[1] in TRAIN_TASKS:
        return f"train-{argv[1]}", argv[2:]  # a file literally named "classify": ./classify
    return argv[0], argv[1:]


def _os_error_text(e: OSError) -> str:
    """ "PATH: No space left on device" rather than "[Errno 28] No space left on device: 'PATH'"."""
    if not e.strerror:
        return str(e)
    return f"{e.filename}: {e.strerror}" if e.filename else e.strerror


if __name__ == "__main__":
    sys.exit(main())
