"""The model a time budget gets (rnnkit.tasks.lm.budget): the table, the layer it makes, the demo,
and what `rnnkit train FILE --max-minutes M` really trains (config.json), with and without sizes given."""

import json
import math

import pytest

from rnnkit.cli.main import main
from rnnkit.tasks.lm.budget import (
    LARGE,
    MAX_PASSES,
    SMALL,
    budget_layer,
    dropout_for,
    passes,
    recipe_for,
    rule_text,
    size_for,
    sized_line,
    text_chars,
)
from rnnkit.tasks.lm.spec import BUNDLED, DEMO, DEMO_MINUTES, LM

ALICE = text_chars([str(BUNDLED)])


@pytest.mark.parametrize("recipe", [SMALL, LARGE], ids=["small", "large"])
def test_each_table_grows_with_the_budget_and_covers_every_budget(recipe):
    budgets = [upto for upto, _, _ in recipe.sizes]
    assert budgets == sorted(budgets) and budgets[-1] == math.inf
    params = [layers * hidden * hidden for _, layers, hidden in recipe.sizes]
    assert params == sorted(params)
    chars = None if recipe is SMALL else 10**12
    for upto, layers, hidden in recipe.sizes[:-1]:
        assert size_for(upto, chars) == (layers, hidden)
    assert size_for(0.01, chars) == recipe.sizes[0][1:]
    assert size_for(1e6, chars if chars is None else 10**20) == recipe.sizes[-1][1:]


def test_the_recipe_follows_the_passes_the_budget_would_make_over_the_text():
    assert recipe_for(3.0, None) is SMALL  # unknown size: the safe one
    size = size_for(3.0, 10**12)
    chars = next(c for c in range(10**5, 10**8, 1000) if passes(3.0, c, size) <= MAX_PASSES)
    assert recipe_for(3.0, chars) is LARGE and recipe_for(3.0, chars - 1000) is SMALL  # the boundary
    # the measured cases: tiny Shakespeare is large for 90 s to 10 minutes, with dropout only at 10
    # (~19 passes); the bundled Alice is small for the demo's budget
    assert [recipe_for(m, 1_115_394) for m in (1.5, 3.0, 10.0)] == [LARGE, LARGE, LARGE]
    assert [dropout_for(m, 1_115_394) for m in (1.5, 3.0, 10.0)] == [0.0, 0.0, 0.2]
    assert [budget_layer(m, 1_115_394)["model"]["rnn"]["hidden_size"] for m in (1.5, 3.0, 10.0)] == [256, 512, 512]
    assert budget_layer(10.0, 1_115_394)["train"]["lr"] == LARGE.lr[1, 512]
    assert recipe_for(DEMO_MINUTES, ALICE) is SMALL and dropout_for(DEMO_MINUTES, ALICE) == 0.2
    assert SMALL.settings["model"]["dropout"] > 0 and LARGE.settings["model"]["dropout"] == 0
    assert LARGE.settings["train"]["lr_schedule"] == "cosine"


