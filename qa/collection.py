"""Questions about the whole collection: overviews, a day's events, the newest articles, the
catalogue, and a help text. Pure functions of a `Collection` (which the retriever fills from the
store) and the question; `collection_draft` routes among them by the question's intent.

An overview is extractive: 3-6 sentences, each from a different article, chosen by maximal marginal
relevance (Carbonell & Goldstein 1998) over the chunk vectors the store already holds — central to
the collection (or to the topic asked about) and unlike the sentences already chosen — then put in
date order, each with its date and citation.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import numpy as np

from qa.chunking import is_heading, sentence_spans
from qa.lexicon import EARLIEST_Q, OVERVIEW_WORDS, WEEKDAYS
from qa.text import content_stems, stem, words
from qa.timeline import TimeRef, time_refs, topic_keys
from qa.types import ArticleInfo, Ask, Chunk, Citation, Collection, Draft, Evidence

OVERVIEW_ITEMS = 5  # bullets in an overview: the issue asks for 3-6
OVERVIEW_MAX_WORDS = 200  # the limit for a digest
MAX_SENTENCE_WORDS = 45  # a longer sentence would crowd out the others within 200 words
MMR_LAMBDA = 0.7  # weight of centrality against novelty; 0.7 is MMR's customary setting for summaries
TOPIC_CANDIDATES = 60  # chunks nearest the topic, and as many found by its words, considered for a topic overview
# A topic overview keeps the chunks holding at least this share of the topic's weight that the best one
# holds: "summarize the news about hurricane Helene" is about the article naming Helene, not every
# hurricane's. On 12 topic requests of our own over the realtimeqa articles, the share of digest items
# from articles naming the topic was 0.60 with any topic word (31 items on topic), 0.83 at 0.5 (30),
# 1.00 at 0.75 (28) and at 1.0 (27); on 8 more written after choosing, 0.50 (18) before and 0.76 (16).
TOPIC_COVER = 0.75
DAY_ITEMS = 6  # events listed for "what happened on D"
CATALOGUE_ITEMS = 15  # articles listed in a catalogue answer before "and N more"
TITLE_WORDS = 12  # words of a derived title


# --- titles and dates -----------------------------------------------------------------------------


def lead_sentence(text: str, skip: str | None = None) -> tuple[int, int] | None:
    """The span of the first sentence of `text` that is a sentence of the story (not a heading, not
    the headline `skip`).

    >>> t = "Big news\\nThe house voted on Thursday. Then it rested."
    >>> s, e = lead_sentence(t); t[s:e]
    'The house voted on Thursday.'
    """
    after = len(skip) if skip and text.startswith(skip) else 0  # a headline may hold a full stop: "N. Korea"
    for s, e in sentence_spans(text):
        sentence = text[s:e].strip()
        if s < after or is_heading(sentence) or (skip and sentence == skip.strip()):
            continue
        return s, e
    return None


def derived_title(text: str, max_words: int = TITLE_WORDS) -> str:
    """A title for an article without a headline: its first sentence, cut to `max_words` words.

    >>> derived_title("South Korea voiced serious concern on Friday over a growing defense pact between Russia and North Korea.")
    'South Korea voiced serious concern on Friday over a growing defense pact…'
    >>> derived_title("Prices rose.")
    'Prices rose'
    >>> derived_title("")
    '(untitled)'
    """
    span = lead_sentence(text)
    sentence = text[span[0]:span[1]].strip() if span else text.strip()
    parts = sentence.split()
    if not parts:
        return "(untitled)"
    if len(parts) <= max_words:
        return sentence.rstrip(".!?;:")
    return " ".join(parts[:max_words]).rstrip(",;:") + "…"


def article_info(lead: Chunk, chunks: int) -> ArticleInfo:
    """The catalogue entry of an article from the chunk it starts with."""
    if lead.title:
        return ArticleInfo(lead.source, lead.title, lead.date, lead.publisher, chunks, lead, True)
    return ArticleInfo(lead.source, derived_title(lead.text), lead.date, lead.publisher, chunks, lead, False)


def by_date(articles: Sequence[ArticleInfo]) -> list[ArticleInfo]:
    """Dated articles oldest first, then undated ones; by source within a day."""
    return sorted(articles, key=lambda a: (a.date is None, a.date or "", a.source))


def long_date(iso: str | None) -> str:
    """"29 October 2024" for "2024-10-29"; "October 2024" and "2024" for less precise dates.

    >>> long_date("2024-10-29"), long_date("2024-10"), long_date(None)
    ('29 October 2024', 'October 2024', 'date not stated')
    """
    if not iso:
        return "date not stated"
    try:
        if len(iso) == 10:
            d = dt.date.fromisoformat(iso)
            return f"{d.day} {d:%B %Y}"
        if len(iso) == 7:
            return f"{dt.date.fromisoformat(iso + '-01'):%B %Y}"
    except ValueError:
        pass
    return iso


def when_label(ref: TimeRef | None, published: str | None) -> str:
    """How a bullet is dated: the time the sentence states (resolved against the article's date), else
    the article's publication date, else "date not stated"."""
    if ref is not None and ref.iso and len(ref.iso) == 10:
        return long_date(ref.iso) + (f" ({ref.text.split()[-1]})" if ref.weekday is None and ref.text.split()[-1].lower() in WEEKDAYS else "")
    if ref is not None and ref.iso is None and ref.weekday is not None:
        return f"{WEEKDAYS[ref.weekday].capitalize()} (date not stated)"
    if published:
        return f"published {long_date(published)}"
    return "date not stated"


def _date_key(ref: TimeRef | None, published: str | None) -> tuple:
    iso = (ref.iso if ref is not None and ref.iso else None) or published
    return (iso is None, iso or "")


def _cite(citations: list[Citation], chunk: Chunk, start: int, end: int) -> int:
    citations.append(Citation.of(len(citations) + 1, chunk, start, end))
    return len(citations)


def _span_words(chunk: Chunk, span: tuple[int, int]) -> int:
    return len(chunk.text[span[0]:span[1]].split())


# --- overviews ------------------------------------------------------------------------------------


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float = MMR_LAMBDA,
        groups: Sequence[str] | None = None) -> list[int]:
    """Maximal marginal relevance: indices picked one at a time for `lam * relevance - (1 - lam) *
    (similarity to the nearest pick)`; at most one per group (an article) when `groups` is given.

    >>> v = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]])
    >>> mmr(np.array([1.0, 0.95, 0.6]), v, 2)  # the near-duplicate of the first loses to the other
    [0, 2]
    """
    picked: list[int] = []
    used: set[str] = set()
    nearest = np.full(len(relevance), -1.0)
    for _ in range(min(k, len(relevance))):
        score = lam * relevance - (1 - lam) * np.maximum(nearest, 0.0)
        if groups is not None:
            score = np.where([g in used for g in groups], -np.inf, score)
        score[picked] = -np.inf
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        picked.append(best)
        if groups is not None:
            used.add(groups[best])
        nearest = np.maximum(nearest, vectors @ vectors[best])
    return picked


