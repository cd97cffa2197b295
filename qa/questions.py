"""The one question classifier: what a question asks for, decided once and carried in `Ask.kind`.

Two things are decided: the *intent* (a single fact, a timeline, how reported figures compare, the
articles' own publication facts) and, for facts, the *answer type* (a number, a date, a person ...),
which the reader uses to prefer sentences holding a thing of that kind. Follow-up detection and the
search query of a follow-up live here too: they are part of reading the question, not of retrieval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

from qa.claims import states_figure
from qa.lexicon import (
    ABOUT_THE_ARTICLE,
    ACROSS_REPORTS_Q,
    CATALOGUE_Q,
    COMPARE_Q,
    FIGURE_Q,
    GREETING_ONLY,
    HAPPENED_Q,
    HELP_Q,
    LATEST_Q,
    OVERVIEW_Q,
    PRONOUNS,
    QUANTITY_Q,
    STOPWORDS,
    TIMELINE_Q,
)
from qa.text import content_stems, strip_citations, words
from qa.types import Turn

Intent = Literal["fact", "timeline", "comparison", "about_article", "overview", "dated", "catalogue", "help"]
# Intents answered from the whole collection rather than from the passages retrieved for the question.
COLLECTION_INTENTS = frozenset({"overview", "dated", "catalogue", "help"})
AnswerType = Literal["number", "amount", "date", "duration", "age", "speech", "person", "name", "place", "reason"]

# Answer types whose answer must hold a thing of that kind: a sentence without one is no answer
# (a "how many" question is not answered by a sentence with no figure in it).
TYPED = frozenset({"number", "amount", "date", "duration", "age", "speech", "person"})


@dataclass(frozen=True)
class QuestionKind:
    intent: Intent
    answer_type: AnswerType | None
    follow_up: bool = False
    asks_quantity: bool = False  # "how many ...", and the question states no figure itself

    @property
    def typed(self) -> bool:
        return self.answer_type in TYPED


def answer_type(question: str) -> AnswerType | None:
    """What kind of thing the question asks for, judged from its leading question word.

    >>> [answer_type(q) for q in ["How many troops?", "When was it signed?", "Who said it?", "What did he say?", "Why?"]]
    ['number', 'date', 'name', 'speech', 'reason']
    >>> [answer_type(q) for q in ["Which foreign leader had he met?", "How old is he?", "Where did they meet?"]]
    ['person', 'age', 'place']
    """
    q = question.lower()
    lead = re.search(r"\b(how|when|what|which|who|whom|whose|where|why)\b", q)
    wh = lead.group(1) if lead else ""
    rest = q[lead.start():] if lead else q
    if re.match(r"how old\b|(what|which) age\b", rest):
        return "age"
    if wh == "how" and re.match(r"how much\b", rest) or re.search(r"^\w+ (amount|value|sum)\b|\bworth\b|\bcost\b", rest):
        return "amount"
    if re.match(r"how many\b|(what|which) (number|percentage|share)\b|how (large|big)\b", rest):
        return "number"
    if re.match(r"how long\b", rest):
        return "duration"
    if wh == "when" or re.match(r"(what|which) (day|date|year|month|time)\b", rest):
        return "date"
    if re.match(r"(what|how) (did|does|do|has|have|had|was|is|will|would) .*\b(say|respond|react|reply|state|tell|warn|claim|"
                r"announce|describe)\b", rest) or re.match(r"what was .*(response|reaction|statement)\b", rest):
        return "speech"
    if re.match(r"what is the name\b|(what|which) ([\w.]+ )?(official|leader|minister|ambassador|spokesperson|"
                r"spokesman|spokeswoman|chief|general|commander|envoy|diplomat|lawmaker|person|president|"
                r"actor|actress|singer|player|coach|author|director|ceo)\b", rest) or re.search(r"\bname of\b", rest):
        return "person"
    if wh == "where" or re.match(r"(what|which|in which|in what) (country|city|state|town|place|region|nation)\b", rest):
        return "place"
    if wh == "why":
        return "reason"
    if wh in {"who", "whom", "whose", "which"}:
        return "name"
    return None


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    """A question that leans on earlier turns: it points back ("he", "that") or names too little.

    >>> is_follow_up("What did he say in response?", [Turn("user", "Who?")])
    True
    >>> is_follow_up("Which Russian ambassador did Seoul summon?", [Turn("user", "Who?")])
    False
    """
    if not history:
        return False
    lowered = [w.lower() for w in words(question)]
    return any(w in PRONOUNS for w in lowered) or len(content_stems(question)) <= 1


def classify(question: str, history: Sequence[Turn] = ()) -> QuestionKind:
    """The kind of the question.

    >>> classify("Give me a timeline of the treaty").intent
    'timeline'
    >>> k = classify("How many troops did North Korea send?")
    >>> k.intent, k.answer_type, k.asks_quantity
    ('fact', 'number', True)
    >>> classify("How do the counts of troops compare?").intent
    'comparison'
    >>> [classify(q).intent for q in ["Summarize the articles", "What happened on Thursday?", "Hello",
    ...  "Which articles do you have?", "How do the articles differ on the number of troops?",
    ...  "What did Yoon say on Tuesday?", "What's the latest?", "When was the article published?"]]
    ['overview', 'dated', 'help', 'catalogue', 'comparison', 'fact', 'dated', 'about_article']
    """
    follow_up = is_follow_up(question, history)
    quantity = bool(QUANTITY_Q.search(question)) and not states_figure(question)
    return QuestionKind(intent_of(question), answer_type(question), follow_up, quantity)


def intent_of(question: str) -> Intent:
    """What the question asks for as a whole; the first rule that holds decides."""
    if GREETING_ONLY.search(question) or HELP_Q.search(question):
        return "help"
    if TIMELINE_Q.search(question):
        return "timeline"
    if OVERVIEW_Q.search(question):
        return "overview"
    if (COMPARE_Q.search(question) and FIGURE_Q.search(question)) or ACROSS_REPORTS_Q.search(question):
        return "comparison"
    if CATALOGUE_Q.search(question):
        return "catalogue"
    if LATEST_Q.search(question):
        return "dated"
    if HAPPENED_Q.search(question) and asks_about_a_time(question):
        return "dated"
    if ABOUT_THE_ARTICLE.search(question):
        return "about_article"
    return "fact"


def asks_about_a_time(question: str) -> bool:
    """Does the question name a day or period ("on Thursday", "on 29 October 2024", "this week")?

    >>> asks_about_a_time("What happened on Thursday?"), asks_about_a_time("What happened to him?")
    (True, False)
    """
    from qa.timeline import time_refs

    return bool(time_refs(question, None))


def conversation_context(question: str, history: Sequence[Turn]) -> str:
    """For a follow-up, the words the conversation lends it: the last question and the content words
    of the last answer; for a standalone question, nothing.

    >>> conversation_context("What did he say?", [Turn("user", "Who was summoned?"), Turn("assistant", "Georgy Zinoviev was. [1]")])
    'Who was summoned? Georgy Zinoviev'
    """
    if not is_follow_up(question, history):
        return ""
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    answer_words = [w for w in words(strip_citations(last_answer)) if w.lower() not in STOPWORDS]
    return f"{last_user} {' '.join(answer_words[:16])}".strip()
