"""Tagged sentences for sequence tagging: CoNLL-U (comments, ranges, empty nodes, UPOS/XPOS), token<TAB>tag
columns, format detection, writing and reading back, the errors, and the UD English EWT counts."""

import gzip
import os
import re
from pathlib import Path

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.readers.conllu import (
    TAG_COLUMNS,
    format_columns,
    format_conllu,
    parse_tagged,
    read_columns,
    read_conllu,
    read_tagged,
)

EWT = Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")) / "ud_english_ewt"


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def row(i, form, upos="_", xpos="_"):
    return f"{i}\t{form}\t_\t{upos}\t{xpos}\t_\t_\t_\t_\t_"


CONLLU = "\n".join(
    [
        "# sent_id = 1",
        "# text = I don't know",
        row(1, "I", "PRON", "PRP"),
        "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
        row(2, "do", "AUX", "VBP"),
        row(3, "n't", "PART", "RB"),
        row(4, "know", "VERB", "VB"),
        "4.1\tknows\tknow\tVERB\tVBZ\t_\t_\t_\t_\t_",
        "",
        "# sent_id = 2",
        row(1, "New York", "PROPN", "NNP"),
        row(2, "#", "SYM", "NN"),
    ]
)  # no final blank line


# ----- CoNLL-U ----------------------------------------------------------------------------------
def test_conllu_skips_comments_ranges_and_empty_nodes(tmp_path):
    p = write(tmp_path / "a.conllu", CONLLU)
    s = read_conllu(p)
    assert s.tokens == [["I", "do", "n't", "know"], ["New York", "#"]]  # a FORM may hold a space
    assert s.tags == [["PRON", "AUX", "PART", "VERB"], ["PROPN", "SYM"]]
    assert s.origins == [f"{p}:3", f"{p}:11"]
    assert len(s) == 2


def test_conllu_upos_vs_xpos_and_without_tags(tmp_path):
    p = write(tmp_path / "a.conllu", CONLLU)
    assert read_conllu(p, column="xpos").tags == [["PRP", "VBP", "RB", "VB"], ["NNP", "NN"]]
    untagged = read_conllu(p, with_tags=False)
    assert untagged.tags is None and untagged.tokens[1] == ["New York", "#"]
    assert TAG_COLUMNS == ("upos", "xpos")
    with raises("data: unknown tag column 'deprel'; expected one of upos, xpos"):
        read_conllu(p, column="deprel")


def test_conllu_crlf_and_gzip(tmp_path):
    p = tmp_path / "a.conllu.gz"
    p.write_bytes(gzip.compress(CONLLU.replace("\n", "\r\n").encode("utf-8")))
    s = read_conllu(p)
    assert s.tokens == [["I", "do", "n't", "know"], ["New York", "#"]] and s.tags[1] == ["PROPN", "SYM"]


def test_conllu_wrong_field_count_names_file_and_line(tmp_path):
    p = write(tmp_path / "bad.conllu", "# c\n" + row(1, "a", "DET") + "\n1\tb\tc\n")
    with pytest.raises(DataError) as e:
        read_conllu(p)
    assert str(e.value) == f"data: {p}:3: expected 10 tab-separated CoNLL-U fields, got 3"


def test_conllu_missing_tag(tmp_path):
    p = write(tmp_path / "a.conllu", row(1, "a", "DET") + "\n" + row(2, "b", "_", "NN") + "\n\n")
    with raises(f"data: {p}:2: no UPOS tag") as e:
        read_conllu(p)
    assert "\n" not in str(e.value)
    with raises(f"data: {p}:1: no XPOS tag"):  # line 1 has UPOS only
        read_conllu(p, column="xpos")
    assert read_conllu(p, with_tags=False).tokens == [["a", "b"]]


def test_conllu_without_sentences(tmp_path):
    p = write(tmp_path / "a.conllu", "# only a comment\n\n")
    with raises(f"data: {p} has no sentences; expected CoNLL-U token lines"):
        read_conllu(p)


# ----- columns ----------------------------------------------------------------------------------
def test_columns_with_hash_tokens_and_crlf(tmp_path):
    p = write(tmp_path / "a.tsv", "#\tSYM\nhello\tINTJ\r\n\r\n\n# \tX\nend\tNOUN")
    s = read_columns(p)
    assert s.tokens == [["#", "hello"], ["# ", "end"]]
    assert s.tags == [["SYM", "INTJ"], ["X", "NOUN"]]
    assert s.origins == [f"{p}:1", f"{p}:5"]


def test_columns_without_tags_takes_the_first_field(tmp_path):
    p = write(tmp_path / "a.txt", "one\ntwo\tTAG\n\nthree\n")
    s = read_columns(p, with_tags=False)
    assert s.tokens == [["one", "two"], ["three"]] and s.tags is None


def test_columns_errors(tmp_path):
    p = write(tmp_path / "a.tsv", "a\tDET\nb\n")
    with raises(f"data: {p}:2: expected 'token<TAB>tag', got 1 field") as e:
        read_columns(p)
    assert "\n" not in str(e.value)
    q = write(tmp_path / "b.tsv", "a\tDET\tX\n")
    with raises(f"data: {q}:1: expected 'token<TAB>tag', got 3 fields"):
        read_columns(q)
    r = write(tmp_path / "c.tsv", "a\tDET\n\t\tX\n")
    with raises(f"data: {r}:2: expected 'token<TAB>tag', got 3 fields"):
        read_columns(r)
    s = write(tmp_path / "d.tsv", "a\t\n")
    with raises(f"data: {s}:1: empty tag"):
        read_columns(s)
    t = write(tmp_path / "e.tsv", " \tDET\n")
    with raises(f"data: {t}:1: empty token"):
        read_columns(t)


