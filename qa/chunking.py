"""Sentence-aware chunking that keeps exact character spans and content-derived ids."""

from __future__ import annotations

import hashlib
import re

from qa.corpus import Article
from qa.types import Chunk

# Words whose trailing dot does not end a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "rep", "sen", "gov",
    "pres", "st", "jr", "sr", "vs", "no", "inc", "corp", "ltd", "co", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig", "approx", "est", "dept", "min",
}
# A run of sentence-ending marks (matched only from its first mark, so a long run of dots is not
# rescanned from each of its positions), closing quotes/brackets, then space and a capital or digit.
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]+['\"”’)\]]*(?=\s+['\"“‘(\[]?[A-Z0-9])")
# The word before a boundary is looked for this far back at most: an abbreviation or a run of
# initials ("U.S.", "N.") is short, and a fixed bound keeps the whole pass linear in the text.
_WORD_LOOKBACK = 40


def _word_before(body: str, end: int) -> str:
    """The word ending at `end` (without its final marks), e.g. "Mr" in "said Mr."."""
    start = max(0, end - _WORD_LOOKBACK)
    m = re.search(r"(\S+?)[.!?]+['\"”’)\]]*$", body[start:end])
    return m[1] if m else ""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`; line breaks always end a sentence.

    Linear in the length of the text (a boundary looks back a bounded distance only).

    >>> t = "The U.S. and Seoul met. Mr. Kim spoke.\\nA heading"
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['The U.S. and Seoul met.', 'Mr. Kim spoke.', 'A heading']
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        offset, body = line.start(), line.group()
        start = 0
        for m in _BOUNDARY.finditer(body):
            token = _word_before(body, m.end())
            if body[m.start()] == "." and (
                token.lower().rstrip(".") in ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token)
            ):
                continue  # "Mr." or an initial such as "U.S." or "N."
            spans.append((offset + start, offset + m.end()))
            start = m.end()
            while start < len(body) and body[start].isspace():
                start += 1
        if body[start:].strip():
            spans.append((offset + start, offset + len(body.rstrip())))
    return spans


def chunk_id(text: str) -> str:
    """A stable id derived from the text alone.

    >>> chunk_id("Seoul summoned the ambassador.") == chunk_id("Seoul summoned the ambassador.")
    True
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def is_heading(sentence: str) -> bool:
    """A short line without closing punctuation: a sub-heading, not a sentence of the story."""
    return len(sentence) < 120 and not re.search(r"[.!?:;,'\"”’)]$", sentence.strip())


def is_question(sentence: str) -> bool:
    """A sentence that asks rather than tells ("When is the House voting?"), not a title in quotes
    that ends in a question mark.

    >>> is_question("When is the House voting on the files?"), is_question('He hosted "Who Wants to Be a Millionaire?')
    (True, False)
    """
    s = sentence.rstrip()
    return s.endswith("?") and not re.search(r"[\"“][^\"”]*\?$", s)


def chunk_article(article: Article, max_chars: int = 700, overlap_sentences: int = 1) -> list[Chunk]:
    """Group consecutive sentences into chunks of at most `max_chars` (a longer sentence is its own chunk).

    Neighbouring chunks share `overlap_sentences` sentences so that a fact stated across a chunk
    boundary is still whole in one of them. A heading starts a new chunk rather than ending one.
    """
    spans = sentence_spans(article.text)
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= max_chars:
            if is_heading(article.text[slice(*spans[j + 1])]) and j > i:
                break
            j += 1
        # A chunk should not end on a heading: it belongs to the text that follows.
        while j > i and is_heading(article.text[slice(*spans[j])]):
            j -= 1
        start, end = spans[i][0], spans[j][1]
        text = article.text[start:end]
        chunks.append(
            Chunk(
                id=chunk_id(text),
                source=article.source,
                text=text,
                start=start,
                end=end,
                title=article.title,
                date=article.date,
                publisher=article.publisher,
                time=article.time,
                updated=article.updated,
            )
        )
        if j + 1 >= len(spans):
            break
        next_i = j + 1 - overlap_sentences
        if next_i <= i or is_heading(article.text[slice(*spans[j + 1])]):
            next_i = j + 1
        i = next_i
    return chunks