def topic_words(question: str) -> str:
    """The topic of an overview request: its content words less the words that ask for an overview.

    >>> topic_words("Give me an overview of how South Korea has responded")
    'South Korea responded'
    >>> topic_words("Summarize the articles")
    ''
    """
    drop = set(OVERVIEW_WORDS.split())
    kept = [w for w in words(question) if w.lower() not in drop and stem(w) in set(content_stems(w))]
    return " ".join(kept)


def weight_held(text: str, weights: dict[str, float]) -> float:
    """The topic's weight that `text`'s words hold.

    >>> weight_held("The fishing treaty passed.", {"fish": 2.0, "treaty": 1.0, "norway": 3.0})
    3.0
    """
    stems = {stem(w) for w in words(text)}
    return sum(w for s, w in weights.items() if s in stems)


def best_sentence(chunk: Chunk, weights: dict[str, float]) -> tuple[int, int] | None:
    """The sentence of `chunk` holding most of the topic's weight (the first one on a tie), skipping
    headings and over-long sentences; the chunk's first story sentence when the topic is empty."""
    best, best_score = None, -1.0
    for s, e in sentence_spans(chunk.text):
        sentence = chunk.text[s:e]
        if is_heading(sentence) or (chunk.start == 0 and chunk.title and s < len(chunk.title)):
            continue
        if len(sentence.split()) > MAX_SENTENCE_WORDS or len(sentence) < 40 or sentence.rstrip().endswith(("?", "...", "…")):
            continue  # too long or too short to stand alone, a question, or a teaser
        score = weight_held(sentence, weights)
        if score > best_score:
            best, best_score = (s, e), score
    return best


def _same_point(a: str, b: str) -> bool:
    """Two sentences making the same point (most content words shared)."""
    ka, kb = topic_keys(a), topic_keys(b)
    return bool(ka and kb) and len(ka & kb) >= 0.6 * min(len(ka), len(kb))


