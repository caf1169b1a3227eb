"""The recurrent settings' own table, [model.rnn]: in config files, from the flags, in config.json,
for every `rnnkit train` form; the flat [model] spelling of rnnkit 0.1 still works."""

from __future__ import annotations

import json

from rnnkit.checkpoint import load_checkpoint

from ._harness import assert_error, cli

TEXT = "the cat sat on the mat and the dog sat on the log\n" * 30
TSV = "text\tlabel\n" + "good film\tpos\nbad film\tneg\n" * 12
TAGS = "\n\n".join(["the\tDET\ncat\tNOUN\nsat\tVERB", "a\tDET\ndog\tNOUN\nran\tVERB"] * 8) + "\n"
RUN = ["--max-steps", "2", "--no-progress", "--device", "cpu"]


def test_a_model_rnn_table_configures_the_recurrent_stack(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    (tmp_path / "run.toml").write_text(
        "[model]\nembedding_size = 6\n\n[model.rnn]\ncell = 'gru'\nhidden_size = 10\nrecurrent_init = 'uniform'\n"
    )
    code, _, err = cli(
        "train", tmp_path / "t.txt", "--config", tmp_path / "run.toml", *RUN, "--num-layers", "1",
        "--sample-length", "0", "--run-dir", tmp_path / "r",
    )  # fmt: skip
    assert code == 0, err
    model = json.loads((tmp_path / "r" / "config.json").read_text())["model"]
    assert model["embedding_size"] == 6 and model["rnn"]["cell"] == "gru" and model["rnn"]["hidden_size"] == 10
    assert model["rnn"]["num_layers"] == 1 and model["rnn"]["recurrent_init"] == "uniform"  # a flag, the file
    assert "input_size" not in model["rnn"]  # derived by the model, not stored
    weights = load_checkpoint(tmp_path / "r" / "latest.safetensors").model_state
    assert weights["rnn.weight_hh_l0"].shape == (3 * 10, 10)


def test_classify_and_tag_flags_go_to_model_rnn(tmp_path):
    (tmp_path / "c.tsv").write_text(TSV)
    (tmp_path / "t.tsv").write_text(TAGS)
    flags = ["--hidden-size", "6", "--embedding-size", "4", "--cell", "rnn", *RUN]
    code, _, err = cli("train", "classify", tmp_path / "c.tsv", *flags, "--bidirectional", "--run-dir", tmp_path / "c")
    assert code == 0, err
    rnn = json.loads((tmp_path / "c" / "config.json").read_text())["model"]["rnn"]
    assert (rnn["cell"], rnn["hidden_size"], rnn["bidirectional"]) == ("rnn", 6, True)
    code, _, err = cli("train", "tag", tmp_path / "t.tsv", *flags, "--unidirectional", "--run-dir", tmp_path / "t")
    assert code == 0, err
    rnn = json.loads((tmp_path / "t" / "config.json").read_text())["model"]["rnn"]
    assert (rnn["cell"], rnn["hidden_size"], rnn["bidirectional"]) == ("rnn", 6, False)


def test_a_key_both_flat_and_in_the_table_is_one_line_error(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    (tmp_path / "run.toml").write_text("[model]\ncell = 'gru'\n\n[model.rnn]\ncell = 'lstm'\n")
    result = cli("train", tmp_path / "t.txt", "--config", tmp_path / "run.toml", *RUN, "--run-dir", tmp_path / "r")
    assert_error(result, "[model] gives ['cell'] both flat and in [model.rnn]")
    (tmp_path / "run.toml").write_text("[model.rnn]\ninput_size = 3\n")
    result = cli("train", tmp_path / "t.txt", "--config", tmp_path / "run.toml", *RUN, "--run-dir", tmp_path / "r")
    assert_error(result, "[model.rnn] key(s) ['input_size'] are set by the model itself")


def test_proj_size_trains_every_task_with_a_projection_lstm(tmp_path):
    """--proj-size reaches the cell registry's projection LSTM from each `rnnkit train` form; its
    checkpoints hold torch.nn's weight_hr and sample / predict / tag from them."""
    (tmp_path / "t.txt").write_text(TEXT)
    (tmp_path / "c.tsv").write_text(TSV)
    (tmp_path / "g.tsv").write_text(TAGS)
    tiny = ["--hidden-size", "12", "--proj-size", "5", "--embedding-size", "4", "--num-layers", "2", *RUN]
    forms = {
        "lm": ["train", tmp_path / "t.txt", "--sample-length", "0"],
        "classify": ["train", "classify", tmp_path / "c.tsv"],
        "tag": ["train", "tag", tmp_path / "g.tsv"],
    }
    for name, argv in forms.items():
        code, _, err = cli(*argv, *tiny, "--run-dir", tmp_path / name)
        assert code == 0, err
        state = load_checkpoint(tmp_path / name / "latest.safetensors").model_state
        assert tuple(state["rnn.weight_hr_l1"].shape) == (5, 12), name
        assert json.loads((tmp_path / name / "config.json").read_text())["model"]["rnn"]["proj_size"] == 5
    assert cli("sample", tmp_path / "lm", "--length", "5", "--seed", "1")[0] == 0
    assert cli("predict", tmp_path / "classify", "good film")[0] == 0
    assert cli("tag", tmp_path / "tag", stdin="the cat sat\n")[0] == 0
    assert_error(cli("train", tmp_path / "t.txt", "--cell", "gru", *tiny), "proj_size", "'gru'")
