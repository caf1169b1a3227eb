"""``rnnkit`` command line: one sub-command per module here. Errors print one line, exit 2."""

from __future__ import annotations

import argparse
import sys

from rnnkit import __version__

COMMANDS = ("train", "sample", "predict", "tag", "eval", "diagnose", "visualize", "bench")
#: "rnnkit train classify ..." and "rnnkit train tag ..." are the sub-commands "train-classify" / "train-tag"
TRAIN_TASKS = ("classify", "tag")
EXIT_STATUS = (
    "exit status: 0 done; 1 training stopped because it diverged; 2 bad input, a run directory in use by "
    "another run, or a file that could not be read or written (a full disk, a read-only directory: one line "
    "says which checkpoint is kept, and every checkpoint already written stays whole); 130 interrupted"
)


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, like every other bad input
        self.exit(2, f"rnnkit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from rnnkit.cli import bench as bench_cmd
    from rnnkit.cli import diagnose as diagnose_cmd
    from rnnkit.cli import eval as eval_cmd
    from rnnkit.cli import predict as predict_cmd
    from rnnkit.cli import sample as sample_cmd
    from rnnkit.cli import tag as tag_cmd
    from rnnkit.cli import train as train_cmd
    from rnnkit.cli import train_classify, train_tag
    from rnnkit.cli import visualize as visualize_cmd

    parser = ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks from their equations.", epilog=EXIT_STATUS
    )
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    modules = (train_cmd, sample_cmd, predict_cmd, tag_cmd, eval_cmd, diagnose_cmd, visualize_cmd, bench_cmd)
    for module in (*modules, train_classify, train_tag):
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    from rnnkit.cli.runtime import one_line_warnings, tune_malloc
    from rnnkit.train import TrainingStopped

    tune_malloc()
    one_line_warnings()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "train" and argv[1] in TRAIN_TASKS:
        argv = [f"train-{argv[1]}", *argv[2:]]  # a file literally named "classify": ./classify
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
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
    except KeyboardInterrupt as e:  # TrainingInterrupted: a checkpoint was saved; its message says how to go on
        print(f"rnnkit: {e}" if str(e) else "rnnkit: interrupted", file=sys.stderr)
        return 130


def _os_error_text(e: OSError) -> str:
    """ "PATH: No space left on device" rather than "[Errno 28] No space left on device: 'PATH'"."""
    if not e.strerror:
        return str(e)
    return f"{e.filename}: {e.strerror}" if e.filename else e.strerror


if __name__ == "__main__":
    sys.exit(main())