def overview_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    """A digest of the collection, or of the topic the question names: one sentence per article."""
    col = evidence.collection
    if col is None or col.vectors is None or not col.chunks:
        return None
    weights = {s: w for s, w in evidence.weights.items() if s in set(content_stems(col.topic))}
    if col.topic and col.relevance is not None:
        groups = [c.source for c in col.chunks]
        nearest = np.argsort(-col.relevance)[:TOPIC_CANDIDATES]
        order = list(dict.fromkeys([*nearest, *(i for i, c in enumerate(col.chunks) if c.id in col.topic_hits)]))
        cover = {i: weight_held(col.chunks[i].text, weights) for i in order}
        best = max(cover.values(), default=0.0)
        order = [i for i in order if cover[i] > 0 and cover[i] >= TOPIC_COVER * best] or list(order)
        rel = col.relevance[order]
        picks = mmr(rel, col.vectors[order], 2 * OVERVIEW_ITEMS, groups=[groups[i] for i in order])
        leads = [col.chunks[order[i]] for i in picks]
    else:
        # Whole collection: each article by its mean vector, central = near the collection's centroid.
        vectors = col.article_vectors if col.article_vectors is not None else np.zeros((0, 1))
        centroid = vectors.mean(axis=0) if len(vectors) else np.zeros(1)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        chosen = mmr(vectors @ centroid, vectors, 2 * OVERVIEW_ITEMS) if len(vectors) else []
        leads = [col.articles[i].lead for i in chosen]
    items: list[tuple[Chunk, tuple[int, int]]] = []
    for chunk in leads:
        span = best_sentence(chunk, weights)
        if span is None or any(_same_point(chunk.text[slice(*span)], c.text[slice(*s)]) for c, s in items):
            continue
        items.append((chunk, span))
        if len(items) == OVERVIEW_ITEMS:
            break
    while len(items) > 3 and sum(_span_words(c, s) + 4 for c, s in items) > OVERVIEW_MAX_WORDS:
        items.pop()  # the least central goes first
    if not items:
        return None
    dated = []
    for chunk, span in items:
        refs = time_refs(chunk.text[slice(*span)], chunk.date)
        ref = next((r for r in refs if r.iso and len(r.iso) == 10 or r.weekday is not None), None)
        dated.append((_date_key(ref, chunk.date), when_label(ref, chunk.date), chunk, span))
    dated.sort(key=lambda d: d[0])
    citations: list[Citation] = []
    lines = []
    for _, label, chunk, (s, e) in dated:
        n = _cite(citations, chunk, s, e)
        lines.append(f"- {label}: {chunk.text[s:e].strip()} [{n}]")
    head = f"In brief, on {col.topic}:" if col.topic else f"In brief ({len(col.articles)} articles):"
    return Draft(text=head + "\n" + "\n".join(lines), refused=False, citations=citations)


# --- dated questions ------------------------------------------------------------------------------


def day_asked(question: str, newest: str | None) -> TimeRef | None:
    """The day or period a "what happened on ..." question names, resolved against the newest
    publication date where it is relative ("yesterday")."""
    refs = time_refs(question, newest)
    return refs[0] if refs else None


def matches_day(ref: TimeRef, asked: TimeRef) -> bool:
    """Does a sentence's time reference fall on the day (or within the period) asked about? A weekday
    asked without a date matches that weekday in every article, however each resolves.

    >>> on = lambda q, s, d=None: matches_day(time_refs(s, d)[0], time_refs(q, None)[0])
    >>> on("on Thursday", "The house voted on Thursday."), on("on 29 October 2024", "On Tuesday he spoke.", "2024-10-29")
    (True, True)
    """
    name = asked.text.split()[-1].lower()
    if name in WEEKDAYS:
        return name in ref.text.lower()
    return bool(asked.iso and ref.iso and ref.iso.startswith(asked.iso))


