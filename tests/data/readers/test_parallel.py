"""Parallel text for translation: pair tables (any column order), aligned files (.gz), blank sides
dropped and counted, and every bad input as one line naming file and line."""

import gzip
import re
from pathlib import Path

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.readers.parallel import ParallelText, read_parallel_files, read_parallel_table


def raises(msg):
    return pytest.raises(DataError, match=re.escape(msg))


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


TATOEBA = "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\nRun!\tCours\u202f!\r\n\nWho?\tQui ?\n"


def test_table_reads_tatoeba_pairs_with_attribution_and_crlf(tmp_path):
    pairs = read_parallel_table(write(tmp_path / "eng-fra.txt", TATOEBA))
    assert pairs.sources == ["Go.", "Run!", "Who?"]
    assert pairs.targets == ["Va !", "Cours\u202f!", "Qui ?"]
    assert pairs.origins == [f"{tmp_path / 'eng-fra.txt'}:{n}" for n in (1, 2, 4)]
    assert pairs.dropped_empty == 0  # the blank line 3 is no pair


def test_table_columns_choose_the_direction(tmp_path):
    path = write(tmp_path / "eng-fra.txt", TATOEBA)
    fra_eng = read_parallel_table(path, source_column=1, target_column=0)
    assert fra_eng.sources == ["Va !", "Cours\u202f!", "Qui ?"] and fra_eng.targets[0] == "Go."
    swapped = read_parallel_table(path).reversed()
    assert (swapped.sources, swapped.targets) == (fra_eng.sources, fra_eng.targets)


def test_table_gz_and_empty_cells_dropped_with_a_count(tmp_path):
    path = write(tmp_path / "pairs.tsv.gz", "a\tb\n \tc\nd\t  \ne\tf\n")
    pairs = read_parallel_table(path)
    assert pairs.sources == ["a", "e"] and pairs.targets == ["b", "f"]
    assert pairs.dropped_empty == 2


def test_table_with_one_column_is_an_error_naming_the_line(tmp_path):
    path = write(tmp_path / "pairs.tsv", "a\tb\nonly one side\n")
    with raises(f"data: {path}:2: 1 field (no tab); expected at least 2 tab-separated fields"):
        read_parallel_table(path)
    with raises(f"data: {path}:1: 2 fields; expected at least 3 tab-separated fields"):
        read_parallel_table(path, source_column=2, target_column=0)


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"source_column": -1}, "data: source_column: expected a 0-based column number >= 0, got -1"),
        ({"target_column": "1"}, "data: target_column: expected a 0-based column number >= 0, got '1'"),
        ({"source_column": 1}, "data: source_column and target_column are both 1; expected two different columns"),
    ],
)
def test_table_bad_columns(tmp_path, kwargs, msg):
    with raises(msg):
        read_parallel_table(write(tmp_path / "p.tsv", "a\tb\n"), **kwargs)


def test_table_with_no_pair_and_missing_or_empty_files(tmp_path):
    path = write(tmp_path / "p.tsv", "\t\n \tx\n")
    with raises(f"data: {path} has no sentence pair; expected at least one line with both sides non-empty"):
        read_parallel_table(path)
    with raises(f"data: no such file or directory: {tmp_path / 'nope.tsv'}"):
        read_parallel_table(tmp_path / "nope.tsv")
    with raises(f"data: {tmp_path / 'empty.tsv'} is empty"):
        read_parallel_table(write(tmp_path / "empty.tsv", ""))


def test_aligned_files_like_multi30k(tmp_path):
    de = write(tmp_path / "train.de.gz", "Ein Hund.\nZwei Katzen.\n\nEin Mann.\n")
    en = write(tmp_path / "train.en.gz", "A dog.\n\n\nA man.")  # no final newline: still 4 lines
    pairs = read_parallel_files(de, en)
    assert pairs.sources == ["Ein Hund.", "Ein Mann."] and pairs.targets == ["A dog.", "A man."]
    assert pairs.origins == [f"{de}:1", f"{de}:4"]
    assert pairs.dropped_empty == 2  # line 2 (target blank) and line 3 (both blank)


def test_misaligned_files_name_both_counts(tmp_path):
    de = write(tmp_path / "a.de", "x\ny\nz\n")
    en = write(tmp_path / "a.en", "x\ny\n")
    with raises(f"data: {de} has 3 lines but {en} has 2; expected aligned files with the same number of lines"):
        read_parallel_files(de, en)


def test_undecodable_bytes_name_the_file(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"a\tb\n\xff\tc\n")
    with raises(f"data: {path} is not valid utf-8 at byte offset 4"):
        read_parallel_table(path)
    assert read_parallel_table(path, encoding="latin-1").sources == ["a", "\xff"]


def test_subset_and_its_bounds():
    pairs = ParallelText(["a", "b", "c"], ["x", "y", "z"], ["f:1", "f:2", "f:3"], dropped_empty=4)
    part = pairs.subset([2, 0])
    assert (part.sources, part.targets, part.origins) == (["c", "a"], ["z", "x"], ["f:3", "f:1"])
    with raises("data: pair index 3 out of range; expected 0 <= index < 3"):
        pairs.subset([3])
