"""Generation with a LoadedLanguageModel: the prime leads the result (as ``rnnkit sample`` prints it),
seeds, the prime run once, carried state == recomputing, stop conditions, line mode, unknown
characters, next_distribution, evaluation, the short repr, and the checkpoint round trip through the
trainer and ``rnnkit.load``."""

import math
import re

import pytest
import torch

import rnnkit
import rnnkit.tasks.lm.loaded as generate_module
from rnnkit.checkpoint import read_meta
from rnnkit.data import BOS, EOS, CharVocab, DataError, line_vocab, lines_to_ids
from rnnkit.models import LanguageModel, LanguageModelConfig, TokenBatch
from rnnkit.tasks import LanguageModelTask, LoadedLanguageModel, RunMeta, stream_loss
from rnnkit.tasks.lm.prepare import prepare_chars
from rnnkit.train import TrainConfig, Trainer

CPU = torch.device("cpu")
HELLO = "hello world " * 20
NAMES = "anna\nbob\ncarl\ndora\n" * 10


def fit(model: LanguageModel, ids: torch.Tensor, steps: int) -> LanguageModel:
    """Full-batch Adam on rows of a (B, T+1) id tensor (on one thread: fastest for tiny models)."""
    x, y = ids[:, :-1], ids[:, 1:]
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            _, loss, _ = model(TokenBatch(x, y))
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    assert loss.item() < 0.1
    return model.eval()


def small_model(vocab, seed: int = 0, **overrides) -> LanguageModel:
    torch.manual_seed(seed)
    kwargs = {"vocab_size": len(vocab), "embedding_size": 8, "hidden_size": 32, "num_layers": 1, **overrides}
    return LanguageModel(LanguageModelConfig.from_dict(dict(**kwargs)))


@pytest.fixture(scope="module")
def hello():
    """An LSTM that has memorised "hello world " (greedy decoding reproduces it)."""
    vocab = CharVocab.from_text(HELLO)
    ids = torch.from_numpy(vocab.encode(HELLO).astype("int64"))[:240].reshape(8, 30)
    model = fit(small_model(vocab), ids, 150)
    return LoadedLanguageModel(model, vocab, {}, CPU)


@pytest.fixture(scope="module")
def names():
    """A line-mode model that has memorised four names."""
    vocab = line_vocab(NAMES)
    ids = torch.from_numpy(lines_to_ids(NAMES, vocab).astype("int64"))  # 20 ids per 4 names
    model = fit(small_model(vocab), ids[:200].reshape(10, 20), 150)
    return LoadedLanguageModel(model, vocab, {}, CPU)


@pytest.fixture
def random_lm():
    """An untrained model: near-uniform predictions, so every seed gives different text."""
    vocab = CharVocab.from_text("abcdefghij \n")
    return LoadedLanguageModel(small_model(vocab, seed=3).eval(), vocab, {}, CPU)


# ----- seeds --------------------------------------------------------------------------------------
def test_the_result_starts_with_the_prime_as_the_cli_prints_it(random_lm, hello, names):
    text = random_lm.generate("abc", length=20, seed=1)
    assert text.startswith("abc") and len(text) == 3 + 20
    assert hello.generate("hello ", length=5, greedy=True) == "hello world"
    assert names.generate("bo", length=50, greedy=True) == "bob"  # line mode: <eos> not included
    assert random_lm.generate("", length=7, seed=1) == random_lm.generate("", length=7, seed=1)[-7:]
    assert random_lm.generate("abzcx", length=4, seed=3, unknown="skip").startswith("abzcx")  # as given


def test_same_seed_same_text_other_seed_other_text(random_lm):
    a = random_lm.generate("abc", length=60, seed=1)[3:]
    assert len(a) == 60 and set(a) <= set(random_lm.vocab.symbols)
    assert random_lm.generate("abc", length=60, seed=1)[3:] == a
    assert random_lm.generate("abc", length=60, seed=2)[3:] != a


def test_seedless_generation_uses_the_global_generator(random_lm):
    torch.manual_seed(5)
    a = random_lm.generate("a", length=40)
    torch.manual_seed(5)
    assert random_lm.generate("a", length=40) == a


def test_greedy_reproduces_the_memorised_text(hello):
    assert hello.generate("hello ", length=17, greedy=True) == "hello world hello world"
    assert hello.generate("hel", length=3, temperature=1e-3, seed=0) == "hello "


# ----- the prime runs once; the state carries ------------------------------------------------------
class CallCounter:
    def __init__(self, model, monkeypatch):
        self.forward_inputs, self.steps = [], 0
        forward, step = model.forward, model.step

        def counting_forward(batch, *args, **kwargs):
            self.forward_inputs.append(batch.inputs.clone())
            return forward(batch, *args, **kwargs)

        def counting_step(*args, **kwargs):
            self.steps += 1
            return step(*args, **kwargs)

        monkeypatch.setattr(model, "forward", counting_forward)
        monkeypatch.setattr(model, "step", counting_step)