def day_draft(question: str, col: Collection) -> Draft | None:
    """"What happened on D": the events dated D across the articles, one line each (the same event in
    several articles merged, citing each), in date order; articles published on D add their lead."""
    newest = max((a.date for a in col.articles if a.date), default=None)
    asked = day_asked(question, newest)
    if asked is None:
        return None
    weekday_name = asked.text.split()[-1].lower()
    asked_weekday = weekday_name in WEEKDAYS
    found: list[tuple[tuple, str, Chunk, tuple[int, int]]] = []
    seen: set[tuple[str, str]] = set()
    for chunk in col.chunks:
        if asked_weekday and weekday_name not in chunk.text.lower():
            continue  # most chunks name no such day: skip them before splitting sentences
        for s, e in sentence_spans(chunk.text):
            sentence = chunk.text[s:e].strip()
            if (chunk.source, sentence) in seen or is_heading(sentence):
                continue
            ref = next((r for r in time_refs(sentence, chunk.date) if matches_day(r, asked)), None)
            if ref is None:
                continue
            seen.add((chunk.source, sentence))
            label = when_label(ref, chunk.date) if asked_weekday else long_date(ref.iso)
            found.append((_date_key(ref, chunk.date), label, chunk, (s, e)))
    if asked.iso and len(asked.iso) == 10 and not asked_weekday:
        for a in col.articles:
            if a.date == asked.iso and not any(c.source == a.source for _, _, c, _ in found):
                span = lead_sentence(a.lead.text, a.title if a.headline else None)
                if span:
                    found.append(((False, a.date), f"{long_date(a.date)} (published that day)", a.lead, span))
    if not found:
        return Draft(text=f"No article reports events on {asked.text.removeprefix('on ').removeprefix('On ')}.",
                     refused=True)
    # The most recent matching days first when there are many (undated last); shown in date order.
    found.sort(key=lambda f: (not f[0][0], f[0][1]), reverse=True)
    lines: list[list[tuple]] = []
    for item in found:
        same = next((line for line in lines if line[0][1] == item[1]
                     and _same_point(line[0][2].text[slice(*line[0][3])], item[2].text[slice(*item[3])])), None)
        if same is not None:
            same.append(item)
        elif len(lines) < DAY_ITEMS:
            lines.append([item])
    lines.sort(key=lambda line: line[0][0])
    citations: list[Citation] = []
    out = []
    for line in lines:
        marks = "".join(f"[{_cite(citations, c, s, e)}]" for _, _, c, (s, e) in line)
        _, label, chunk, (s, e) = line[0]
        out.append(f"- {label}: {chunk.text[s:e].strip()} {marks}")
    more = len(found) - sum(len(line) for line in lines)
    tail = f"\n({more} more sentences mention it.)" if more > 0 else ""
    return Draft(text="\n".join(out) + tail, refused=False, citations=citations)


def newest_draft(question: str, col: Collection) -> Draft | None:
    """"Which article is most recent?" / "the oldest": by publication date, with its lead sentence."""
    dated = [a for a in col.articles if a.date]
    if not dated:
        return Draft(text=f"None of the {len(col.articles)} articles states its publication date.", refused=False)
    earliest = bool(EARLIEST_Q.search(question))
    day = min(a.date for a in dated) if earliest else max(a.date for a in dated)
    picked = [a for a in dated if a.date == day][:3]
    citations: list[Citation] = []
    lines = []
    for a in picked:
        span = lead_sentence(a.lead.text, a.title if a.headline else None) or (0, 0)
        n = _cite(citations, a.lead, *span)
        by = f", {a.publisher}" if a.publisher else ""
        lines.append(f"- “{a.title}” ({long_date(a.date)}{by}): {a.lead.text[slice(*span)].strip()} [{n}]")
    which = "earliest" if earliest else "most recent"
    head = f"The {which} article{'s' if len(picked) > 1 else ''} ({long_date(day)}):"
    undated = len(col.articles) - len(dated)
    note = f"\n({undated} of the {len(col.articles)} articles do not state a date.)" if undated else ""
    return Draft(text=head + "\n" + "\n".join(lines) + note, refused=False, citations=citations)


def dated_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    col = evidence.collection
    if col is None or not col.articles:
        return None
    if day_asked(ask.question, None) is not None:
        return day_draft(ask.question, col)
    return newest_draft(ask.question, col)


# --- the catalogue and help -----------------------------------------------------------------------