def test_text_chars_counts_plain_files_only(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("abc", encoding="utf-8")
    b.write_text("de", encoding="utf-8")
    assert text_chars([str(a), str(b)]) == 5
    assert text_chars([str(tmp_path)]) is None
    assert text_chars([str(tmp_path / "missing.txt")]) is None
    (tmp_path / "c.txt.gz").write_bytes(b"x")
    assert text_chars([str(a), str(tmp_path / "c.txt.gz")]) is None


@pytest.mark.parametrize("chars", [None, 10**9], ids=["small", "large"])
def test_the_layer_is_the_recipe_plus_the_size_and_never_shares_its_tables(chars):
    recipe, layer = recipe_for(1.0, chars), budget_layer(1.0, chars)
    layers, hidden = size_for(1.0, chars)
    assert layer["model"]["rnn"] == {"num_layers": layers, "hidden_size": hidden}
    assert {k: v for k, v in layer["model"].items() if k != "rnn"} == recipe.settings["model"]
    assert layer["data"] == recipe.settings["data"] and layer["train"] == recipe.settings["train"]
    layer["train"]["lr"] = 1.0
    assert recipe.settings["train"]["lr"] != 1.0


def test_the_demo_is_the_rule_at_its_budget():
    train = {**SMALL.settings["train"], "max_minutes": DEMO_MINUTES}
    assert DEMO == {**budget_layer(DEMO_MINUTES, ALICE), "train": train}
    assert LM.base_layer({}, []) == DEMO
    sized = LM.base_layer({"train": {"max_minutes": 1.0}}, [])  # the demo with another budget
    assert (sized["model"]["rnn"]["num_layers"], sized["model"]["rnn"]["hidden_size"]) == size_for(1.0, ALICE)
    assert sized["train"]["max_minutes"] == DEMO_MINUTES  # the given budget wins over it when composed


def test_no_time_budget_or_fine_tuning_keeps_the_model_defaults():
    assert LM.base_layer({}, ["FILE"]) == {"train": {"max_epochs": LM.default_epochs}}
    assert LM.base_layer({"train": {"max_steps": 5}}, ["FILE"]) == {"train": {}}
    assert LM.base_layer({"train": {"max_minutes": 2.0}}, ["FILE"], fine_tuning=True) == {"train": {}}


def test_the_rule_and_the_start_line_name_every_size():
    for recipe in (SMALL, LARGE):
        for _, layers, hidden in recipe.sizes:
            assert f"{layers}x{hidden}" in rule_text(recipe)
    assert rule_text(SMALL) == "1x256 up to 2 minutes, 2x256 beyond"
    line = sized_line(1.0, "lstm", None)
    layers, hidden = size_for(1.0)
    assert line.startswith(f"model: a {layers}x{hidden} LSTM, sized for --max-minutes 1 with the small-text recipe (")
    assert "--hidden-size and --num-layers choose another" in line
    line = sized_line(1.0, "lstm", 10**6)
    assert "with the large-text recipe (1,000,000 characters, ~7 passes in the budget: dropout 0; 1x256 up to 2" in line
    assert ", over 30; 1x256 up to 2 minutes, 2x256 beyond)" in sized_line(1.0, "lstm", 10**5)


def _train(tmp_path, capsys, *flags):
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 200, encoding="utf-8")
    run = tmp_path / "run"
    argv = ["train", str(text), "--max-steps", "1", "--eval-every", "1", "--sample-length", "0", "--no-progress"]
    assert main([*argv, "--run-dir", str(run), "--device", "cpu", *flags]) == 0
    return json.loads((run / "config.json").read_text()), capsys.readouterr().err


@pytest.mark.parametrize("minutes", [1.0, 4.0])
def test_a_time_budget_sizes_the_model_and_says_so(tmp_path, capsys, minutes):
    config, err = _train(tmp_path, capsys, "--max-minutes", str(minutes))
    chars = text_chars([str(tmp_path / "text.txt")])  # small: the small-text recipe
    layers, hidden = size_for(minutes, chars)
    rnn = config["model"]["rnn"]
    assert (rnn["num_layers"], rnn["hidden_size"]) == (layers, hidden)
    assert config["data"]["batch_size"] == SMALL.settings["data"]["batch_size"]
    assert config["train"]["lr"] == SMALL.settings["train"]["lr"] and config["train"]["max_minutes"] == minutes
    assert config["model"]["dropout"] == SMALL.settings["model"]["dropout"]
    assert sized_line(minutes, "lstm", chars) in err.splitlines()
    assert f"training a {layers}x{hidden} LSTM" in err


def test_a_text_large_for_its_budget_gets_the_large_text_recipe(tmp_path, capsys):
    config, err = _train(tmp_path, capsys, "--max-minutes", "0.01")  # 9,000 characters for 0.6 s: ~8 passes
    assert recipe_for(0.01, text_chars([str(tmp_path / "text.txt")])) is LARGE
    assert config["model"]["dropout"] == 0.0
    train = config["train"]
    expected = {k: v for k, v in LARGE.settings["train"].items() if k != "eval_every"}  # --eval-every 1 given
    assert {k: train[k] for k in expected} == expected
    assert "with the large-text recipe (9,000 characters, ~8 passes in the budget: dropout 0; " in err


def test_a_given_size_wins_and_the_run_does_not_claim_the_rule(tmp_path, capsys):
    config, err = _train(tmp_path, capsys, "--max-minutes", "1", "--hidden-size", "16", "--dropout", "0")
    rnn = config["model"]["rnn"]
    assert rnn["hidden_size"] == 16 and rnn["num_layers"] == size_for(1.0)[0]  # the other part from the rule
    assert config["model"]["dropout"] == 0.0
    assert "sized for" not in err


def test_an_epoch_or_step_budget_keeps_the_defaults(tmp_path, capsys):
    config, err = _train(tmp_path, capsys, "--hidden-size", "16")
    assert config["data"]["batch_size"] == 50 and config["train"]["lr"] == 2e-3
    assert "sized for" not in err
