"""Labelled examples for sequence classification: tables (TSV/CSV, header detection, column options),
per-class files (directory, .pos/.neg, distinct stems), the errors and subsets."""

import gzip
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.readers.tables import LabelledExamples, read_labelled

DATA = Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg and msg.startswith("data: ")
    return msg


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


SST = 'sentence\tlabel\nhide new secretions \t0\n\na "gorgeous" film \t1\r\nit \'s dull\t0\n'


# ----- tables -----------------------------------------------------------------------------------
def test_tsv_with_header_like_sst2_keeps_bare_quotes_and_skips_blank_lines(tmp_path):
    p = write(tmp_path / "train.tsv", SST)
    ex = read_labelled([p])
    assert ex.texts == ["hide new secretions", 'a "gorgeous" film', "it 's dull"]
    assert ex.labels == ["0", "1", "0"]
    assert ex.origins == [f"{p}:2", f"{p}:4", f"{p}:5"]
    assert len(ex) == 3


def test_a_single_path_need_not_be_in_a_list(tmp_path):
    p = write(tmp_path / "train.tsv", SST)
    assert read_labelled(p).labels == read_labelled(str(p)).labels == ["0", "1", "0"]


def test_csv_follows_quoting_rules(tmp_path):
    p = write(tmp_path / "d.csv", 'text,label\n"good, really good",pos\nbad,neg\n"multi\nline",pos\nok,pos\n')
    ex = read_labelled([p])
    assert ex.texts == ["good, really good", "bad", "multi\nline", "ok"]
    assert ex.labels == ["pos", "neg", "pos", "pos"]
    assert ex.origins[-1] == f"{p}:6"  # the row after a two-line cell starts on line 6


def test_headerless_tsv_takes_text_from_column_0_and_label_from_the_last(tmp_path):
    p = write(tmp_path / "d.tsv", "good film\tpos\nbad film\tneg\n")
    ex = read_labelled([p])
    assert ex.texts == ["good film", "bad film"] and ex.labels == ["pos", "neg"]
    p3 = write(tmp_path / "three.tsv", "7\tgood film\tpos\n8\tbad film\tneg\n")
    assert read_labelled([p3], text_column=1).texts == ["good film", "bad film"]


def test_header_auto_detection_by_usual_names_and_by_numeric_labels(tmp_path):
    by_name = write(tmp_path / "a.tsv", "Review\tSentiment\ngood\tpos\nbad\tneg\n")
    assert read_labelled([by_name]).texts == ["good", "bad"]
    by_numbers = write(tmp_path / "b.tsv", "words\tscore\ngood\t1\nbad\t0\n")
    ex = read_labelled([by_numbers])
    assert ex.texts == ["good", "bad"] and ex.labels == ["1", "0"]
    no_header = write(tmp_path / "c.tsv", "words\tscore\ngood\tpos\nbad\t0\n")  # not all labels numeric
    assert read_labelled([no_header]).texts == ["words", "good", "bad"]
    numeric_first = write(tmp_path / "d.tsv", "good\t1\nbad\t0\n")
    assert read_labelled([numeric_first]).texts == ["good", "bad"]


def test_header_yes_and_no_override_detection(tmp_path):
    p = write(tmp_path / "d.tsv", "words\tkind\ngood\tpos\nbad\tneg\n")
    assert read_labelled([p]).texts == ["words", "good", "bad"]
    assert read_labelled([p], header="yes").texts == ["good", "bad"]
    q = write(tmp_path / "e.tsv", "text\tlabel\ngood\tpos\n")
    assert read_labelled([q], header="no").texts == ["text", "good"]
    with raises("data: unknown header mode 'maybe'; expected one of auto, yes, no"):
        read_labelled([q], header="maybe")


def test_column_options_by_name_and_by_index(tmp_path):
    p = write(tmp_path / "d.tsv", "id\tbody\tstars\n1\tgood\t5\n2\tbad\t1\n")
    by_name = read_labelled([p], text_column="body", label_column="stars")
    by_index = read_labelled([p], text_column=1, label_column=2, header="yes")
    assert by_name == by_index
    assert by_name.texts == ["good", "bad"] and by_name.labels == ["5", "1"]
    # a name given as an option marks the header even though it is no usual name
    q = write(tmp_path / "e.tsv", "id\tbody\tkind\n1\tgood\tpos\n")
    assert read_labelled([q], text_column="body").labels == ["pos"]
    assert read_labelled([q], text_column="BODY").texts == ["good"]  # names match in any case


