"""The language model on word tokens: tied weights get the gradient of both uses, the loss is the
mean per word whatever the memory layout, Zaremba's uniform init, and a tiny word corpus is learnt
by heart with truncated BPTT (the state carried across windows)."""

import math

import torch
import torch.nn.functional as F

from rnnkit.data import WordVocab
from rnnkit.models import LanguageModel, LanguageModelConfig, TokenBatch
from rnnkit.tasks import LanguageModelTask, stream_loss

CPU = torch.device("cpu")
TEXT = "the cat sat on the mat\nthe dog ran to the park\na bird sang in the tree\n"


def make(vocab_size: int, **overrides) -> LanguageModel:
    torch.manual_seed(0)
    cfg = {"vocab_size": vocab_size, "embedding_size": 12, "hidden_size": 12, "num_layers": 2, **overrides}
    return LanguageModel(LanguageModelConfig.from_dict(dict(**cfg)))


def test_tied_weight_gradient_is_the_sum_of_both_uses():
    vocab = WordVocab.from_text(TEXT)
    ids = torch.from_numpy(vocab.encode(TEXT * 2).astype("int64"))
    x, y = ids[:-1].view(1, -1), ids[1:].view(1, -1)  # (1, T)
    tied = make(len(vocab), tie_weights=True)
    untied = make(len(vocab))
    untied.load_state_dict({k: v for k, v in tied.state_dict().items()})  # same numbers, two matrices
    assert untied.head.weight is not untied.embedding.weight
    tied(TokenBatch(x, y))[1].backward()
    untied(TokenBatch(x, y))[1].backward()
    # one parameter, two uses: its gradient is the embedding's plus the output layer's
    expected = untied.embedding.weight.grad + untied.head.weight.grad
    torch.testing.assert_close(tied.embedding.weight.grad, expected)
    assert untied.embedding.weight.grad.abs().sum() > 0 and untied.head.weight.grad.abs().sum() > 0
    assert sum(p is tied.embedding.weight for p in tied.parameters()) == 1


def test_loss_is_the_mean_per_token_and_logits_are_batch_major():
    model = make(20)
    g = torch.Generator().manual_seed(3)
    x, y = torch.randint(0, 20, (3, 7), generator=g), torch.randint(0, 20, (3, 7), generator=g)
    logits, loss, _ = model(TokenBatch(x, y))
    assert logits.shape == (3, 7, 20)
    expected = F.cross_entropy(logits.reshape(-1, 20), y.reshape(-1))  # batch-major order, same mean
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(
        logits[1, 4], model(TokenBatch(x[1:2, :5]))[0][0, 4]
    )  # row b, step t is token t of stream b


def test_uniform_init_scale_bounds_every_parameter_tied_or_not():
    for tie in (False, True):
        model = make(30, init_scale=0.05, tie_weights=tie)
        for name, p in model.named_parameters():
            assert p.abs().max() <= 0.05, name
            assert p.abs().max() > 0.04, name  # really spread over the range, not the default init


def test_a_tiny_word_corpus_is_learnt_by_heart():
    # every word is predictable from the two before it: a 2-layer LSTM carrying its state across
    # 8-step windows must drive the per-word perplexity close to 1
    vocab = WordVocab.from_text(TEXT)
    ids = vocab.encode(TEXT * 20, final_eos=True)  # 20 x 21 tokens
    torch.manual_seed(0)
    model = make(len(vocab), embedding_size=24, hidden_size=24)
    task = LanguageModelTask(ids, None, batch_size=4, seq_len=8, device=CPU)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    start = stream_loss(model, ids, 4, 8, CPU)
    for _ in range(12):
        for i in range(task.batches_per_epoch):
            loss, _ = task.train_loss(model, i)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    end = stream_loss(model, ids, 4, 8, CPU)
    assert start > math.log(len(vocab)) - 0.5
    assert math.exp(end) < 1.2, (math.exp(start), math.exp(end))
