"""ClassificationTask / TaggingTask: what the trainer sees of the padded-batch tasks."""

import math

import numpy as np
import pytest
import torch

from rnnkit.models import SequenceClassifier, SequenceClassifierConfig, SequenceTagger, SequenceTaggerConfig
from rnnkit.tasks import (
    ClassificationTask,
    EncodedSentences,
    TaggingTask,
    balanced_weights,
    predict_outputs,
    predict_tags,
    word_dropout_probs,
)

CPU = torch.device("cpu")
RNG = np.random.default_rng(0)
SEQS = [RNG.integers(2, 20, size=RNG.integers(1, 15)).tolist() for _ in range(70)]
TARGETS = np.array([int(s[0] % 3) for s in SEQS])  # the class is the first token mod 3


def classifier(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = {"vocab_size": 20, "embedding_size": 8, "hidden_size": 16, "num_classes": 3, "bidirectional": True, **kw}
    return SequenceClassifier(SequenceClassifierConfig.from_dict(dict(**cfg)))


def test_predictions_do_not_depend_on_batch_composition():
    model = classifier(pooling="max")
    a = predict_outputs(model, SEQS, 7, CPU)
    b = predict_outputs(model, SEQS, 64, CPU)
    alone = torch.cat([predict_outputs(model, [s], 1, CPU) for s in SEQS[:10]])
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(a[:10], alone, atol=1e-5)


def test_batches_are_deterministic_per_epoch_and_cover_the_data():
    task = ClassificationTask((SEQS, TARGETS), None, 16, CPU, seed=5, num_classes=3)
    assert task.batches_per_epoch == 5 and task.loss_floor == pytest.approx(math.log(3))
    twin = ClassificationTask((SEQS, TARGETS), None, 16, CPU, seed=5, num_classes=3)
    model = classifier()
    for index in range(task.batches_per_epoch):
        assert np.array_equal(task.batches.batch(3, index), twin.batches.batch(3, index))
        loss, n = task.train_loss(model, index, epoch=3)
        assert loss.ndim == 0 and n == len(task.batches.batch(3, index))


def test_class_weights_weigh_the_training_loss_only():
    weights = balanced_weights([0, 0, 0, 1], 2)
    assert weights.tolist() == pytest.approx([4 / 6, 4 / 2])
    model = classifier()
    plain = ClassificationTask((SEQS, TARGETS), (SEQS, TARGETS), 70, CPU, num_classes=3)
    weighted = ClassificationTask(
        (SEQS, TARGETS), (SEQS, TARGETS), 70, CPU, num_classes=3, class_weights=torch.tensor([5.0, 1.0, 1.0])
    )
    assert weighted.train_loss(model, 0)[0].item() != pytest.approx(plain.train_loss(model, 0)[0].item())
    assert weighted.evaluate(model) == plain.evaluate(model)


def test_overfits_a_tiny_dataset():
    model = classifier(seed=1)
    task = ClassificationTask((SEQS, TARGETS), (SEQS, TARGETS), 16, CPU, num_classes=3)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(25):
        for index in range(task.batches_per_epoch):
            opt.zero_grad()
            task.train_loss(model, index, epoch)[0].backward()
            opt.step()
    assert task.evaluate(model)["val_acc"] == 1.0


def test_regression_task_reports_rmse():
    targets = np.array([len(s) / 10 for s in SEQS], dtype=np.float32)
    model = classifier(task="regress")
    task = ClassificationTask((SEQS, targets), (SEQS, targets), 16, CPU, regress=True)
    val = task.evaluate(model)
    assert val["val_rmse"] == pytest.approx(math.sqrt(val["val_loss"]))
    assert task.loss_floor == pytest.approx(float(np.var(targets)))


# ----- tagging ------------------------------------------------------------------------------------
WORDS = [RNG.integers(2, 15, size=RNG.integers(1, 9)).tolist() for _ in range(40)]
CHARS = [[[2 + w % 5, 2 + w % 3] for w in s] for s in WORDS]
TAGS = [[w % 4 for w in s] for s in WORDS]


def tagger(chars=True):
    torch.manual_seed(0)
    cfg = SequenceTaggerConfig.from_dict(
        dict(num_tags=4, vocab_size=15, embedding_size=8, hidden_size=12, num_layers=1, dropout=0)
    )
    if chars:
        cfg.char_features, cfg.char_vocab_size, cfg.char_embedding_size, cfg.char_hidden_size = True, 8, 4, 5
    return SequenceTagger(cfg)


def test_tagging_predictions_are_per_sentence_and_batch_independent():
    model = tagger()
    data = EncodedSentences(WORDS, CHARS, None)
    a, b = predict_tags(model, data, 3, CPU), predict_tags(model, data, 40, CPU)
    assert a == b and [len(x) for x in a] == [len(s) for s in WORDS]


def test_word_dropout_is_deterministic_and_favours_rare_words():
    counts = np.bincount(np.concatenate(WORDS), minlength=15)
    probs = word_dropout_probs(WORDS, 15, 0.25)
    seen = counts > 0
    seen[:2] = False
    assert np.allclose(probs[seen], 0.25 / (0.25 + counts[seen])) and (probs[~seen] == 0).all()
    data = EncodedSentences(WORDS, CHARS, TAGS)
    task = TaggingTask(data, data, 8, CPU, num_tags=4, seed=1, unk_probs=probs)
    model = tagger()
    first = task.train_loss(model, 2, epoch=1)[0].item()
    assert task.train_loss(model, 2, epoch=1)[0].item() == first
    always = TaggingTask(data, data, 8, CPU, num_tags=4, seed=1, unk_probs=np.ones(15, np.float32))
    none = TaggingTask(data, data, 8, CPU, num_tags=4, seed=1)
    assert always.train_loss(model, 2, epoch=1)[0].item() != none.train_loss(model, 2, epoch=1)[0].item()
    val = task.evaluate(model)
    assert set(val) == {"val_loss", "val_acc"} and 0 <= val["val_acc"] <= 1


def test_tagging_metrics_count_real_tokens_only():
    model = tagger()
    data = EncodedSentences(WORDS, CHARS, TAGS)
    val = TaggingTask(data, data, 8, CPU, num_tags=4).evaluate(model)
    predicted = predict_tags(model, EncodedSentences(WORDS, CHARS, None), 40, CPU)
    pairs = [(p, t) for ps, ts in zip(predicted, TAGS) for p, t in zip(ps, ts)]
    assert val["val_acc"] == pytest.approx(sum(p == t for p, t in pairs) / len(pairs))
    assert len(pairs) == sum(len(s) for s in WORDS)  # not B x T
