"""Time in the articles: time expressions resolved against the publication date, and timelines of
the events the retrieved passages date, for questions such as "What happened, in order?".

A relative weekday ("on Thursday") is the most recent such day on or before the article's date
(news reports what has happened; "will ... on Friday" looks forward instead). Without an article
date it stays relative, labelled as such, and undated weekdays are ordered as if they fell in the
shortest week-long window that holds them all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

from qa.chunking import is_heading, sentence_spans
from qa.corpus import MONTHS
from qa.lexicon import MONTH_NAMES, TIMELINE_WORDS as TIMELINE_WORD_LIST, WEEKDAYS
from qa.text import content_stems
from qa.types import Citation, Draft, Passage

# A timeline lists every dated event of its topic, up to this many lines: "Give me a timeline" of the
# seeds has 26 over the whole collection (16, the limit when only retrieved passages were read, left
# out Monday's denial and both "last week" reports).
MAX_EVENTS = 30
TIMELINE_WORDS = frozenset(content_stems(TIMELINE_WORD_LIST))


def topic_keys(text: str) -> set[str]:
    """Content words cut to five letters, so "ratification" meets "ratify" and "Korean" meets "Korea"."""
    return {w[:5] for w in content_stems(text) if not w[:1].isdigit()}


# --- when -----------------------------------------------------------------------------------------

TIME = re.compile(
    r"\b(?:(?P<prep>(?i:on|in|since|by|until|before|after|from|earlier in|early|late|mid|last|this|next))\s+)?"
    r"(?:(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|(?:(?P<day1>\d{1,2})\s+)?(?P<month>" + MONTH_NAMES + r")(?:\s+(?P<day2>\d{1,2})(?!\d))?(?:,?\s+(?P<year>\d{4}))?"
    r"|(?P<bare_year>(?:19|20)\d{2})(?![\d,])"
    r"|(?P<relative>yesterday|today|last week|last month|last year|this week|this month|earlier this (?:week|month|year)"
    r"|earlier this month|later this (?:week|month|year))"
    r")\b"
)
FORWARD_PREPS = frozenset({"by", "until", "next"})
RELATIVE_DAYS = {"yesterday": -1, "today": 0, "last week": -7, "this week": 0, "earlier this week": -2}


@dataclass(frozen=True)
class TimeRef:
    """A time expression in a sentence, resolved against the article's publication date where it can be.

    `iso` is "yyyy", "yyyy-mm" or "yyyy-mm-dd" (as precise as the text allows), or None when the
    expression is relative and the article has no date; `label` says it the way a reader needs it.
    """

    text: str
    iso: str | None
    label: str
    weekday: int | None = None  # 0 = Monday, for relative weekdays left unresolved
    recency: int = 0  # how near publication an unresolved expression lies: year 0 < month 1 < week 2 < day 3
    at: int = 0  # offset in the sentence
    month: int | None = None  # for a month whose year is not stated: its number, to place it in a timeline
    forward: bool = False  # ... and whether it looks ahead ("by December")


def _months_before(published: dt.date, month: int, forward: bool) -> tuple[int, int]:
    """The year-month of the most recent `month` on or before publication (or the next one on or after)."""
    year = published.year
    if forward:
        return (year, month) if month >= published.month else (year + 1, month)
    return (year, month) if month <= published.month else (year - 1, month)


def resolve_weekday(name: str, published: str, forward: bool = False) -> str:
    """The date of weekday `name` relative to an ISO publication date: the most recent such weekday on or
    before it (news reports what has happened), or with `forward` the next one on or after it ("will ...").

    >>> resolve_weekday("Monday", "2024-10-29"), resolve_weekday("tuesday", "2024-10-29")
    ('2024-10-28', '2024-10-29')
    >>> resolve_weekday("Friday", "2024-10-29", forward=True)
    '2024-11-01'
    """
    day = dt.date.fromisoformat(published)
    target = WEEKDAYS.index(name.lower())
    delta = (target - day.weekday()) % 7 if forward else -((day.weekday() - target) % 7)
    return (day + dt.timedelta(days=delta)).isoformat()


def time_refs(sentence: str, published: str | None) -> list[TimeRef]:
    """The time expressions of `sentence`, resolved against `published` (ISO) when they are relative.

    >>> [(t.text, t.iso) for t in time_refs("On Thursday the house voted; in June they signed.", "2024-10-29")]
    [('On Thursday', '2024-10-24'), ('in June', '2024-06')]
    >>> [(t.label, t.iso) for t in time_refs("On Thursday the house voted.", None)]
    [('Thursday (article undated)', None)]
    """
    pub = dt.date.fromisoformat(published) if published else None
    future = re.search(r"\b(will|would be|is expected|are expected|is set|are set)\b", sentence) is not None
    refs: list[TimeRef] = []
    for m in TIME.finditer(sentence):
        prep = (m["prep"] or "").lower()
        forward = prep in FORWARD_PREPS or (future and prep in {"on", ""})
        text = m.group().strip()
        if m["weekday"]:
            if pub:
                iso = resolve_weekday(m["weekday"], published, forward)
                refs.append(TimeRef(text, iso, f"{iso} ({m['weekday']})", at=m.start()))
            else:
                refs.append(TimeRef(text, None, f"{m['weekday']} (article undated)",
                                    weekday=WEEKDAYS.index(m["weekday"].lower()), recency=3, at=m.start()))
        elif m["month"]:
            if m["month"] == "May" and not (m["year"] or m["day1"] or m["day2"] or prep):
                continue  # most likely the verb "may"
            month = MONTHS[m["month"].lower()]
            day = m["day1"] or m["day2"]
            if m["year"]:
                year = int(m["year"])
            elif pub:
                year = _months_before(pub, month, forward)[0]
            else:
                refs.append(TimeRef(text, None, f"{m['month']} (year not stated)", recency=1, at=m.start(),
                                    month=month, forward=forward))
                continue
            iso = f"{year:04d}-{month:02d}" + (f"-{int(day):02d}" if day and int(day) <= 31 else "")
            refs.append(TimeRef(text, iso, iso, at=m.start()))
        elif m["bare_year"]:
            refs.append(TimeRef(text, m["bare_year"], m["bare_year"], at=m.start()))
        elif m["relative"]:
            rel = m["relative"].lower()
            if pub and rel in RELATIVE_DAYS:
                iso = (pub + dt.timedelta(days=RELATIVE_DAYS[rel])).isoformat()
                label = iso if rel in {"today", "yesterday"} else f"{rel}, before {published}"
                refs.append(TimeRef(text, iso, label, at=m.start()))
            elif pub and "month" in rel:
                month = pub.month - 1 if rel == "last month" else pub.month
                year = pub.year - (month == 0)
                iso = f"{year:04d}-{(month - 1) % 12 + 1:02d}"
                refs.append(TimeRef(text, iso, iso, at=m.start()))
            elif pub and "year" in rel:
                iso = str(pub.year - (rel == "last year"))
                refs.append(TimeRef(text, iso, iso, at=m.start()))
            else:
                recency = 3 if rel in {"today", "yesterday"} else 2
                refs.append(TimeRef(text, None, f"{rel} (article undated)", recency=recency, at=m.start()))
    return refs


# --- timelines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    sentence: str
    time: TimeRef
    passage: Passage
    start: int
    end: int
    relevance: int
    order: int


def events(passages: Sequence[Passage], about: str, of_topic: frozenset[str] | None = None) -> list[Event]:
    """Sentences of the passages that say when something happened and share a content word with
    `about` (any time-bearing sentence when `about` names nothing), each with its first time
    reference; when `of_topic` names the articles retrieval found most relevant, sentences of other
    articles count only when that article's passages hold every word of `about` (an article met by
    one word, "bill" for "the TikTok bill", is not of the topic)."""
    topic = topic_keys(about) - {w[:5] for w in TIMELINE_WORDS}
    held: dict[str, set[str]] = {}  # each article's words, over its passages: is it of the topic?
    for p in passages:
        held.setdefault(p.chunk.source, set()).update(topic & topic_keys(p.chunk.text))
    seen: set[tuple[str, str]] = set()
    found: list[Event] = []
    for p in passages:
        if of_topic is not None and p.chunk.source not in of_topic and held[p.chunk.source] != topic:
            continue
        text = p.chunk.text
        for s, e in sentence_spans(text):
            sentence = text[s:e]
            if is_heading(sentence) or (p.chunk.source, sentence) in seen:
                continue
            refs = time_refs(sentence, p.chunk.date)
            overlap = len(topic & topic_keys(sentence))
            if not refs or (topic and not overlap):
                continue
            seen.add((p.chunk.source, sentence))
            found.append(Event(sentence, refs[0], p, s, e, overlap, len(found)))
    return found


def _week_order(days: set[int]) -> dict[int, int]:
    """Undated weekdays in order, assuming they fall in the shortest week-long window that holds them
    all (news reports the past few days; the longest gap between them is the wrap-around)."""
    if not days:
        return {}
    ordered = sorted(days)
    gaps = [((ordered[(i + 1) % len(ordered)] - d) % 7 or 7, i) for i, d in enumerate(ordered)]
    _, last = max(gaps)
    first = (last + 1) % len(ordered)
    return {d: (d - ordered[first]) % 7 for d in ordered}


def timeline(events_: Sequence[Event], latest: str | None = None) -> list[Event]:
    """The events in time order: dated ones by date, then undated ones by how near the (unstated)
    publication they lie — months, then "last week", then weekdays in their week order. A month whose
    year no article states ("in June", in an undated article) is placed as if the article were
    published on `latest`, the collection's latest publication date, when there is one; its label
    still says the year is not stated."""
    week = _week_order({ev.time.weekday for ev in events_ if ev.time.iso is None and ev.time.weekday is not None})
    newest = dt.date.fromisoformat(latest) if latest else None

    def key(ev: Event):
        t = ev.time
        if t.iso:
            return (0, t.iso, 0, ev.order)
        if t.month and newest:
            year, month = _months_before(newest, t.month, t.forward)
            return (0, f"{year:04d}-{month:02d}", 0, ev.order)
        return (1, "", t.recency * 10 + week.get(t.weekday, 0), ev.order)

    return sorted(events_, key=key)


def _same_event(a: Event, b: Event) -> bool:
    """Two reports of one event: same time, and mostly the same words (overlapping articles)."""
    if a.time.label != b.time.label:
        return False
    ka, kb = topic_keys(a.sentence), topic_keys(b.sentence)
    return len(ka & kb) >= 0.5 * min(len(ka), len(kb))


def timeline_draft(question: str, query: str, passages: Sequence[Passage], latest: str | None = None,
                   of_topic: frozenset[str] | None = None, limit: int = MAX_EVENTS) -> Draft | None:
    """One line per event, in time order, each with its date (or relative time) and citations;
    an event two articles report is one line citing both. Up to `limit` lines, the most relevant
    first (the passages' order breaks ties). None when no passage dates anything."""
    lines: list[list[Event]] = []
    for ev in sorted(events(passages, f"{question} {query}", of_topic), key=lambda ev: (-ev.relevance, ev.order)):
        same = next((line for line in lines if _same_event(line[0], ev)), None)
        if same is not None:
            same.append(ev)
        elif len(lines) < limit:
            lines.append([ev])
    if not lines:
        return None
    order = {id(ev): i for i, ev in enumerate(timeline([line[0] for line in lines], latest))}
    text, citations = [], []
    for line in sorted(lines, key=lambda line: order[id(line[0])]):
        marks = ""
        for ev in line:
            citations.append(Citation.of(len(citations) + 1, ev.passage.chunk, ev.start, ev.end))
            marks += f"[{len(citations)}]"
        text.append(f"- {line[0].time.label}: {line[0].sentence} {marks}")
    return Draft(text="\n".join(text), refused=False, citations=citations)
