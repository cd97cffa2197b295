"""Small pure text helpers shared by retrieval and answering: words, stems, stopwords."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator

from qa.lexicon import QUESTION_WORDS, STOPWORDS  # noqa: F401  (re-exported: many modules read them here)

# A word is a run of letters or digits in any script, as the keyword index (SQLite's unicode61
# tokenizer) splits text: "Alésia" is one word, not "Al" and "sia", and "76th" is one, not "76" and "th".
_WORD = re.compile(r"\d+(?:[,.]\d+)*(?:[^\W\d_]+\d*)*|[^\W_]+(?:['’][^\W\d_]+)?")


def words(text: str) -> list[str]:
    """Words and numbers of `text`, in order, case kept; thousands separators stay inside numbers.

    >>> words("Seoul's NIS said 1,500 K2 tanks (Russia-North Korea) left.")
    ["Seoul's", 'NIS', 'said', '1,500', 'K2', 'tanks', 'Russia', 'North', 'Korea', 'left']
    >>> words("Nicolás Maduro's 76th day in São Paulo, the 1990s")
    ['Nicolás', "Maduro's", '76th', 'day', 'in', 'São', 'Paulo', 'the', '1990s']
    """
    return _WORD.findall(text)


def fold(text: str) -> str:
    """`text` without its accents, as the keyword index reads it.

    >>> fold("Nicolás Alésia São Paulo Zürich")
    'Nicolas Alesia Sao Paulo Zurich'
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def index_terms(text: str) -> list[str]:
    """The terms the keyword index makes of `text`: lower case, accents folded, split at anything
    that is not a letter or digit.

    >>> index_terms("Alésia's 10,000 troops")
    ['alesia', 's', '10', '000', 'troops']
    """
    return re.findall(r"[^\W_]+", fold(text).lower())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light suffix-stripping stem, enough to match "summoned" with "summon" and "troops" with "troop".

    >>> [stem(w) for w in ["Summoned", "troops", "ratifying", "agencies", "Korea's", "1,500", "pass", "1980s", "76th"]]
    ['summon', 'troop', 'ratify', 'agency', 'korea', '1500', 'pass', '1980', '76th']
    """
    w = fold(word).lower().replace("’", "'")
    if w[:1].isdigit():
        # A decade is its year: "1980s" matches "1980's", which splits into "1980" and "s".
        return re.sub(r"(?<=\d)s$", "", w.replace(",", ""))
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


def sub_with_space_before(pattern: re.Pattern, repl, text: str) -> str:
    """`pattern.sub(repl, text)`, each match also taking the whitespace just before it, in linear time.

    Writing the whitespace into the pattern (`\\s*\\[\\d+\\]`) makes the regex engine re-scan a run of
    spaces from each of its positions: quadratic (80,000 spaces took 13 s). Here the pattern starts at a
    non-space and the run before each match is cut off the text kept before it.

    >>> sub_with_space_before(re.compile(r"\\[\\d+\\]"), "", "Seoul  [1] summoned [2][3] him.")
    'Seoul summoned him.'
    """
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(text[pos : m.start()].rstrip())
        out.append(repl(m) if callable(repl) else repl)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_CITATION = re.compile(r"\[\d+\]")


def strip_citations(text: str) -> str:
    """`text` without its `[n]` markers (and the space before each); linear in the length of `text`.

    >>> strip_citations("He was summoned. [1] He left [2][3].")
    'He was summoned. He left.'
    """
    return sub_with_space_before(_CITATION, "", text)


def clean_text(text: str) -> str:
    """Text from a user made plain: NFKC (fullwidth letters, non-breaking spaces), every run of
    whitespace (U+2028, tabs, newlines) one space, invisible and control characters and lone
    surrogates dropped; stripped. Linear time.

    >>> clean_text("Russian\\u00a0ambassador\\u2028\\uff33eoul \\ud800 said\\x00 so ")
    'Russian ambassador Seoul said so'
    """
    text = unicodedata.normalize("NFKC", text)
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def for_terminal(text: str, newlines: bool = False) -> str:
    """`text` safe to print on a terminal: escape codes, carriage returns, bidi overrides, lone
    surrogates and every other invisible character shown as a Python escape (`\\x1b`), and newlines
    too unless `newlines` (so a file name can neither colour the screen nor forge a line).

    >>> print(for_terminal("evil\\x1b[31m.txt\\n[2] forged.txt"))
    evil\\x1b[31m.txt\\n[2] forged.txt
    """
    return "".join(ch if ch.isprintable() or (newlines and ch == "\n") else ascii(ch)[1:-1] for ch in text)
