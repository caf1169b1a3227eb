import numpy as np
import pytest

from rnnkit.data import DataError
from rnnkit.tasks import ClassifyDataConfig, TagDataConfig
from rnnkit.tasks.classify.prepare import prepare_classification
from rnnkit.tasks.tag.prepare import encode_sentences, prepare_tagging


@pytest.fixture
def table(tmp_path):
    rows = ["text\tlabel"] + [
        f"word{i} {'good' if i % 3 else 'bad'} end\t{'pos' if i % 3 else 'neg'}" for i in range(90)
    ]
    path = tmp_path / "data.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_stratified_split_vocab_from_train_and_deterministic(table):
    cfg = ClassifyDataConfig(split=(0.8, 0.1, 0.1))
    a = prepare_classification(cfg, [str(table)])
    b = prepare_classification(cfg, [str(table)])
    assert [len(a.examples[s]) for s in ("train", "val", "test")] == [72, 9, 9]
    assert a.examples["test"].texts == b.examples["test"].texts
    assert a.labels == ["neg", "pos"]
    for split in ("val", "test"):  # stratified: both classes in a 1:2 ratio
        assert a.examples[split].labels.count("neg") == 3
    train_words = {w for t in a.examples["train"].texts for w in t.split()}
    assert set(a.vocab.symbols[2:]) == train_words  # nothing from the held-out splits
    seqs, targets = a.splits["test"]
    assert targets.dtype == np.int64 and all(len(s) == 3 for s in seqs)
    assert any(1 in s for s in seqs)  # held-out words unseen in training read as <unk>


def test_separate_files_and_unknown_labels(table, tmp_path):
    valid = tmp_path / "valid.tsv"
    valid.write_text("text\tlabel\nfoo good\tpos\nfoo bad\tneutral\n")
    with pytest.raises(DataError, match=r"valid.tsv:3: label\(s\) 'neutral' not seen in training; expected labels"):
        prepare_classification(ClassifyDataConfig(valid=str(valid)), [str(table)])
    valid.write_text("text\tlabel\nfoo good\tpos\n")
    data = prepare_classification(ClassifyDataConfig(valid=str(valid), split=(0.9, 0.0, 0.1)), [str(table)])
    assert len(data.examples["val"]) == 1 and len(data.examples["train"]) == 81


def test_regression_targets_and_max_length(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,score\n" + "".join(f"a b c d,{i / 10}\n" for i in range(20)))
    data = prepare_classification(ClassifyDataConfig(max_length=2), [str(path)], regress=True)
    seqs, targets = data.splits["train"]
    assert targets.dtype == np.float32 and all(len(s) == 2 for s in seqs) and data.labels == []
    path.write_text("text,score\na,1\nb,x\n")
    with pytest.raises(DataError, match=r"r.csv:3: label 'x' is not a number; expected numeric targets"):
        prepare_classification(ClassifyDataConfig(split=(1 - 1e-9, 0.0, 1e-9)), [str(path)], regress=True)


def test_single_class_is_an_error(tmp_path):
    path = tmp_path / "one.tsv"
    path.write_text("text\tlabel\n" + "a b\tx\n" * 10)
    with pytest.raises(DataError, match="has a single class 'x'; expected at least two classes"):
        prepare_classification(ClassifyDataConfig(), [str(path)])


CONLLU = "# sent_id = 1\n1\tThe\tthe\tDET\tDT\t_\t0\t_\t_\t_\n2\tcat\tcat\tNOUN\tNN\t_\t0\t_\t_\t_\n\n"


def test_tagging_vocab_chars_tags_and_unknown_tag(tmp_path):
    train = tmp_path / "train.conllu"
    train.write_text(CONLLU * 10)
    data = prepare_tagging(TagDataConfig(split=(0.8, 0.2, 0.0)), [str(train)])
    assert data.tags == ["DET", "NOUN"] and data.vocab.symbols[2:] == ("The", "cat")
    assert set(data.chars.symbols[2:]) == set("Thecat")
    words, chars, tags = encode_sentences(data.sentences["val"], data.vocab, data.chars, data.tags)
    assert words[0] == [2, 3] and tags[0] == [0, 1] and len(chars[0][1]) == 3
    test = tmp_path / "test.conllu"
    test.write_text(CONLLU.replace("NOUN", "VERB"))
    with pytest.raises(DataError, match=r"test.conllu:2: tag 'VERB' not seen in training"):
        held = prepare_tagging(TagDataConfig(test=str(test)), [str(train)])
        encode_sentences(held.sentences["test"], held.vocab, None, held.tags)