def test_the_prime_is_run_once(random_lm, monkeypatch):
    calls = CallCounter(random_lm.model, monkeypatch)
    prime, length = "abcdefg", 25
    random_lm.generate(prime, length=length, seed=0)
    assert len(calls.forward_inputs) == 1
    expected = torch.from_numpy(random_lm.vocab.encode(prime).astype("int64"))[None]
    assert torch.equal(calls.forward_inputs[0], expected)  # the whole prime, (1, T), in one call
    assert calls.steps in (length - 1, length)  # one step per generated symbol, never the prefix again


def test_carried_state_equals_recomputing_from_scratch(random_lm, monkeypatch):
    seen = []
    sample = generate_module.sample_next

    def recording(logits, *args, **kwargs):
        seen.append(logits.clone())
        return sample(logits, *args, **kwargs)

    monkeypatch.setattr(generate_module, "sample_next", recording)
    prime = "abc d"
    text = random_lm.generate(prime, length=12, seed=4)[len(prime) :]
    monkeypatch.undo()
    assert len(seen) == 12
    vocab = random_lm.vocab
    for n in (0, 5, 11):
        carried = torch.softmax(seen[n][0], -1)  # after prime + text[:n], from the carried state
        fresh = random_lm.next_distribution(prime + text[:n])  # prime + text[:n] run from zero
        fresh = torch.tensor([fresh[s] for s in vocab.symbols])
        torch.testing.assert_close(carried, fresh, rtol=1e-5, atol=1e-6)


def test_on_text_streams_the_prime_then_every_piece(random_lm):
    pieces = []
    text = random_lm.generate("ab", length=30, seed=0, on_text=pieces.append)
    assert "".join(pieces) == text and len(pieces) == 1 + 30 and pieces[0] == "ab"
    pieces.clear()
    assert random_lm.generate("", length=5, seed=0, on_text=pieces.append) == "".join(pieces) and len(pieces) == 5
    with pytest.raises(DataError):  # a bad prime raises before anything is streamed
        random_lm.generate("abQ", length=5, on_text=pieces.append)
    assert len(pieces) == 5


# ----- stopping -----------------------------------------------------------------------------------
def test_stop_at_stops_and_includes_it(hello):
    assert hello.generate("hello ", length=100, greedy=True, stop_at="world") == "hello world"
    assert hello.generate("h", length=100, greedy=True, stop_at="o w") == "hello w"
    text = hello.generate("hello", length=100, greedy=True, stop_at="d ")
    assert text == "hello world " and text.count("d ") == 1
    assert hello.generate("hello wo", length=4, greedy=True, stop_at="o") == "hello world "  # not the prime's "o"
    # a stop string the model never produces: the full length
    assert len(hello.generate("hello", length=30, greedy=True, stop_at="xyz")) == 5 + 30


def test_line_mode_stops_at_eos(names):
    assert names.line_mode
    assert names.generate("bo", length=50, greedy=True) == "bob"
    assert names.generate("car", length=50, greedy=True) == "carl"
    text = names.generate("", length=50, seed=0)
    assert text in {"anna", "bob", "carl", "dora"}  # one whole item, no <eos> text
    assert EOS not in names.generate("", length=50, seed=1)


def test_line_mode_prime_starts_with_bos(names, monkeypatch):
    calls = CallCounter(names.model, monkeypatch)
    names.generate("do", length=5, greedy=True)
    assert calls.forward_inputs[0].tolist() == [[names.vocab.bos_id, *names.vocab.encode("do").tolist()]]


def test_empty_prime_in_character_mode_starts_as_a_new_line(random_lm, monkeypatch):
    calls = CallCounter(random_lm.model, monkeypatch)
    random_lm.generate("", length=3, seed=0)
    assert calls.forward_inputs[0].tolist() == [[random_lm.vocab.id_of("\n")]]


def test_length_zero_and_bad_lengths(random_lm):
    assert random_lm.generate("ab", length=0) == "ab"
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match=re.escape(f"length: expected an integer >= 0, got {bad!r}")):
            random_lm.generate("ab", length=bad)


def test_bad_sampling_settings_fail_before_generating(random_lm):
    with pytest.raises(ValueError, match=re.escape("temperature: expected a number > 0")):
        random_lm.generate("a", temperature=0)
    with pytest.raises(ValueError, match=re.escape("top-p: expected a number in (0, 1], got 1.5")):
        random_lm.next_distribution("a", top_p=1.5)


# ----- unknown characters -------------------------------------------------------------------------
def test_unknown_prime_characters(random_lm):
    with pytest.raises(DataError, match=re.escape("characters not in the vocabulary: 'x', 'z' (2 distinct)")):
        random_lm.generate("abzcx", length=5)
    with pytest.raises(DataError, match=re.escape("'Q'")):
        random_lm.next_distribution("Q")
    assert (
        random_lm.generate("abzcx", length=20, seed=3, unknown="skip")[5:]
        == random_lm.generate("abc", length=20, seed=3)[3:]
    )
    assert random_lm.next_distribution("azb", unknown="skip") == random_lm.next_distribution("ab")


