"""Text properties are what they say; rank_units finds the units that track them, including a GRU
unit planted by hand to switch on inside quotes; text_activations records the model's own states."""

import numpy as np
import pytest
import torch

from rnnkit.data import CharVocab
from rnnkit.diagnostics.activations import text_activations
from rnnkit.diagnostics.find_units import PROPERTIES, UnitMatch, rank_units, text_properties
from rnnkit.models import LanguageModel, LanguageModelConfig, TokenBatch

TEXT = (
    "“Quote one,” she said (aside). Then\n“another one” and more\n"
    "plain text here [x] “third quote” end.\nLast line “q” done\n"
)
PLANTED = 3


def planted_quote_model(vocab: CharVocab, hidden: int = 8, layers: int = 1) -> LanguageModel:
    """A GRU language model with one-hot inputs whose layer-1 unit PLANTED is +1 inside quotes and
    -1 after one: its update gate z opens only at a quote mark (z = 0 replaces the state), and its
    candidate n is tanh(+3) at an opening mark, tanh(-3) at a closing one."""
    torch.manual_seed(0)
    cfg = LanguageModelConfig.from_dict(
        dict(vocab_size=len(vocab), cell="gru", hidden_size=hidden, num_layers=layers, embedding_size=0)
    )
    model = LanguageModel(cfg)
    w_ih, w_hh, b_ih, b_hh = model.rnn.layer_weights(0)
    H, u = hidden, PLANTED
    opening, closing = vocab.id_of("“"), vocab.id_of("”")
    with torch.no_grad():
        for block in range(3):  # r, z, n: the unit ignores its past and every other input...
            row = block * H + u
            w_ih[row].zero_()
            w_hh[row].zero_()
            b_ih[row] = 0.0
            b_hh[row] = 0.0
        b_ih[H + u] = 10.0  # ...keeps its state (z = 1) ...
        w_ih[H + u, opening] = w_ih[H + u, closing] = -20.0  # ...except at a quote mark (z = 0)
        w_ih[2 * H + u, opening], w_ih[2 * H + u, closing] = 3.0, -3.0  # where it becomes tanh(+-3)
    return model.eval()


def test_text_properties():
    pieces = list('a "b" (c [d]) e\nxy')
    props = text_properties(pieces)
    assert set(props) == set(PROPERTIES)
    quotes, _ = props["inside_quotes"]
    assert quotes.tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    brackets, _ = props["inside_brackets"]
    assert brackets[pieces.index("(")] == 1 and brackets[pieces.index("]")] == 1 and brackets[pieces.index(")")] == 0
    position, _ = props["line_position"]
    assert position.tolist()[-3:] == [15, 0, 1]
    newline, _ = props["after_newline"]
    assert newline.nonzero()[0].tolist() == [pieces.index("\n")]
    vowel, letters = props["vowel"]
    assert letters.sum() == 7 and vowel[letters].tolist() == [1, 0, 0, 0, 1, 0, 0]
    curly = text_properties(list("“a”b"))["inside_quotes"][0]
    assert curly.tolist() == [1, 1, 0, 0]


def test_rank_units_finds_a_planted_column():
    rng = np.random.default_rng(0)
    pieces = list(TEXT)
    quotes = text_properties(pieces)["inside_quotes"][0]
    signals = {"h": rng.normal(size=(2, len(pieces), 6)), "c": rng.normal(size=(2, len(pieces), 6))}
    signals["c"][1, :, 4] = -quotes + 0.1 * rng.normal(size=len(pieces))  # tracks quotes, negatively
    ranked = rank_units(signals, text_properties(pieces), top=3)
    best = ranked["inside_quotes"][0]
    assert (best.signal, best.layer, best.unit) == ("c", 1, 4) and best.r < -0.9
    assert len(ranked["inside_quotes"]) == 3 and abs(ranked["inside_quotes"][1].r) < 0.5
    assert UnitMatch("c", 1, 4, -0.95).describe() == "layer 2 c[4] r=-0.95"


