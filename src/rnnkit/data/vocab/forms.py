"""The stored forms of a vocabulary: the dict :meth:`Vocab.to_dict` puts in every checkpoint, and its readers.

Each form is exactly what rnnkit wrote when the three forms were three classes (``CharVocab``,
``WordVocab``, ``TokenVocab``), key order included: a resumed run compares ``vocab.to_dict()`` with
the stored dict, and old checkpoints must load::

    character stream   {"kind": "char", "specials": [...], "chars": [...]}
    word stream        {"kind": "word", "specials": ["<eos>", "<unk>"], "words": [...]}
    sequence           {"kind": "tokens", "tokens": "word" | "char", "lowercase": false, "symbols": [...]}

A sequence vocabulary whose specials are not ``<pad>``, ``<unk>`` (none before the specials were
declared) adds ``"specials": [...]`` at the end; a missing one reads as ``["<pad>", "<unk>"]``.
"""

from __future__ import annotations

from ..errors import DataError
from .layout import EOS, PAD, UNK

#: The stored forms, by their "kind" field.
VOCAB_KINDS = ("char", "word", "tokens")

#: The specials of today's word streams and sequences (ids 0 and 1).
WORD_SPECIALS = (EOS, UNK)
TOKEN_SPECIALS = (PAD, UNK)


def to_dict(v) -> dict:
    """The stored form of the vocabulary ``v`` (JSON-safe)."""
    if not v.stream:
        d = {"kind": "tokens", "tokens": v.tokens, "lowercase": v.lowercase, "symbols": list(v.ordinary)}
        if v.specials != TOKEN_SPECIALS:
            d["specials"] = list(v.specials)
        return d
    key = "chars" if v.tokens == "char" else "words"
    return {"kind": v.tokens, "specials": list(v.specials), key: list(v.ordinary)}


def from_dict(d: dict, cls):
    """Rebuild a ``cls`` (:class:`Vocab`) from any stored form, dispatching on ``d["kind"]``.

    Raises:
        DataError: ``d`` is not a dict, its kind is not one of :data:`VOCAB_KINDS`, or it is malformed.
    """
    if not isinstance(d, dict):
        raise DataError(f"vocab: expected a dict with a 'kind' field, got {type(d).__name__}")
    kind = d.get("kind")
    if kind not in VOCAB_KINDS:
        known = ", ".join(repr(k) for k in VOCAB_KINDS)
        raise DataError(f"vocab: unknown vocabulary kind {kind!r}; expected one of {known}")
    return read_tokens(d, cls) if kind == "tokens" else read_stream(d, kind, cls)


def read_stream(d: dict, kind: str, cls, name: str = "Vocab", specials: tuple[str, ...] | None = None):
    """A ``"char"`` or ``"word"`` form (``kind``); ``name`` is the class named in messages; ``specials``:
    the only specials accepted (None: any)."""
    if not isinstance(d, dict):
        raise DataError(f"vocab: expected a dict from {name}.to_dict(), got {type(d).__name__}")
    if d.get("kind") != kind:
        raise DataError(f"vocab: expected kind {kind!r}, got {d.get('kind')!r}")
    key = "chars" if kind == "char" else "words"
    if kind == "word":
        d = {"specials": list(WORD_SPECIALS), **d}  # the specials were implied before they were stored
    for k in ("specials", key) if kind == "char" else (key, "specials"):
        if not isinstance(d.get(k), list):
            raise DataError(f"vocab: expected a list under {k!r}, got {type(d.get(k)).__name__}")
    if specials is not None and d["specials"] != list(specials):
        raise DataError(f"vocab: expected specials {list(specials)}, got {d['specials']!r}")
    return cls(d[key], d["specials"], tokens=kind, stream=True)


def read_tokens(d: dict, cls):
    """A ``"tokens"`` form (a sequence vocabulary)."""
    if not isinstance(d, dict) or d.get("kind") != "tokens" or not isinstance(d.get("symbols"), list):
        raise DataError(f"vocab: expected a dict of kind 'tokens' with a 'symbols' list, got {d!r:.80}")
    specials = d.get("specials", list(TOKEN_SPECIALS))
    if not isinstance(specials, list):
        raise DataError(f"vocab: expected a list under 'specials', got {type(specials).__name__}")
    tokens, lowercase = d.get("tokens", "word"), d.get("lowercase", False)
    if not isinstance(lowercase, bool):
        raise DataError(f"vocab: expected true or false under 'lowercase', got {lowercase!r:.60}")
    return cls(d["symbols"], specials, tokens=tokens, stream=False, lowercase=lowercase)