def test_empty_and_missing_files(tmp_path):
    p = write(tmp_path / "empty.tsv", "")
    with raises(f"data: {p} has no sentences; expected"):
        read_columns(p)
    q = write(tmp_path / "blank.tsv", "\n\n  \n")
    with raises(f"data: {q} has no sentences; expected 'token<TAB>tag' lines with blank lines between sentences"):
        read_tagged(q)
    with raises(f"data: no such file or directory: {tmp_path / 'nope.conllu'}"):
        read_tagged(tmp_path / "nope.conllu")
    with raises(f"data: {tmp_path} is a directory; expected a CoNLL-U or token<TAB>tag file"):
        read_tagged(tmp_path)


# ----- detection and round trips ----------------------------------------------------------------
def test_auto_format_detection(tmp_path):
    by_suffix = write(tmp_path / "a.conllu", CONLLU)
    by_content = write(tmp_path / "a.txt", CONLLU)
    columns = write(tmp_path / "b.txt", "#\tSYM\nx\tNOUN\n")
    assert read_tagged(by_suffix).tags == read_tagged(by_content).tags == read_conllu(by_suffix).tags
    assert read_tagged(columns).tokens == [["#", "x"]]
    # read as columns, "#" lines are tokens and a CoNLL-U line gives its first field
    assert read_tagged(by_content, format="columns", with_tags=False).tokens[0][:3] == [
        "# sent_id = 1",
        "# text = I don't know",
        "1",
    ]
    with raises("data: unknown tagged-data format 'xml'; expected one of auto, conllu, columns"):
        read_tagged(columns, format="xml")


def test_format_conllu_and_columns_read_back_equal(tmp_path):
    sentences = [(["New York", "is", "#1"], ["PROPN", "AUX", "NUM"]), (["ok"], ["INTJ"])]
    for column in TAG_COLUMNS:
        p = write(tmp_path / f"{column}.conllu", "".join(format_conllu(t, g, column) for t, g in sentences))
        back = read_tagged(p, column=column)
        assert back.tokens == [t for t, _ in sentences] and back.tags == [g for _, g in sentences]
    assert format_conllu(["a"], ["DET"]) == "1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n\n"
    assert format_conllu(["a"], ["DT"], "xpos") == "1\ta\t_\t_\tDT\t_\t_\t_\t_\t_\n\n"
    assert format_columns(["a", "b"], ["DET", "NOUN"]) == "a\tDET\nb\tNOUN\n\n"
    q = write(tmp_path / "c.tsv", "".join(format_columns(t, g) for t, g in sentences))
    back = read_tagged(q)
    assert back.tokens == [t for t, _ in sentences] and back.tags == [g for _, g in sentences]
    with raises("data: a sentence of 2 tokens and 1 tags; expected at least one token and one tag per token"):
        format_columns(["a", "b"], ["DET"])
    with raises("data: bad token 'a\\tb'; expected a non-blank str without tabs or newlines"):
        format_conllu(["a\tb"], ["X"])


@pytest.mark.skipif(not EWT.is_dir(), reason="shared data not available")
@pytest.mark.parametrize(
    "name, sentences, tokens",
    [
        ("en_ewt-ud-train.conllu.gz", 12544, 204577),
        ("en_ewt-ud-dev.conllu", 2001, 25147),
        ("en_ewt-ud-test.conllu", 2077, 25094),
    ],
)
def test_ud_english_ewt_counts(name, sentences, tokens):
    s = read_tagged(EWT / name)
    assert len(s) == sentences and sum(map(len, s.tokens)) == tokens
    assert [len(t) for t in s.tokens] == [len(t) for t in s.tags]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"])
def test_forms_holding_splitlines_separators_round_trip(separator):
    """Lines are "\\n"-separated (the CoNLL-U spec): U+2028 and the other str.splitlines breaks stay in a FORM,
    for the reader, the writer and ``rnnkit tag``'s filling of the input (issue 12, item 10)."""
    from rnnkit.cli.tag import fill_conllu

    form = f"a{separator}b"
    text = "# text = x\n" + "\t".join(["1", form, form, "NOUN", "_", "_", "_", "_", "_", "_"]) + "\n"
    text += "\t".join(["2", "c", "c", "VERB", "_", "_", "_", "_", "_", "_"]) + "\n\n"
    parsed = parse_tagged(text, "x.conllu", "conllu")
    assert parsed.tokens == [[form, "c"]] and parsed.tags == [["NOUN", "VERB"]]
    assert fill_conllu(text, ["X", "Y"], "upos") == text.replace("NOUN", "X").replace("VERB", "Y")
    again = parse_tagged(format_conllu(parsed.tokens[0], parsed.tags[0]), "y.conllu", "conllu")
    assert again.tokens == parsed.tokens and again.tags == parsed.tags
