"""Small pure text helpers shared by retrieval and answering: words, stems, stopwords."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from qa.lexicon import QUESTION_WORDS, STOPWORDS  # noqa: F401  (re-exported: many modules read them here)

_WORD = re.compile(r"\d+(?:[,.]\d+)*|[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


def words(text: str) -> list[str]:
    """Words and numbers of `text`, in order, case kept; thousands separators stay inside numbers.

    >>> words("Seoul's NIS said 1,500 K2 tanks (Russia-North Korea) left.")
    ["Seoul's", 'NIS', 'said', '1,500', 'K2', 'tanks', 'Russia', 'North', 'Korea', 'left']
    """
    return _WORD.findall(text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light suffix-stripping stem, enough to match "summoned" with "summon" and "troops" with "troop".

    >>> [stem(w) for w in ["Summoned", "troops", "ratifying", "agencies", "Korea's", "1,500", "pass"]]
    ['summon', 'troop', 'ratify', 'agency', 'korea', '1500', 'pass']
    """
    w = word.lower().replace("’", "'")
    if w[:1].isdigit():
        return w.replace(",", "")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace("'", "")
    if len(w) <= 3:
        return w
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ying", "y")):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            return w[: -len(suffix)] + repl
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) > len(suffix) + 3:
            base = w[: -len(suffix)]
            if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    if w.endswith("es") and len(w) > 4 and w[-3] in "sxz":
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def content_stems(text: str) -> list[str]:
    """Stems of the words of `text` that carry meaning (no stopwords), in order, without repeats.

    >>> content_stems("What did the Russian ambassador say to Seoul?")
    ['russian', 'ambassador', 'seoul']
    """
    seen: dict[str, None] = {}
    for w in words(text):
        if w.lower().replace("’", "'") in STOPWORDS:
            continue
        seen.setdefault(stem(w), None)
    return list(seen)


def normalize(text: str) -> str:
    """Lower case, no punctuation, no thousands separators, single spaces (for answer matching).

    >>> normalize("Up to 3,000 North-Korean troops!")
    'up to 3000 north korean troops'
    """
    text = re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", text.lower())
    text = re.sub(r"[^\w\s]", " ", text.replace("’", "'").replace("'", ""))
    return re.sub(r"\s+", " ", text).strip()


def pieces(text: str, size: int = 3) -> Iterator[str]:
    """A finished text in runs of a few words, for a streamed display of an answer made whole.

    >>> list(pieces("one two three four"))
    ['one two three ', 'four']
    """
    parts = text.split(" ")
    for i in range(0, len(parts), size):
        yield " ".join(parts[i : i + size]) + (" " if i + size < len(parts) else "")


def strip_citations(text: str) -> str:
    """The text without its `[n]` citation markers (and the space before each).

    One pass, no backtracking over runs of spaces, so a long history costs linear time.

    >>> strip_citations("Seoul summoned him. [1] He said so [2].")
    'Seoul summoned him. He said so.'
    """
    return re.sub(r"\s?\[\d+\]", "", text)
