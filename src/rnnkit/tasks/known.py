"""New data read with a checkpoint's vocabulary (fine-tuning, ``--init-from``), instead of one built from it.

A fine-tuning run's weights were trained on another run's vocabulary (and labels, tags,
characters), so its data is encoded with those (``known``: that checkpoint's metadata dict, with
"vocab" and the task's "labels" / "tags" / "chars"), never with a vocabulary of its own:

    character language models   a character the checkpoint lacks is refused (``refuse_others``),
                                listed with its counts: the model has no row for it
    words (LMs, classifiers,    a word the checkpoint lacks reads as <unk>, as held-out words always
    taggers)                    do; the run's start says how many training words did
    labels, tags                one the checkpoint lacks is refused, listed

The fine-tuned run stores the same vocabulary, and ``init_from`` in its config (``inherited``
tells, from a run's metadata, that its data is read this way: on resume, ``rnnkit eval`` of a
stored split, diagnostics), so it never needs the run it started from again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from rnnkit.data import DataError

KEY = "init_from"  # the key of the record in a run's config (rnnkit.tasks.init_from writes it)
_SHOWN = 10


def inherited(meta: dict) -> dict | None:
    """``meta`` (a run's checkpoint metadata) if that run's data is read with its stored vocabulary
    (a fine-tuned run), else None (its vocabulary is rebuilt from its data)."""
    config = meta.get("config") if isinstance(meta, dict) else None
    return meta if isinstance(config, dict) and KEY in config else None


def refuse_others(known: Sequence[str], what: str, got: Iterable[str] | Counter, sources: Sequence[str]) -> None:
    """Raise DataError if ``got`` (symbols, or a Counter of them) holds any outside ``known``,
    listing them with their counts, most frequent first. ``what``: "characters", "labels", "tags"."""
    counts = got if isinstance(got, Counter) else Counter(got)
    index = set(known)
    others = sorted(((n, s) for s, n in counts.items() if s not in index), key=lambda e: (-e[0], e[1]))
    if not others:
        return
    shown = ", ".join(f"{s!r} ({n:,}x)" for n, s in others[:_SHOWN]) + (", ..." if len(others) > _SHOWN else "")
    count = f"{len(known):,} {what}" if what == "characters" else f"{len(known)} {what} {_brief(known)}"
    raise DataError(
        f"init-from: expected only the checkpoint's {count}, got {len(others)} other{'s' * (len(others) != 1)} "
        f"in {', '.join(sources)}: {shown}; {_fix(what)}"
    )


def _brief(names: Sequence[str]) -> str:
    return "[" + ", ".join(repr(n) for n in names[:8]) + (", ...]" if len(names) > 8 else "]")


def _fix(what: str) -> str:
    if what == "characters":
        return "replace or remove them in the text, or train a new model on it (without --init-from)"
    return f"fine-tune on data with the checkpoint's {what} only, or train a new model on it (without --init-from)"


def char_counts(text: str, symbols: Sequence[str]) -> Counter:
    """How often each of ``symbols`` (distinct characters) occurs in ``text``."""
    return Counter({s: text.count(s) for s in symbols})


def unknown_note(unknown: int, total: int, unit: str) -> str | None:
    """The start of a fine-tuning run: how many training tokens the checkpoint's vocabulary reads as <unk>."""
    if not unknown or not total:
        return None
    return (
        f"init-from: {unknown:,} of the {total:,} training {unit} ({unknown / total:.1%}) are not in the "
        "checkpoint's vocabulary and read as <unk>"
    )