def test_gzipped_table(tmp_path):
    p = tmp_path / "train.tsv.gz"
    p.write_bytes(gzip.compress(SST.encode("utf-8")))
    assert read_labelled([p]).labels == ["0", "1", "0"]


def test_any_single_file_is_a_table_with_a_delimiter(tmp_path):
    p = write(tmp_path / "data.txt", "good;pos\nbad;neg\n")
    assert read_labelled([p], delimiter=";").labels == ["pos", "neg"]
    q = write(tmp_path / "data.dat", "good\tpos\nbad\tneg\n")
    assert read_labelled([q], delimiter="tab").texts == ["good", "bad"]


def test_sst2_test_file_without_labels_is_an_error(tmp_path):
    p = write(tmp_path / "test.tsv", "index\tsentence\n0\tuneasy mishmash .\n")
    with raises(f"data: {p}: text and label would both be column 1 ('sentence'); expected two different columns"):
        read_labelled([p])


# ----- per-class files --------------------------------------------------------------------------
def test_directory_of_class_files_skips_hidden_readme_and_markdown(tmp_path):
    d = tmp_path / "names"
    d.mkdir()
    write(d / "Arabic.txt", "Khoury\n  Nahas \r\n\n")
    write(d / "English.txt", "Smith\n")
    (d / "German.txt.gz").write_bytes(gzip.compress(b"M\xc3\xbcller\n"))
    write(d / ".hidden", "x\n")
    write(d / "README", "x\n")
    write(d / "SOURCE.md", "x\n")
    (d / "sub").mkdir()
    ex = read_labelled([d])
    assert ex.labels == ["Arabic", "Arabic", "English", "German"]
    assert ex.texts == ["Khoury", "Nahas", "Smith", "Müller"]
    assert ex.origins[:2] == [f"{d / 'Arabic.txt'}:1", f"{d / 'Arabic.txt'}:2"]


def test_pos_neg_files_are_labelled_by_their_suffix(tmp_path):
    pos = write(tmp_path / "rt-polarity.pos", "a gem .\nlovely\n")
    neg = write(tmp_path / "rt-polarity.neg", "a mess .\n")
    ex = read_labelled([pos, neg])
    assert ex.labels == ["pos", "pos", "neg"] and ex.texts == ["a gem .", "lovely", "a mess ."]


def test_files_with_distinct_stems_are_labelled_by_their_stem(tmp_path):
    a = write(tmp_path / "happy.txt", "yay\n")
    b = write(tmp_path / "sad.txt", "boo\n")
    assert read_labelled([a, b]).labels == ["happy", "sad"]


def test_files_that_neither_stem_nor_suffix_tells_apart(tmp_path):
    a = write(tmp_path / "x.txt", "yay\n")
    (tmp_path / "sub").mkdir()
    b = write(tmp_path / "sub" / "x.txt", "boo\n")
    with raises(f"data: cannot tell the classes of {a}, {b} apart; expected file names"):
        read_labelled([a, b])
    again = tmp_path / "sub" / ".." / "x.txt"
    with raises(f"data: {again} is given twice; expected each class file once"):
        read_labelled([a, again])


def test_table_options_are_refused_for_class_files(tmp_path):
    a = write(tmp_path / "a.txt", "yay\n")
    b = write(tmp_path / "b.txt", "boo\n")
    with raises("data: --label-column given for per-class files; expected these options only with one TSV/CSV table"):
        read_labelled([a, b], label_column=1)


@pytest.mark.skipif(not (DATA / "rt_polarity").is_dir(), reason="shared data not available")
def test_real_rt_polarity_and_names():
    rt = DATA / "rt_polarity"
    ex = read_labelled([rt / "rt-polarity.pos", rt / "rt-polarity.neg"])
    assert Counter(ex.labels) == {"pos": 5331, "neg": 5331}
    names = read_labelled([DATA / "names" / "names"])
    assert len(names) == 20074 and len(set(names.labels)) == 18 and Counter(names.labels)["Russian"] == 9408


