"""The answering seam: one `Answerer` protocol, and the composition every answer goes through.

An answerer is a function of its inputs: `answer(ask, evidence) -> Draft`, and `stream(ask, evidence)`
yielding text pieces then the Draft. The offline reader (qa/reader.py) and the language model
(qa/llm.py) are answerers; `Specialists` wraps either of them: questions about the articles
themselves, timelines and how reported figures compare get their own answers, every other question
goes to the wrapped answerer, whose answer is then checked against the other reports of any figure
it states. Spelling corrections made before retrieval are said at the end of the answer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterator, Protocol

from qa.claims import comparison_draft, quantity_draft, with_other_reports
from qa.collection import across_draft, collection_draft, long_date
from qa.text import pieces
from qa.timeline import WEEKDAYS, time_refs, timeline_draft
from qa.types import Ask, Chunk, Citation, Draft, Evidence, Passage

# What every answerer says when the articles do not answer.
REFUSAL = "The articles do not say."
# The relative time words that name one day, resolvable from an article's date.
ONE_DAY = frozenset(WEEKDAYS) | {"yesterday", "today"}


class Answerer(Protocol):
    def answer(self, ask: Ask, evidence: Evidence) -> Draft: ...

    def stream(self, ask: Ask, evidence: Evidence) -> Iterator[str | Draft]: ...


def _on_day(iso: str | None, time: str | None = None) -> str | None:
    """ "on 29 October 2024 at 07:38" for an ISO date and a time of day; None for no real day.

    >>> _on_day("2024-10-29", "07:38"), _on_day("2024-02-30")
    ('on 29 October 2024 at 07:38', None)
    """
    try:
        day = dt.date.fromisoformat(iso or "")
    except ValueError:
        return None  # an impossible date says nothing
    return f"on {day.day} {day:%B %Y}" + (f" at {time}" if time else "")


def article_facts(chunk: Chunk) -> str | None:
    """A sentence stating the article's publication date and time, publisher and last update, where
    it gives them.

    >>> article_facts(Chunk("i", "a.txt", "t", 0, 1, title="Big news", date="2024-10-29", publisher="AFP"))
    'The article “Big news” was published on 29 October 2024 by AFP.'
    >>> article_facts(Chunk("i", "a.txt", "t", 0, 1, date="2024-10-29", time="07:38", updated="2024-10-29 07:40"))
    'The article a.txt was published on 29 October 2024 at 07:38 and last updated on 29 October 2024 at 07:40.'
    """
    parts = []
    if published := _on_day(chunk.date, chunk.time):
        parts.append(published)
    if chunk.publisher:
        parts.append(f"by {chunk.publisher}")
    day, _, time = (chunk.updated or "").partition(" ")
    updated = _on_day(day, time)
    name = f"“{chunk.title}”" if chunk.title else chunk.source
    if not parts:
        return f"The article {name} was last updated {updated}." if updated else None
    return f"The article {name} was published {' '.join(parts)}" + (f" and last updated {updated}." if updated else ".")


def article_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    """"When/by whom was it published?": the facts of the best-ranked article that states them, an
    article of the publisher the question names first ("When was the AFP article published?").

    >>> from qa.questions import classify
    >>> a = Chunk("a", "a.txt", "t", 0, 1, title="Talks", date="2024-10-28", publisher="Defence Talks")
    >>> b = Chunk("b", "b.txt", "t", 0, 1, title="Warning", date="2024-10-29", publisher="AFP")
    >>> q = "When was the AFP article published?"
    >>> article_draft(Ask(q, classify(q)), Evidence((Passage(a, 0.9), Passage(b, 0.8)))).text
    'The article “Warning” was published on 29 October 2024 by AFP. [1]'
    """
    def named(p: Passage) -> bool:
        publisher = p.chunk.publisher
        return bool(publisher) and re.search(rf"\b{re.escape(publisher)}\b", ask.question, re.I) is not None

    for p in sorted(evidence.passages, key=lambda p: not named(p)):
        facts = article_facts(p.chunk)
        if facts:
            return Draft(text=f"{facts} [1]", refused=False, citations=[Citation.of(1, p.chunk, 0, 0)])
    return None


def corrections_note(evidence: Evidence) -> str:
    """"Read 'Pariss' as 'Paris'." for each misspelt word corrected before searching.

    >>> from qa.types import Correction
    >>> corrections_note(Evidence((), corrections=(Correction("Pariss", "Paris"), Correction("defence", "defense", False))))
    "(Read 'Pariss' as 'Paris'.)"
    """
    misspelt = [c for c in evidence.corrections if c.misspelt]
    if not misspelt:
        return ""
    return "(" + " ".join(f"Read '{c.asked}' as '{c.read_as}'." for c in misspelt) + ")"


def dates_note(ask: Ask, draft: Draft) -> str:
    """For a question asking when, the calendar dates of the weekdays and relative days ("Tuesday",
    "yesterday") the answer's quotes use, counted from their article's publication date: news says
    "on Tuesday", and the reader needs the day.

    >>> from qa.questions import classify
    >>> c = Chunk("i", "a.txt", "The minister resigned on Tuesday.", 0, 33, date="2024-10-31")
    >>> d = Draft("The minister resigned on Tuesday. [1]", False, [Citation.of(1, c, 0, 33)])
    >>> dates_note(Ask("When did the minister resign?", classify("When did the minister resign?")), d)
    "(Tuesday: 29 October 2024, counted from the article's date.)"
    """
    if draft.refused or ask.kind.answer_type != "date":
        return ""
    said = {}
    for c in draft.citations:
        for ref in time_refs(c.quote, c.date):
            day = ref.text.split()[-1]
            if ref.iso and len(ref.iso) == 10 and day.lower() in ONE_DAY:  # not "last week": no one day
                said.setdefault(day, long_date(ref.iso))
    if not said:
        return ""
    days = "; ".join(f"{day}: {date}" for day, date in said.items())
    return f"({days}, counted from the article's date.)"


def _with_note(draft: Draft, note: str) -> Draft:
    if not note:
        return draft
    return Draft(text=f"{draft.text} {note}", refused=draft.refused, citations=draft.citations,
                 unsupported=draft.unsupported, conflict=draft.conflict, notice=draft.notice,
                 backend=draft.backend, spans=draft.spans, confidence=draft.confidence)


def everything_dated(evidence: Evidence) -> tuple[list[Passage], str | None, frozenset[str] | None]:
    """What a timeline reads: the retriever's whole ranking, then every other chunk of the articles it
    found (a timeline lists every dated event of its topic; the rest of the collection, matching a word
    or two by chance, is not of the topic); the collection's latest publication date; and the articles
    of the passages retrieval ranked first, which are of the topic."""
    passages = evidence.widened()
    col = evidence.collection
    if col is None:
        return passages, None, None
    held = {p.chunk.id for p in passages}
    found = {p.chunk.source for p in passages}
    passages += [Passage(c, 0.0) for c in col.chunks if c.source in found and c.id not in held]
    latest = max((a.date for a in col.articles if a.date), default=None)
    return passages, latest, frozenset(p.chunk.source for p in evidence.passages)


class Specialists:
    """An `Answerer` that routes by the question's kind and checks figures; `writer` answers the rest."""

    def __init__(self, writer: Answerer, check_figures: bool = True):
        self.writer = writer
        self.check_figures = check_figures

    def special(self, ask: Ask, evidence: Evidence) -> Draft | None:
        """The specialists' answer, or None when the question is the writer's."""
        intent = ask.kind.intent
        if evidence.collection is not None or intent == "help":
            draft = collection_draft(ask, evidence)
            if draft is not None:
                return draft
        if not evidence.passages:
            return None
        if intent == "about_article":
            return article_draft(ask, evidence)
        if intent == "timeline":
            # Every dated event of the topic: the retriever's whole ranking, not only the top k.
            return timeline_draft(ask.question, ask.query, *everything_dated(evidence))
        if intent == "comparison":
            figures = comparison_draft(ask, evidence) if self.check_figures else None
            return figures or across_draft(ask, evidence)
        return None

    def checked(self, ask: Ask, evidence: Evidence, draft: Draft) -> Draft:
        """The writer's draft, or "reports differ" when the figure asked for is reported differently."""
        if not self.check_figures or draft.refused or draft.conflict or not evidence.passages:
            return draft
        if ask.kind.asks_quantity:
            differ = quantity_draft(ask, evidence)
            if differ is not None:
                return differ
        if ask.kind.asks_quantity or ask.kind.answer_type in {"number", "amount"}:
            # "Other reports differ" only when the figure is what was asked ("Why did they send
            # troops?" is not a question about how many).
            return with_other_reports(ask, evidence, draft)
        return draft

    def answer(self, ask: Ask, evidence: Evidence) -> Draft:
        draft = self.special(ask, evidence)
        if draft is None:
            draft = self.checked(ask, evidence, self.writer.answer(ask, evidence))
            draft = _with_note(draft, dates_note(ask, draft))
        return _with_note(draft, corrections_note(evidence))

    def stream(self, ask: Ask, evidence: Evidence) -> Iterator[str | Draft]:
        note = corrections_note(evidence)
        draft = self.special(ask, evidence)
        if draft is not None:
            draft = _with_note(draft, note)
            yield from pieces(draft.text, size=1)
            yield draft
            return
        written: Draft | None = None
        shown = ""
        for item in self.writer.stream(ask, evidence):
            if isinstance(item, Draft):
                written = item
            else:
                shown += item
                yield item
        assert written is not None, "an answerer's stream ends with its Draft"
        final = self.checked(ask, evidence, written)
        final = _with_note(_with_note(final, dates_note(ask, final)), note)
        if final.text.startswith(shown):
            rest = final.text[len(shown):]
            if rest:
                yield from pieces(rest, size=1)
        else:  # the check replaced the answer ("reports differ"): show it whole
            yield "\n\n"
            yield from pieces(final.text, size=1)
        yield final
