"""read_text (files, directories, decoding errors, .gz) and split_lines."""

import gzip
import re

import pytest

from rnnkit.data import DataError
from rnnkit.data.readers.text import read_text


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# ----- read_text: files and directories ---------------------------------------------------------
def test_reads_one_file_exactly(tmp_path):
    f = write(tmp_path / "a.txt", "hello\r\nwörld")  # no newline translation, no stripping
    assert read_text(f) == "hello\r\nwörld"
    assert read_text(str(f)) == "hello\r\nwörld"


def test_directory_is_read_recursively_in_path_order_with_newlines_between(tmp_path):
    write(tmp_path / "b.txt", "B")
    write(tmp_path / "a" / "z.txt", "AZ\n")  # already ends with a newline: none added
    write(tmp_path / "a-b.txt", "A-B")
    write(tmp_path / "a" / "deep" / "y.txt", "ADY")
    write(tmp_path / "notes.md", "ignored")
    write(tmp_path / "empty.txt", "")  # empty files inside a directory are skipped
    # component-wise order: a/deep/y.txt, a/z.txt, a-b.txt, b.txt, empty.txt (skipped)
    assert read_text(tmp_path) == "ADY\nAZ\nA-B\nB"


def test_list_of_files_and_directories_in_the_given_order(tmp_path):
    d = tmp_path / "d"
    write(d / "1.txt", "one")
    f = write(tmp_path / "f.txt", "eff\n")
    assert read_text([f, d]) == "eff\none"
    assert read_text([d, f]) == "one\neff\n"


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.txt"
    with raises(f"data: no such file or directory: {missing}"):
        read_text(missing)
    write(tmp_path / "ok.txt", "x")
    with raises(f"data: no such file or directory: {missing}"):
        read_text([tmp_path / "ok.txt", missing])


def test_directory_without_txt_files(tmp_path):
    write(tmp_path / "a.md", "text")
    msg = f"data: no .txt files in directory {tmp_path}; expected at least one *.txt file (searched recursively)"
    with raises(msg):
        read_text(tmp_path)


def test_directory_with_only_empty_txt_files(tmp_path):
    write(tmp_path / "a.txt", "")
    msg = f"data: every .txt file in {tmp_path} is empty; expected at least one character of text"
    with raises(msg):
        read_text(tmp_path)


def test_empty_file(tmp_path):
    f = write(tmp_path / "a.txt", "")
    with raises(f"data: {f} is empty; expected at least one character of text"):
        read_text(f)


def test_file_with_no_text_after_decoding(tmp_path):
    f = write(tmp_path / "a.txt", b"\xff\xfe")
    msg = (
        f"data: {f} holds no text after decoding as utf-8 with errors='ignore'; expected at least one character of text"
    )
    with raises(msg):
        read_text(f, errors="ignore")


def test_empty_source_list_and_bad_source_type():
    with raises("data: no input paths given; expected a file, a directory"):
        read_text([])
    with raises("data: expected a path (str or Path) or a list of paths, got int"):
        read_text(3)


# ----- read_text: decoding ----------------------------------------------------------------------
def test_invalid_utf8_reports_byte_offset_and_value(tmp_path):
    f = write(tmp_path / "a.txt", b"abc\xffdef")
    msg = f"data: {f} is not valid utf-8 at byte offset 3 (byte 0xff); pass --encoding ENCODING or --errors replace"
    with raises(msg):
        read_text(f)


def test_byte_offset_counts_bytes_not_characters(tmp_path):
    f = write(tmp_path / "a.txt", "éé".encode() + b"\x80z")  # two 2-byte characters first
    with raises("at byte offset 4 (byte 0x80)"):
        read_text(f)


def test_invalid_bytes_in_a_directory_name_the_file(tmp_path):
    write(tmp_path / "a.txt", "fine")
    bad = write(tmp_path / "b.txt", b"ok\xc3")  # truncated 2-byte sequence at the end
    with raises(f"data: {bad} is not valid utf-8 at byte offset 2 (byte 0xc3)"):
        read_text(tmp_path)


def test_errors_replace_and_ignore_and_other_encodings(tmp_path):
    f = write(tmp_path / "a.txt", b"abc\xffdef")
    assert read_text(f, errors="replace") == "abc\ufffddef"
    assert read_text(f, errors="ignore") == "abcdef"
    assert read_text(f, encoding="latin-1") == "abc\xffdef"


def test_unknown_encoding_and_error_handler(tmp_path):
    f = write(tmp_path / "a.txt", "x")
    with raises("data: unknown encoding 'utf-99'; expected a Python codec name"):
        read_text(f, encoding="utf-99")
    with raises("data: unknown decoding error handler 'loose'; expected 'strict'"):
        read_text(f, errors="loose")


def test_read_text_gzip_and_its_errors(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress("héllo\n".encode()))
    assert read_text(tmp_path / "a.txt.gz") == "héllo\n"
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with raises("is not a valid gzip file"):
        read_text(tmp_path / "bad.gz")
    (tmp_path / "latin.gz").write_bytes(gzip.compress(b"ab\xe9"))
    with raises("is not valid utf-8 at decompressed byte offset 2 (byte 0xe9)"):
        read_text(tmp_path / "latin.gz")
