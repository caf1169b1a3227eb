"""A tiny trained language model for the command-line tests: a run directory in seconds."""

from pathlib import Path

from rnnkit.cli.main import main

TEXT = (
    "“Curiouser and curiouser!” cried Alice (she was so much surprised).\n"
    "“Who are you?” said the Caterpillar. [This was not an encouraging opening.]\n"
) * 12


def tiny_run(root: Path, cell: str = "lstm") -> tuple[Path, Path]:
    """(run directory, text file) of a 2-layer, 8-unit model trained for 2 steps on TEXT."""
    text = root / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    run = root / f"run-{cell}"
    code = main(
        [
            "train",
            str(text),
            "--cell",
            cell,
            "--hidden-size",
            "8",
            "--num-layers",
            "2",
            "--embedding-size",
            "4",
            "--max-steps",
            "2",
            "--seq-len",
            "20",
            "--batch-size",
            "4",
            "--eval-every",
            "2",
            "--run-dir",
            str(run),
            "--sample-length",
            "0",
            "--no-progress",
        ]
    )
    assert code == 0
    return run, text