@pytest.mark.skipif(not (DATA / "sst2").is_dir(), reason="shared data not available")
def test_real_sst2():
    ex = read_labelled([DATA / "sst2" / "train.tsv"])
    assert len(ex) == 67349 and Counter(ex.labels) == {"0": 29780, "1": 37569}


# ----- errors -----------------------------------------------------------------------------------
def test_missing_path(tmp_path):
    p = tmp_path / "nope.tsv"
    with raises(f"data: no such file or directory: {p}") as e:
        read_labelled([p])
    one_line(e)


def test_empty_files(tmp_path):
    p = write(tmp_path / "empty.tsv", "")
    with raises(f"data: {p} has no examples; expected at least one non-blank line"):
        read_labelled([p])
    blank = write(tmp_path / "blank.txt", "\n  \n")
    good = write(tmp_path / "good.txt", "x\n")
    with raises(f"data: {blank} has no examples; expected at least one non-blank line"):
        read_labelled([good, blank])
    header_only = write(tmp_path / "h.tsv", "sentence\tlabel\n")
    with raises(f"data: {header_only} has no examples; expected at least one row after the header row"):
        read_labelled([header_only])
    d = tmp_path / "d"
    d.mkdir()
    write(d / "README.md", "x\n")
    with raises(f"data: directory {d} has no class files; expected one file per class"):
        read_labelled([d])


def test_column_name_errors(tmp_path):
    p = write(tmp_path / "d.tsv", "sentence\tlabel\ngood\t1\n")
    with raises(f"data: {p} has no column 'stars'; expected one of ['sentence', 'label']") as e:
        read_labelled([p], label_column="stars")
    one_line(e)
    q = write(tmp_path / "e.tsv", "good\tpos\nbad\tneg\n")
    with raises(
        f"data: {q} has no header row; expected --text-column/--label-column as 0-based column numbers, got 'stars'"
    ):
        read_labelled([q], label_column="stars")
    with raises(f"data: {q} has 2 column(s); expected --label-column below 2, got 5"):
        read_labelled([q], label_column=5)
    with raises("data: bad --text-column -1; expected a header name or a 0-based column number"):
        read_labelled([q], text_column=-1)


def test_row_errors_name_file_and_line(tmp_path):
    p = write(tmp_path / "d.tsv", "sentence\tlabel\ngood\t1\n\nno label here\n")
    with raises(f"data: {p}:4: no label (1 fields, expected at least 2)") as e:
        read_labelled([p])
    one_line(e)
    q = write(tmp_path / "e.tsv", "sentence\tlabel\ngood\t1\nbad\t \n")
    with raises(f"data: {q}:3: empty label; expected a label in column 1 ('label')"):
        read_labelled([q])
    r = write(tmp_path / "f.tsv", "sentence\tlabel\n \t1\n")
    with raises(f"data: {r}:2: empty text; expected text in column 0 ('sentence')"):
        read_labelled([r])
    s = write(tmp_path / "g.tsv", "sentence\tlabel\ngood\tstuff\t1\n")
    with raises(f"data: {s}:2: 3 fields; expected 2 like the header row"):
        read_labelled([s])


def test_a_single_plain_file_is_refused(tmp_path):
    p = write(tmp_path / "names.txt", "anna\nbob\n")
    with raises(
        f"data: {p} is one plain file; expected a TSV/CSV table with text and label columns, a directory with "
        f"one file per class, or two or more files, one per class"
    ) as e:
        read_labelled([p])
    one_line(e)


# ----- subsets -----------------------------------------------------------------------------------
def test_subset_picks_examples_in_order():
    ex = LabelledExamples(["a", "b", "c"], ["x", "y", "x"], ["f:1", "f:2", "f:3"])
    sub = ex.subset(i for i in (2, 0))
    assert sub.texts == ["c", "a"] and sub.labels == ["x", "x"] and sub.origins == ["f:3", "f:1"]
    with raises("data: bad example index 3; expected an int from 0 to 2"):
        ex.subset([3])