def collection_summary(col: Collection) -> str:
    """"5 articles, published 29 October 2024 (4 without a date), from AFP and Defence Talks"."""
    n = len(col.articles)
    dates = sorted(a.date for a in col.articles if a.date)
    undated = n - len(dates)
    parts = [f"{n} article{'s' if n != 1 else ''}"]
    if dates:
        span = long_date(dates[0]) if dates[0] == dates[-1] else f"{long_date(dates[0])} to {long_date(dates[-1])}"
        parts.append(f"published {span}" + (f" ({undated} without a stated date)" if undated else ""))
    elif n:
        parts.append("none with a stated date")
    publishers: dict[str, int] = {}
    for a in col.articles:
        if a.publisher:
            publishers[a.publisher] = publishers.get(a.publisher, 0) + 1
    if publishers:
        top = sorted(publishers, key=lambda p: (-publishers[p], p))
        named = (", ".join(top[:5]) + f" and {len(top) - 5} more" if len(top) > 5
                 else " and ".join([", ".join(top[:-1]), top[-1]]) if len(top) > 1 else top[0])
        parts.append(f"from {named}")
    return ", ".join(parts)


def catalogue_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    """What is loaded: how many articles, when and by whom published, and each one's title."""
    col = evidence.collection
    if col is None:
        return None
    if not col.articles:
        return Draft(text="No articles are loaded yet; add some with: qa ingest PATH", refused=False)
    citations: list[Citation] = []
    lines = []
    for a in by_date(col.articles)[:CATALOGUE_ITEMS]:
        n = _cite(citations, a.lead, 0, 0)
        by = f", {a.publisher}" if a.publisher else ""
        lines.append(f"- “{a.title}” ({long_date(a.date)}{by}) [{n}]")
    more = len(col.articles) - len(lines)
    tail = f"\n… and {more} more (`qa articles` lists them all)." if more > 0 else ""
    return Draft(text=f"Loaded: {collection_summary(col)}.\n" + "\n".join(lines) + tail, refused=False,
                 citations=citations)


def help_text(col: Collection | None) -> str:
    loaded = f"the {collection_summary(col)}" if col is not None and col.articles else "the loaded articles"
    return (f"Hello! I answer questions about {loaded}. Ask about a fact (\"Who …?\", \"How many …?\"), "
            "ask for a summary (\"Summarize the articles\", \"Overview of …\"), a timeline, what happened on a "
            "day (\"What happened on Thursday?\"), the most recent article, which articles are loaded, or how "
            "the reports differ on a figure. Follow-ups such as \"When?\" or \"What did he say?\" build on the "
            "conversation. Every answer cites the passages it comes from as [n].")


def help_draft(evidence: Evidence) -> Draft:
    return Draft(text=help_text(evidence.collection), refused=False)


def across_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    """"Do the articles agree on X?" when X is not a figure: what each article says about X, one
    sentence per article (the best-ranked passages first), cited, so the reader can compare."""
    from qa.lexicon import META_WORDS

    topic = set(content_stems(ask.question)) - set(content_stems(META_WORDS)) - set(content_stems(OVERVIEW_WORDS))
    weights = {s: w for s, w in evidence.weights.items() if s in topic}
    if not weights:
        return None
    picked: dict[str, tuple[Chunk, tuple[int, int], float]] = {}
    for p in list(evidence.passages) + list(evidence.pool):
        chunk = p.chunk
        span = best_sentence(chunk, weights)
        if span is None:
            continue
        stems = {stem(w) for w in words(chunk.text[slice(*span)])}
        score = sum(w for s, w in weights.items() if s in stems)
        if score < 0.5 * sum(weights.values()):
            continue  # the sentence is about something else
        if chunk.source not in picked or score > picked[chunk.source][2]:
            picked[chunk.source] = (chunk, span, score)
    if len(picked) < 2:
        return None
    citations: list[Citation] = []
    lines = []
    titles = {a.source: a.title for a in evidence.collection.articles} if evidence.collection else {}
    for chunk, (s, e), _ in sorted(picked.values(), key=lambda x: -x[2])[:OVERVIEW_ITEMS]:
        n = _cite(citations, chunk, s, e)
        name = chunk.title or titles.get(chunk.source) or chunk.source
        lines.append(f"- {name} ({long_date(chunk.date)}): {chunk.text[s:e].strip()} [{n}]")
    return Draft(text="What each article says:\n" + "\n".join(lines), refused=False, citations=citations)


def collection_draft(ask: Ask, evidence: Evidence) -> Draft | None:
    """The answer to a question about the whole collection, or None when it is not one (or the
    collection has nothing for it, so that the writer may try)."""
    intent = ask.kind.intent
    if intent == "help":
        return help_draft(evidence)
    if intent == "catalogue":
        return catalogue_draft(ask, evidence)
    if intent == "overview":
        return overview_draft(ask, evidence)
    if intent == "dated":
        return dated_draft(ask, evidence)
    return None