# ----- next_distribution --------------------------------------------------------------------------
def test_next_distribution_is_a_sorted_distribution(random_lm, hello, names):
    for lm, prime in ((random_lm, "abc"), (hello, "hello wor"), (names, "an")):
        dist = lm.next_distribution(prime)
        assert sorted(dist) == sorted(lm.vocab.symbols)
        values = list(dist.values())
        assert math.isclose(sum(values), 1.0, rel_tol=1e-5)
        assert values == sorted(values, reverse=True)
    assert next(iter(hello.next_distribution("hello wor"))) == "l"
    assert hello.next_distribution("hello wor")["l"] > 0.9
    assert next(iter(names.next_distribution("bo"))) == "b"
    assert next(iter(names.next_distribution("bob"))) == EOS
    assert BOS in names.next_distribution("")


def test_next_distribution_filters(random_lm):
    dist = random_lm.next_distribution("ab", top_k=3)
    assert sum(1 for p in dist.values() if p > 0) == 3
    assert math.isclose(sum(dist.values()), 1.0, rel_tol=1e-5)


# ----- evaluation ---------------------------------------------------------------------------------
def test_evaluate_text(hello):
    report = hello.evaluate_text(HELLO, batch_size=4, seq_len=20)
    assert set(report) == {"loss", "bits", "perplexity", "tokens"}
    assert report["tokens"] == len(HELLO) - 1
    assert report["loss"] < 0.2  # memorised
    assert report["bits"] == pytest.approx(report["loss"] / math.log(2))
    assert report["perplexity"] == pytest.approx(math.exp(report["loss"]))
    ids = hello.vocab.encode(HELLO)
    assert report["loss"] == pytest.approx(stream_loss(hello.model, ids, 4, 20, CPU))
    with pytest.raises(ValueError, match=re.escape("data: expected at least 2 symbols to evaluate, got 1")):
        hello.evaluate_text("h")
    with pytest.raises(DataError, match="'Z'"):
        hello.evaluate_text("hello Zorld")
    assert hello.evaluate_text("hello Zorld", unknown="skip")["tokens"] == len("hello orld") - 1


# ----- repr ---------------------------------------------------------------------------------------
def test_repr_is_one_short_line(random_lm, names):
    assert repr(random_lm) == "LoadedLanguageModel(1x32 lstm, 12 chars, step 0)"  # no training metadata
    assert repr(names) == f"LoadedLanguageModel(1x32 lstm, {len(names.vocab)} chars, lines, step 0)"


# ----- checkpoint round trip ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [{}, {"embedding_size": 0, "cell": "gru"}, {"embedding_size": 16, "hidden_size": 16, "tie_weights": True}],
)
def test_checkpoint_round_trip_through_the_trainer(tmp_path, monkeypatch, overrides):
    monkeypatch.setattr("rnnkit.train.trainer.plot_curves", lambda *args, **kwargs: None)
    text = "the quick brown fox jumps over the lazy dog\n" * 12
    corpus = prepare_chars(text)
    mcfg = LanguageModelConfig.from_dict(
        dict(
            **{
                "vocab_size": len(corpus.vocab),
                "embedding_size": 8,
                "hidden_size": 16,
                "num_layers": 2,
                "dropout": 0.1,
                **overrides,
            }
        )
    )
    torch.manual_seed(0)
    model = LanguageModel(mcfg)
    task = LanguageModelTask(corpus.splits["train"], corpus.splits["val"], 4, 16, CPU)
    meta = RunMeta("lm", LanguageModel.kind, mcfg.to_dict(), corpus.vocab.to_dict(), {}).to_dict()
    trainer = Trainer(model, task, TrainConfig(max_steps=6, eval_every=3, device="cpu"), tmp_path, meta, progress=False)
    trainer.fit()

    lm = rnnkit.load(trainer.latest_path)
    assert isinstance(lm, LoadedLanguageModel) and not lm.model.training
    assert lm.vocab.symbols == corpus.vocab.symbols
    assert lm.meta["step"] == 6
    if mcfg.tie_weights:
        assert lm.model.head.weight is lm.model.embedding.weight
    x = torch.from_numpy(corpus.splits["train"][:40].astype("int64")).reshape(2, 20)
    model.eval()
    with torch.no_grad():
        assert torch.equal(lm.model(TokenBatch(x))[0], model(TokenBatch(x))[0])
    # a run directory means its best checkpoint
    assert rnnkit.load(tmp_path).meta == read_meta(trainer.best_path)
    # and the loaded model samples like the in-memory one
    direct = LoadedLanguageModel(model, corpus.vocab, {}, CPU)
    assert lm.generate("the ", length=30, seed=9) == direct.generate("the ", length=30, seed=9)
