"""The model a time budget gets (rnnkit.tasks.lm.budget): the table, the layer it makes, the demo,
and what `rnnkit train FILE --max-minutes M` really trains (config.json), with and without sizes given."""

import json
import math

import pytest

from rnnkit.cli.main import main
from rnnkit.tasks.lm.budget import RECIPE, SIZES, budget_layer, rule_text, size_for, sized_line
from rnnkit.tasks.lm.spec import DEMO, DEMO_MINUTES, LM


def test_the_table_grows_with_the_budget_and_covers_every_budget():
    budgets = [upto for upto, _, _ in SIZES]
    assert budgets == sorted(budgets) and budgets[-1] == math.inf
    params = [layers * hidden * hidden for _, layers, hidden in SIZES]
    assert params == sorted(params)
    for upto, layers, hidden in SIZES[:-1]:
        assert size_for(upto) == (layers, hidden)
    assert size_for(0.01) == SIZES[0][1:]
    assert size_for(1e6) == SIZES[-1][1:]


def test_the_layer_is_the_recipe_plus_the_size_and_never_shares_its_tables():
    layer = budget_layer(1.0)
    layers, hidden = size_for(1.0)
    assert layer["model"]["rnn"] == {"num_layers": layers, "hidden_size": hidden}
    assert {k: v for k, v in layer["model"].items() if k != "rnn"} == RECIPE["model"]
    assert layer["data"] == RECIPE["data"] and layer["train"] == RECIPE["train"]
    layer["train"]["lr"] = 1.0
    assert RECIPE["train"]["lr"] != 1.0


def test_the_demo_is_the_rule_at_its_budget():
    assert DEMO == {**budget_layer(DEMO_MINUTES), "train": {**RECIPE["train"], "max_minutes": DEMO_MINUTES}}
    assert LM.base_layer({}, with_data=False) == DEMO
    sized = LM.base_layer({"train": {"max_minutes": 1.0}}, with_data=False)  # the demo with another budget
    assert (sized["model"]["rnn"]["num_layers"], sized["model"]["rnn"]["hidden_size"]) == size_for(1.0)
    assert sized["train"]["max_minutes"] == DEMO_MINUTES  # the given budget wins over it when composed


def test_no_time_budget_or_fine_tuning_keeps_the_model_defaults():
    assert LM.base_layer({}, with_data=True) == {"train": {"max_epochs": LM.default_epochs}}
    assert LM.base_layer({"train": {"max_steps": 5}}, with_data=True) == {"train": {}}
    assert LM.base_layer({"train": {"max_minutes": 2.0}}, with_data=True, fine_tuning=True) == {"train": {}}


def test_the_rule_and_the_start_line_name_every_size():
    text = rule_text()
    for _, layers, hidden in SIZES:
        assert f"{layers}x{hidden}" in text
    line = sized_line(1.0, "lstm")
    layers, hidden = size_for(1.0)
    assert line.startswith(f"model: a {layers}x{hidden} LSTM, sized for --max-minutes 1 (")
    assert "--hidden-size and --num-layers choose another" in line


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
    layers, hidden = size_for(minutes)
    rnn = config["model"]["rnn"]
    assert (rnn["num_layers"], rnn["hidden_size"]) == (layers, hidden)
    assert config["data"]["batch_size"] == RECIPE["data"]["batch_size"]
    assert config["train"]["lr"] == RECIPE["train"]["lr"] and config["train"]["max_minutes"] == minutes
    assert sized_line(minutes, "lstm") in err.splitlines()
    assert f"training a {layers}x{hidden} LSTM" in err


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