def test_a_property_that_does_not_vary_ranks_nothing():
    pieces = list("no quotes at all")
    ranked = rank_units({"h": np.ones((1, len(pieces), 2))}, text_properties(pieces))
    assert ranked["inside_quotes"] == [] and ranked["inside_brackets"] == []
    assert all(m.r == 0.0 for m in ranked["line_position"])  # constant units correlate with nothing


def test_find_recovers_a_unit_planted_to_track_quotes():
    vocab = CharVocab.from_text(TEXT)
    model = planted_quote_model(vocab, layers=2)
    acts = text_activations(model, vocab, TEXT)
    planted = acts.unit("h", 0, PLANTED)
    quotes = text_properties(acts.pieces)["inside_quotes"][0]
    assert planted[quotes == 1].min() > 0.9 and planted[quotes == 0].max() < 0.01  # the plant works
    ranked = rank_units(acts.signals, text_properties(acts.pieces), top=5)
    best = ranked["inside_quotes"][0]
    assert (best.signal, best.layer, best.unit) == ("h", 0, PLANTED) and best.r > 0.9


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_text_activations_are_the_models_own_states(cell):
    vocab = CharVocab.from_text(TEXT)
    torch.manual_seed(0)
    cfg = LanguageModelConfig.from_dict(
        dict(vocab_size=len(vocab), cell=cell, hidden_size=6, num_layers=2, embedding_size=4)
    )
    model = LanguageModel(cfg).eval()
    acts = text_activations(model, vocab, TEXT, top_k=3)
    N = len(TEXT)
    assert acts.pieces == list(TEXT) and acts.num_layers == 2 and acts.hidden_size == 6
    assert set(acts.signals) == {"lstm": set("hcifgo"), "gru": set("hrzn"), "rnn": {"h"}}[cell]
    ids = torch.from_numpy(vocab.encode(TEXT).astype(np.int64))[None]
    with torch.no_grad():
        logits, _, _ = model(TokenBatch(ids))
        out, _ = model.rnn(model.embedding(ids).transpose(0, 1))
    assert np.allclose(acts.signals["h"][1], out[:, 0].numpy(), atol=1e-6)  # the top layer's h_t
    assert acts.top_ids.shape == (N, 3) and (acts.top_ids[:, 0] == logits[0].argmax(-1).numpy()).all()
    probs = torch.softmax(logits[0], -1).max(-1).values.numpy()
    assert np.allclose(acts.top_probs[:, 0], probs, atol=1e-6)
    assert all(acts.symbols[i] == vocab.decode([i]) for i in np.unique(acts.top_ids))


def test_text_activations_errors_and_line_mode():
    vocab = CharVocab.from_text("abc\n", specials=("<bos>", "<eos>"))
    torch.manual_seed(0)
    model = LanguageModel(
        LanguageModelConfig.from_dict(dict(vocab_size=len(vocab), hidden_size=4, num_layers=1, embedding_size=2))
    )
    acts = text_activations(model, vocab, "abca")  # <bos> is read first and not shown
    assert acts.pieces == list("abca") and acts.signals["h"].shape == (1, 4, 4)
    assert text_activations(model, vocab, "axb", unknown="skip").pieces == ["a", "b"]
    with pytest.raises(ValueError, match="expected at least one symbol the model knows"):
        text_activations(model, vocab, "xyz", unknown="skip")
    with pytest.raises(ValueError):
        text_activations(model, vocab, "axb")  # unknown symbols are an error by default
    with pytest.raises(ValueError, match=r"signal: expected one of \['c', 'f', 'g', 'h', 'i', 'o'\]"):
        acts.unit("z", 0, 0)
    with pytest.raises(ValueError, match=r"unit: expected 0\.\.3, got 4"):
        acts.unit("h", 0, 4)
    with pytest.raises(ValueError, match=r"layer: expected 1\.\.1, got 2"):
        acts.unit("h", 1, 0)
