"""DataConfig: the data component's defaults and their validation."""

import re

import pytest

from rnnkit.data import DataError
from rnnkit.tasks import DataConfig


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def test_defaults_are_valid():
    c = DataConfig().validate()
    assert (c.encoding, c.mode, c.split) == ("utf-8", "chars", (0.9, 0.05, 0.05))
    assert (c.batch_size, c.seq_len) == (50, 50)


@pytest.mark.parametrize(
    "override, msg",
    [
        ({"encoding": "nope"}, "data: unknown encoding 'nope'"),
        ({"errors": "nope"}, "data: unknown decoding error handler 'nope'"),
        ({"mode": "words"}, "data: expected mode 'chars' or 'lines', got 'words'"),
        ({"unknown": "keep"}, "data: expected unknown 'error' or 'skip', got 'keep'"),
        ({"split": (0.5, 0.5, 0.5)}, "data: expected split fractions summing to 1"),
        ({"batch_size": 0}, "data: expected batch size to be an integer >= 1, got 0"),
        ({"seq_len": 1.5}, "data: expected sequence length to be an integer >= 1, got 1.5"),
    ],
)
def test_bad_fields(override, msg):
    with raises(msg):
        DataConfig(**override).validate()
