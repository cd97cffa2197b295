"""Build the answering seam's records (Ask, Evidence) from hand-made passages, the way the
Assistant and the retriever do, with word weights counted over the passages themselves."""

from __future__ import annotations

import math
import re

from qa.conversation import lent_down
from qa.lexicon import QUESTION_WORDS, STOPWORDS
from qa.questions import read_question
from qa.text import stem, words
from qa.types import Ask, Evidence, Passage, Turn


def make_ask(question: str, history=()) -> Ask:
    turns = tuple(t if isinstance(t, Turn) else Turn(t["role"], t["content"]) for t in history)
    return read_question(question, turns)


def _weights(text: str, passages: list[Passage]) -> tuple[dict[str, float], list[str]]:
    n = max(len(passages), 1)
    out: dict[str, float] = {}
    unknown: list[str] = []
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or lw in QUESTION_WORDS or stem(w) in out:
            continue
        df = sum(bool(re.search(rf"\b{re.escape(lw)}", p.chunk.text.lower())) for p in passages)
        out[stem(w)] = math.log((n + 1) / (df + 0.5)) if df else 0.0
        if not df:
            unknown.append(w)
    return out, unknown


def make_evidence(ask: Ask, passages: list[Passage]) -> Evidence:
    """Evidence as the retriever gives it; passages without ranks rank in the order given, in both lists."""
    passages = [p if p.dense_rank is not None else Passage(p.chunk, p.score, i, i) for i, p in enumerate(passages)]
    weights, unknown = _weights(ask.question, passages)
    context = {s: w for s, w in _weights(ask.context, passages)[0].items() if s not in weights}
    weights = lent_down(weights, ask)
    absent = math.log((len(passages) + 1) / 0.5)
    return Evidence(tuple(passages), weights, context, tuple(unknown), absent, (), tuple(passages))


def ask_and_evidence(question: str, passages: list[Passage], history=()) -> tuple[Ask, Evidence]:
    ask = make_ask(question, history)
    return ask, make_evidence(ask, passages)
