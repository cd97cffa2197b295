"""The part of a long answer to show: a window of a few words of the chosen sentence (or sentence pair)
that most likely holds what the question asks.

The reader's best candidate is often a pair of sentences, 50 words or more: a sentence naming what the
question names and the next one, which answers it. Shown whole, answers run long; cut by a fixed rule,
they lose the answer. Each window of `WINDOW_WORDS` words is described by `WINDOW_FEATURES` (among
them how much of the word tagger's answer it holds, `qa.tagger`) and a logistic model fitted on the
development sets (`training/train_reader.py`) gives the probability that it holds the answer. The reader shows the best window when that probability clears a fitted threshold,
and the whole candidate otherwise.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

import numpy as np

from qa.chunking import is_question, sentence_spans
from qa.holds import new_figures, new_names, typed_spans
from qa.text import stem, words

# An excerpt plus its citation mark is 30 whitespace words, the median answer length; the
# evaluation counts `answer.split()`, and the ellipses are glued to the words they stand beside.
WINDOW_WORDS = 29
ELLIPSIS = "…"
_TOKEN = re.compile(r"\S+")

WINDOW_FEATURES = (
    "lex",  # IDF share of the question's stems inside the window
    "lex_outside",  # ... in the rest of the candidate only
    "typed",  # things of the asked type inside (a date, a figure, a person ...), over 5
    "has_typed",  # at least one
    "names",  # capitalised names the question does not use, over 5
    "figures",  # figures the question does not state, over 5
    "sentence_start",  # the window opens a sentence
    "position",  # where the window starts, over the candidate's words
    "at_end",  # the window reaches the candidate's end
    "in_second",  # the window starts in the second sentence of a pair
    "across",  # the window spans the boundary of two sentences
    "distance",  # from the window's middle to the middle of the question's words, over the words
    "clause_start",  # the window opens a clause (after , ; : or a full stop, or at a bracket or quote)
    "typed_anywhere",  # the candidate holds a thing of the asked type at all
    "at_start",  # the window is the candidate's first words
    "cuts_thing",  # a name, figure or typed thing is cut by the window's edge
    "typed_share",  # share of the candidate's typed things inside the window
    "novelty",  # share of the window's stems that are not the question's
    "names_share",  # share of the candidate's new names inside the window
    "figures_share",  # share of its new figures inside
    "after_asked",  # words of the window after its last word of the question, over the window's words:
    "before_asked",  # ... before its first one: an answer tends to sit just after the question's words
    "asked_at_edge",  # the window ends within 3 words of a word of the question, cutting what follows
    "word_best",  # the best probability (`qa.tagger`) that a word inside is part of the answer
    "word_mass",  # share of the text's summed word probability inside
    "word_top_clear",  # the text's likeliest answer word is inside, two words or more from the edges
    "word_top_inside",  # ... inside at all
    "word_best_vs_top",  # word_best over the text's likeliest word's probability
)


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each whitespace-separated word of `text` is.

    >>> token_spans("Up to 3,000 troops.")
    [(0, 2), (3, 5), (6, 11), (12, 19)]
    """
    return [m.span() for m in _TOKEN.finditer(text)]


