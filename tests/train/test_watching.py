"""What there is to watch during training: samples mid-run (--sample-every, which must not change
the computation), curves.png's accuracy and gradient-norm panels, and TensorBoard scalars."""

import json
import sys

import numpy as np
import pytest

from rnnkit.checkpoint import read_meta
from rnnkit.data import vocab_from_dict
from rnnkit.train import TrainConfig, plot_curves
from rnnkit.train.tensorboard import MISSING
from tests.cli._harness import cli, ok
from tests.cli._runs import TINY, corpus_text
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots, records, toy_trainer  # noqa: F401 (no_plots: a fixture)
from tests.train.test_trainer import lm_trainer

VOLATILE = {"elapsed_s", "tokens_per_s"}


def history(run) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in records(run)]


# ----- samples ------------------------------------------------------------------------------------
def test_samples_do_not_change_what_the_run_computes(tmp_path):
    settings = {"max_steps": 9, "eval_every": 4, "log_every": 2, "dropout": 0.3}
    plain = lm_trainer(tmp_path / "plain", **settings)
    plain.fit()
    sampled = lm_trainer(tmp_path / "sampled", sample_every=3, **settings)
    sampled.task.vocab = vocab_from_dict(sampled.meta["vocab"])
    messages = []
    sampled.log = messages.append
    sampled.fit()
    samples = [m for m in messages if m.startswith("--- sample at step")]
    assert [m.splitlines()[0] for m in samples] == [f"--- sample at step {s} ---" for s in (3, 6, 9)]
    assert all(len(m.split("\n", 1)[1]) > 20 for m in samples)  # 200 characters, some may be newlines
    assert history(tmp_path / "sampled") == history(tmp_path / "plain")
    for name in ("latest.safetensors", "best.safetensors"):  # weights, optimiser, RNG, carried state
        assert assert_same_checkpoint(tmp_path / "plain" / name, tmp_path / "sampled" / name) > 10
    assert sampled.model.training  # left in training mode


def test_sample_every_needs_a_task_that_samples(tmp_path):
    with pytest.raises(ValueError, match="expected sample_every 0 for a task that cannot sample"):
        toy_trainer(tmp_path, sample_every=5)
    with pytest.raises(ValueError, match="sample_every to be an integer >= 0"):
        TrainConfig(sample_every=-1).validate()
    with pytest.raises(ValueError, match="tensorboard to be true or false"):
        TrainConfig(tensorboard="yes").validate()


def test_sample_every_and_tensorboard_through_the_cli(tmp_path):
    pytest.importorskip("tensorboard")
    data, run = tmp_path / "corpus.txt", tmp_path / "run"
    data.write_text(corpus_text())
    flags = [*TINY, "--max-steps", 8, "--eval-every", 4, "--sample-length", 0]
    code, _, err = cli("train", data, *flags, "--sample-every", 4, "--tensorboard", "--run-dir", run)
    assert code == 0, err
    assert err.count("--- sample at step") == 2
    assert json.loads((run / "config.json").read_text())["train"]["sample_every"] == 4
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    ok("train", "--resume", run, "--max-steps", 12, "--sample-every", 0, "--no-progress", "--sample-length", 0)
    assert read_meta(run / "latest.safetensors")["step"] == 12


# ----- curves.png ---------------------------------------------------------------------------------
def train_records(steps: int, clipped_every: int = 0) -> list[dict]:
    rng, out = np.random.default_rng(0), []
    for end in range(10, steps + 1, 10):
        norms = [float(x) for x in rng.lognormal(0, 1, 10)]
        clipped = [s for s in range(end - 9, end + 1) if clipped_every and s % clipped_every == 0]
        out.append(
            {
                "kind": "train",
                "step": end,
                "train_loss": 1.0,
                "grad_norm": max(norms),
                "grad_norms": norms,
                "clipped_steps": clipped,
            }
        )
    return out


def test_classifier_curves_show_the_validation_accuracy(tmp_path):
    evals = [{"kind": "eval", "step": s, "val_loss": 1.0 / s, "val_acc": a} for s, a in ((10, 0.5), (20, 0.75))]
    fig = plot_curves(train_records(20) + evals, tmp_path / "curves.png", title="cls")
    loss, acc, norm = fig.axes
    assert acc.get_ylabel() == "accuracy (%)"
    (line,) = acc.get_lines()
    assert list(line.get_xdata()) == [10, 20] and list(line.get_ydata()) == [50.0, 75.0]
    assert line.get_label() == "validation accuracy" and acc.get_ylim()[1] <= 100.5
    assert loss.get_ylabel().startswith("loss") and norm.get_yscale() == "log"
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_language_model_curves_have_no_accuracy_panel(tmp_path):
    evals = [{"kind": "eval", "step": 10, "val_loss": 2.0, "val_bpc": 2.9}]
    assert len(plot_curves(train_records(10) + evals, tmp_path / "curves.png").axes) == 2


def test_the_gradient_norm_of_a_long_run_is_a_running_median_and_its_range(tmp_path):
    fig = plot_curves(train_records(5000, clipped_every=7), tmp_path / "curves.png")
    norm = fig.axes[-1]
    (median,) = norm.get_lines()
    assert len(median.get_xdata()) == 200  # windows of 25 steps, not 5000 points
    assert "median of 25 steps" in median.get_label()
    assert [c.get_label() for c in norm.collections][:2] == ["min-max", "10th-90th percentile"]
    values = np.array([v for r in train_records(5000) for v in r["grad_norms"]]).reshape(200, 25)
    assert np.allclose(median.get_ydata(), np.median(values, axis=1))

    short = plot_curves(train_records(300, clipped_every=7), tmp_path / "short.png").axes[-1]
    assert len(short.get_lines()[0].get_xdata()) == 300  # every step of a short run
    assert len(short.collections[0].get_offsets()) == 300 // 7  # the clipped steps


# ----- TensorBoard --------------------------------------------------------------------------------
def test_tensorboard_scalars_are_written(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    toy_trainer(tmp_path, max_steps=6, log_every=2, eval_every=3, tensorboard=True).fit()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "train/lr", "train/grad_norm", "train/tok_per_s", "val/loss"} <= set(tags)
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4, 6]
    assert [e.step for e in events.Scalars("val/loss")] == [3, 6]
    losses = [r["train_loss"] for r in records(tmp_path, "train")]
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(losses)


def test_tensorboard_missing_is_one_line_before_any_file(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails: as without the package
    trainer = toy_trainer(tmp_path / "run", max_steps=4, tensorboard=True)
    with pytest.raises(ValueError) as caught:
        trainer.fit()
    assert str(caught.value) == MISSING and "\n" not in MISSING
    assert not list((tmp_path / "run").iterdir())
