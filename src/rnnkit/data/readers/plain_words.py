"""Plain text -> words, the way Universal Dependencies' English treebank (EWT) cuts them.

A tagger trained on CoNLL-U learned the treebank's words, so plain text must be cut the same way
before it is tagged: split on spaces alone, ``butter!`` and ``it's`` are single unknown words.
:func:`ud_tokenize` is the one rule ``rnnkit tag`` and ``LoadedTagger.tag(text)`` apply to plain
text (pre-tokenised input, ``token<TAB>tag`` columns and CoNLL-U keep their own tokens)::

    "it's not butter!"          ->  it 's not butter !
    "I don't know, Mr. Li."     ->  I do n't know , Mr. Li .
    "We can't, won't, cannot"   ->  We ca n't , wo n't , can not
    "I'm sure they've gone"     ->  I 'm sure they 've gone
    "the U.S. (e.g. Texas)"     ->  the U.S. ( e.g. Texas )
    "at 3:30 p.m."              ->  at 3:30 p.m .        (a final abbreviation gives up its period)
    "$5, 3.5% of 1,000; 65k"    ->  $ 5 , 3.5 % of 1,000 ; 65 k
    "an e-mail to a co-worker about a long-term plan"
                                ->  an e-mail to a co-worker about a long - term plan
    "see www.x.com/a?b=1, or mail jo@x.org :)"
                                ->  see www.x.com/a?b=1 , or mail jo@x.org :)

The rule, tried in this order at each point of the text (whitespace always separates):

1. Kept whole: URLs (``http://``, ``https://``, ``ftp://``, ``www.``; trailing punctuation is
   not theirs), e-mail addresses (``mailto:`` included), names ending in a common domain or file
   suffix (``enron.com``, ``report.XLS``, ``.doc``), lower-case dotted names of three parts or
   more (``alt.animals.cats``), emoticons (``:)``, ``;-)``, ``:D``, ``^_^``, ``<3``).
2. Abbreviations keep their period: titles, months, weekdays and a short list (``Mr.``, ``Dr.``,
   ``Sept.``, ``Wed.``, ``Inc.``, ``vs.``, ``etc.``, ``No.`` before a number: ``_TITLES``,
   ``_LOWER``), letter-dot runs (``U.S.``, ``e.g.``, ``p.m.``, ``a.k.a``, ``U.K``) and a capital
   initial before more text (``George W. Bush``). At the very end of the text (closing quotes
   and brackets aside) the period is split off, as EWT does for a sentence-final abbreviation:
   ``p.m`` ``.``.
3. Numbers keep their inner ``.``, ``,``, ``:`` and ``/`` (``3.5``, ``1,000``, ``5:00``,
   ``11/28/2000``, ``.5``), a leading ``+`` (``+44``) and phone numbers their hyphens
   (``713-853-3989``); a unit written against a number is split off (``65k``, ``5pm``,
   ``10kg``: ``_UNITS``) but ordinals and decades are not (``1st``, ``80s``, ``60's``); a
   currency sign or ``%`` is a token of its own (``$`` ``5``).
4. Words are runs of letters and digits (``MP3``) with inner apostrophes and ampersands
   (``O'Brien``, ``AT&T``). A hyphen splits a word (``long - term``) unless the part before it
   is a bound prefix (``e-``, ``non-``, ``pre-``, ``re-``, ``co-``, ``anti-`` ...: ``PREFIXES``).
   Then clitics come off the end, as many as there are: ``n't`` (``do n't``, ``ca n't``,
   ``wo n't``), ``'s``, ``'m``, ``'d``, ``'ll``, ``'re``, ``'ve`` (any case, with ``'``, ``’``
   or a backtick: ``Don’t`` -> ``Do n’t``; ``I'd've`` -> ``I 'd 've``). A few fused forms are
   split as EWT splits them: ``cannot`` -> ``can not``, ``gonna`` -> ``gon na``, ``wanna``,
   ``gotta``, and the apostrophe-less negations that are no other word (``dont`` -> ``do nt``,
   ``didnt``, ``isnt`` ...). ``'em``, ``'til``, ``'cause``, ``'90s`` and ``'02`` keep their
   leading apostrophe, and clitics already split stay so (``do n't``): text tokenised this way
   comes back unchanged (EWT's own words, joined by spaces: 97.9% of the dev sentences).
5. Punctuation is one token per mark, except runs of ``!`` and ``?`` (``?!``, ``!!!``, ``.?``),
   of dots (``...``), of hyphens (``--``), of ``*`` or ``=``, and the pairs ``''``, ``‘’``,
   two backticks, ``<<``, ``>>``, ``<-``, ``->``.

Not handled (EWT decides these from context, or by hand): ``its``, ``cant``, ``wont``, ``im``,
``your`` written for "it's", "can't", "won't", "I'm", "you're" (left whole: they are words too);
the possessive ``it's`` typo and the plural ``Tuesday's`` (both split); a sentence that ends
inside the text right after an abbreviation (``in the U.S. It is`` keeps ``U.S.``) or a capital
(``plan B. Then`` keeps ``B.``); abbreviations outside the list (``Spec.``); words run together
(``callyou``); hyphenated names and codes EWT keeps whole (``al-Qaeda`` is split too, like EWT;
``MEH-risk`` is split, unlike it); sentence splitting (one text is one sentence).

Measured on the raw ``# text =`` lines of UD English EWT r2.16's dev set (2,001 sentences,
``tests/data/readers/test_plain_words.py``): the tokens are exactly the treebank's words in 94.4%
of the sentences, and 99.1% of the tokens match (F1 of the token spans); splitting on whitespace
gets 16.1% and 79.1%.

Needs nothing beyond the standard library (no torch).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import DataError
from .conllu import TaggedSentences, conllu_lines

#: Hyphenated words whose first part (lower-cased) is one of these stay whole: ``e-mail``, ``non-profit``.
PREFIXES = frozenset(
    "anti arch co counter cross de e ex inter intra macro micro mid mini multi neo non over post pre pro "
    "psycho re semi socio sub super trans ultra un".split()
)

_TITLES = (
    "Mr Mrs Ms Dr Prof Rev Gen Col Capt Lt Sgt Gov Sen Rep Pres Hon Fr St Jr Sr Mt Ft Ave Blvd Rd "
    "Inc Ltd Co Corp Bros Dept Univ Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun"
).split()
_LOWER = "vs etc approx cf al esp misc".split()
_DOMAINS = "com|org|net|edu|gov|mil|info|biz|io|uk|ca|de|fr|au|ru|jp"
_FILES = "doc|docx|xls|xlsx|ppt|pptx|pdf|txt|htm|html|jpg|jpeg|png|gif|zip|csv"
#: Units written against a number are split off it (``65k`` -> ``65 k``, ``5pm`` -> ``5 pm``).
_UNITS = "k|K|m|M|b|B|bn|pm|PM|am|AM|p|mm|cm|km|kg|g|lb|lbs|ft|oz|ml|mg|Hz|kb|KB|MB|GB|TB|mph|hh|[a-z]{3,}"

_TOKEN = re.compile(
    rf"""
      (?P<url>(?:(?:https?|ftp)://|www\.)[^\s<>"]+?(?=[.,;:!?'")\]]*(?:\s|$)))
    | (?P<email>(?:mailto:)?[\w.+%-]+@\w[\w.-]*\w)
    | (?P<site>(?:\w[\w-]*(?:\.[\w-]+)*|(?<![\w.]))\.(?:{_DOMAINS}|(?i:{_FILES}))(?!\w|\.\w))
    | (?P<dotted>(?<![\w.])[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*){{2,}}(?!\w|\.\w))
    | (?P<emoticon>[:;][-o^']?[)(\]\[DPp|]+(?![\w/])|\^_\^|<3|-_-|:'\()
    | (?P<abbrev>(?<![\w.])(?:(?:{"|".join(_TITLES)}|{"|".join(_LOWER)})\.|No\.(?=\s*\d)
        |(?:[A-Za-z]\.){{2,}}(?:[A-Za-z](?!\w))?|[A-Za-z]\.[A-Za-z](?!\w)|[A-Z]\.(?=\s+\S)))
    | (?P<phone>(?<!\w)(?:\d{{1,3}}-)?(?:\d{{3}}-)?\d{{3}}-\d{{4}}(?![\w-]))
    | (?P<measure>\d+(?:[.,]\d+)*(?=(?:{_UNITS})(?!\w)))
    | (?P<number>\d+(?:[.,:/]\d+)+|(?<![\w.])\.\d+|(?<![\w+])\+\d+)
    | (?P<slash>(?<!\w)[A-Za-z]/[A-Za-z]?(?!\w))
    | (?P<lead>['’](?:em|til|cause|\d0s|\d\d)(?!\w))
    | (?P<clitic>['’`](?:[sSmMdD]|ll|LL|re|RE|ve|VE)(?!\w))
    | (?P<word>\w+(?:(?:['’`]|&|-)\w+)*)
    | (?P<punct>\.{{2,}}|\.?[!?]+|-{{2,}}|\*{{2,}}|={{2,}}|''|``|[‘’]{{2}}|<<|>>|<-|->|[^\w\s])
    """,
    re.VERBOSE,
)
_CLITIC = re.compile(r"(?i)^(.+?)(n['’`]t|['’`](?:s|m|d|ll|re|ve))$")
#: Fused forms EWT writes as two words: the length of the first (case kept: ``Cannot`` -> ``Can not``).
_NEGATIONS = "dont didnt doesnt isnt wasnt arent werent couldnt wouldnt shouldnt havent hasnt hadnt".split()
_FUSED = {"cannot": 3, "gonna": 3, "wanna": 3, "gotta": 3, **{w: len(w) - 2 for w in _NEGATIONS}}
_CLOSERS = frozenset(")]}\"'’”»")


def ud_tokenize(text: str) -> list[str]:
    """The words of ``text`` cut as UD English EWT cuts them (see the module doc for the rule).

    Raises:
        DataError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise DataError(f"text: expected a str, got {type(text).__name__}")
    tokens: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "word":
            tokens.extend(_split_word(m.group()))
        else:
            tokens.append(m.group())
    _split_final_period(tokens)
    return tokens


def plain_sentences(text: str, name: str, tokenize: Callable[[str], list[str]] = ud_tokenize) -> TaggedSentences:
    """Plain text, one sentence per line, as untagged sentences: each line cut by ``tokenize``
    (``ud_tokenize``; ``str.split`` for text already tokenised), origin ``"name:line"``; lines
    without a token are skipped (none at all: no sentences)."""
    lines = [tokenize(line) for line in conllu_lines(text)]  # "\n"-separated, as every reader splits
    tokens = [words for words in lines if words]
    return TaggedSentences(tokens, None, [f"{name}:{i + 1}" for i, words in enumerate(lines) if words])


def _split_word(word: str) -> list[str]:
    """A word with its hyphens (after a bound prefix aside) and its clitics split off."""
    parts = word.split("-")
    pieces = [parts[0]]
    for before, part in zip(parts, parts[1:]):
        if before.lower() in PREFIXES:
            pieces[-1] += "-" + part
        else:
            pieces += ["-", part]
    return [token for piece in pieces for token in _split_clitics(piece)]


def _split_clitics(word: str) -> list[str]:
    """``I'd've`` -> ``I 'd 've``; ``cannot`` -> ``can not``."""
    tail: list[str] = []
    while (m := _CLITIC.match(word)) and not (m.group(1).isdigit() and m.group(2)[1:].lower() == "s"):
        word = m.group(1)
        tail.insert(0, m.group(2))
    cut = _FUSED.get(word.lower())
    head = [word] if cut is None else [word[:cut], word[cut:]]
    return head + tail


def _split_final_period(tokens: list[str]) -> None:
    """A period ending an abbreviation at the very end (closing quotes and brackets aside) is the
    sentence's own: ``p.m.`` -> ``p.m`` ``.``."""
    j = len(tokens) - 1
    while j >= 0 and tokens[j] in _CLOSERS:
        j -= 1
    if j >= 0 and len(tokens[j]) > 1 and tokens[j].endswith(".") and any(c.isalpha() for c in tokens[j]):
        tokens[j : j + 1] = [tokens[j][:-1], "."]