def window_features(text: str, weights: Mapping[str, float], answer_type: str | None, known: set[str],
                    word_p: np.ndarray, size: int = WINDOW_WORDS) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One row of WINDOW_FEATURES per run of `size` words of `text` (the whole text when it is shorter),
    and those runs as character spans. `word_p` is each word's probability of being part of the
    answer (`qa.tagger`)."""
    tokens = token_spans(text)
    n = len(tokens)
    top = int(np.argmax(word_p)) if n else 0
    top_p, mass = (float(word_p.max()), float(word_p.sum())) if n else (0.0, 0.0)
    stems = [frozenset(stem(w) for w in words(text[a:b])) for a, b in tokens]
    total = sum(weights.values()) or 1.0
    asked_at = [i for i, s in enumerate(stems) if s & weights.keys()]
    asked_middle = sum(asked_at) / len(asked_at) if asked_at else n / 2
    typed = typed_spans(text, answer_type, known) if answer_type else []
    names = [m.span() for m in new_names(text, known)]
    figures = [m.span() for m in new_figures(text, known)]
    sentences = sentence_spans(text)
    starts = {a for a, _ in sentences}
    second = sentences[1][0] if len(sentences) > 1 else len(text)
    everything = frozenset().union(*stems) if stems else frozenset()
    all_share = sum(w for s, w in weights.items() if s in everything) / total

    def inside(spans: list[tuple[int, int]], a: int, b: int) -> int:
        return sum(1 for x, y in spans if x >= a and y <= b)

    rows, spans = [], []
    for i in range(max(1, n - size + 1)):
        j = min(n, i + size)
        asked_in = [k for k in asked_at if i <= k < j]
        a, b = tokens[i][0], tokens[j - 1][1]
        held = frozenset().union(*stems[i:j])
        share = sum(w for s, w in weights.items() if s in held) / total
        before = text[tokens[i - 1][0] : tokens[i - 1][1]] if i else "."
        n_typed, n_names, n_figures = inside(typed, a, b), inside(names, a, b), inside(figures, a, b)
        rows.append([
            share,
            all_share - share,
            min(n_typed, 5) / 5,
            float(n_typed > 0),
            min(n_names, 5) / 5,
            min(n_figures, 5) / 5,
            float(a in starts),
            i / n,
            float(j == n),
            float(a >= second),
            float(a < second < b),
            abs((i + j) / 2 - asked_middle) / n,
            float(i == 0 or before[-1] in ",;:.!?\"”)" or text[a] in "(\"“—"),
            float(bool(typed)),
            float(i == 0),
            float(any(x < a < y or x < b < y for x, y in typed + names + figures)),
            n_typed / len(typed) if typed else 0.0,
            len(held - weights.keys()) / max(1, len(held)),
            n_names / len(names) if names else 0.0,
            n_figures / len(figures) if figures else 0.0,
            (j - 1 - asked_in[-1]) / size if asked_in else 0.0,
            (asked_in[0] - i) / size if asked_in else 0.0,
            float(bool(asked_in) and j < n and j - 1 - asked_in[-1] < 3),
            float(word_p[i:j].max()),
            float(word_p[i:j].sum()) / mass if mass else 0.0,
            float(i + 2 <= top < j - 2 or i == 0 and top < j - 2 or j == n and top >= i + 2),
            float(i <= top < j),
            float(word_p[i:j].max()) / top_p if top_p else 0.0,
        ])
        spans.append((a, b))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(WINDOW_FEATURES)), spans


def best_window(text: str, weights: Mapping[str, float], answer_type: str | None, known: set[str],
                word_p: np.ndarray, probability: Callable[[np.ndarray], np.ndarray]
                ) -> tuple[tuple[int, int], float] | None:
    """The window of `text` most likely to hold the answer, by the fitted `probability` of its
    WINDOW_FEATURES, and that probability; None when the text fits in one window."""
    x, spans = window_features(text, weights, answer_type, known, word_p)
    if len(spans) < 2:
        return None
    p = probability(x)
    best = int(np.argmax(p))
    return spans[best], float(p[best])


def without_stray_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """The window `text[start:end]` without a lone word of another sentence at its edge (the last word
    of the sentence before, or the first of the next), and without the end of a question it opens on
    ("…called the Beaver Moon? In the U.S., moons are …": a question asks, the answer follows). Only
    one word otherwise: on the 688 windows the reader cut from the development sets' answers
    (`training/train_reader.py`'s candidates), dropping such a word lost no answer (16 windows),
    dropping two lost 2 of 40; dropping the end of a question lost none (4 windows). A whole question
    the answer opens with stays: "Who is Chase Oliver, the Libertarian Party's nominee?" answers (1 of
    the 9 dev answers that open with one).

    >>> text = "They met in Kyiv. In a call on Monday, Yoon warned of risks. Seoul agreed."
    >>> a, b = without_stray_edges(text, 12, 66)
    >>> text[12:66], text[a:b]
    ('Kyiv. In a call on Monday, Yoon warned of risks. Seoul', 'In a call on Monday, Yoon warned of risks.')
    >>> text = "Why is it called the Beaver Moon? Beavers build dams then."
    >>> text[slice(*without_stray_edges(text, 11, 58))]
    'Beavers build dams then.'
    """
    spans = [(a, b) for a, b in sentence_spans(text) if a < end and start < b]
    opening = text[start : spans[0][1]] if spans else ""
    if len(spans) > 1 and spans[0][0] < start and (len(opening.split()) == 1 or is_question(opening)):
        spans = spans[1:]
        start = spans[0][0]
    if len(spans) > 1 and spans[-1][1] > end and len(text[spans[-1][0] : end].split()) == 1:
        spans = spans[:-1]
        end = spans[-1][1]
    return start, end


def with_ellipses(text: str, start: int, end: int) -> str:
    """`text[start:end]`, marked where it cuts the text short.

    >>> with_ellipses("The vote passed on Thursday after a long debate.", 4, 27)
    '…vote passed on Thursday…'
    """
    inner = text[start:end].strip()
    return (ELLIPSIS if start > 0 else "") + inner + (ELLIPSIS if text[end:].strip() else "")
