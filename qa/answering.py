"""The offline answerer: picks one to three sentences from the retrieved passages that answer the
question, cites each, and refuses when the passages do not hold the answer.

No language model is involved. Sentences are scored by how much of the question's meaning they
carry (IDF-weighted content words, from the question and, for follow-ups, the conversation), whether
they hold the kind of thing asked for (a number for "how many", a name for "who"), and their
embedding similarity to the question.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from qa.chunking import is_heading, sentence_spans
from qa.text import QUESTION_WORDS, STOPWORDS, content_stems, stem, strip_citations, words
from qa.types import Citation, Passage

REFUSAL = "The articles do not say."

PRONOUNS = frozenset(
    "he she they him her his hers their theirs them it its this that these those there then such".split()
)
SPEECH_VERBS = frozenset(
    stem(w)
    for w in """say said says state stated told tell quoted added noted declared warned responded replied
    emphasized stressed urged claimed announced described insisted argued informed expressed condemned
    denounced revealed confirmed denied pledged vowed promised highlighted underscored accused dismissed
    criticized criticised asserted explained acknowledged admitted suggested indicated remarked commented
    wrote tweeted posted labelled labeled branded""".split()
)
NUMBER_WORDS = frozenset(
    """hundred hundreds thousand thousands million millions billion billions dozen dozens two three four
    five six seven eight nine ten eleven twelve twenty thirty forty fifty""".split()
)
DATE_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december yesterday today week month year earlier later""".split()
)


# Kinds of question whose answer must hold a thing of that kind, or it is no answer.
TYPED_KINDS = frozenset({"number", "amount", "date", "duration", "speech", "person"})
# Words that make a run of capitalised words an organisation or place rather than a person.
NOT_PERSON = frozenset(
    """agency ministry council service office committee party union organization organisation company
    corporation news times post group forces army navy embassy parliament assembly summit house court
    department bank institute university association federation republic state states kingdom nations
    region province city north south east west central""".split()
)


def person_names(sentence: str, known: set[str]) -> list[str]:
    """Runs of two to four capitalised words that look like a person's name and are not in `known`.

    >>> person_names("Seoul summoned the Russian ambassador, Georgy Zinoviev, on Friday.", set())
    ['Georgy Zinoviev']
    >>> person_names("The Korean Central News Agency said so.", set())
    []
    """
    names = []
    for m in re.finditer(
        r"(?:\b[A-Z][a-z]+(?:-[A-Za-z]+)?\s+(?:(?:von|van|der|de|da|di|del|la|le|al|bin|ibn)\s+)*){1,3}"
        r"[A-Z][a-z]+(?:-[A-Za-z]+)?\b",
        sentence,
    ):
        parts = [p for p in m.group().split() if p[:1].isupper()]
        if any(p.lower() in NOT_PERSON or p.lower() in STOPWORDS or p.lower() in DATE_WORDS for p in parts):
            continue
        if m.start() == 0 and parts[0].lower() in STOPWORDS:
            continue
        if all(stem(p) in known for p in parts):
            continue
        names.append(m.group())
    return names


@dataclass(frozen=True)
class Draft:
    """An answer before the assistant stamps backend and timing on it."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    conflict: bool = False
    notice: str | None = None
    backend: str | None = None  # who wrote it, when not the offline answerer


def normalize_history(history) -> list[dict]:
    """Accept [{"role", "content"}] or [(user, assistant)] pairs; return role/content dicts."""
    out: list[dict] = []
    for turn in history or []:
        if isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if role in {"user", "assistant"} and isinstance(content, str) and content.strip():
                out.append({"role": role, "content": content})
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            for role, content in zip(("user", "assistant"), turn):
                if isinstance(content, str) and content.strip():
                    out.append({"role": role, "content": content})
    return out


def is_follow_up(question: str, history: list[dict]) -> bool:
    """A question that leans on earlier turns: it points back ("he", "that") or names too little.

    >>> is_follow_up("What did he say in response?", [{"role": "user", "content": "Who?"}])
    True
    >>> is_follow_up("Which Russian ambassador did Seoul summon?", [{"role": "user", "content": "Who?"}])
    False
    """
    if not history:
        return False
    lowered = [w.lower() for w in words(question)]
    return any(w in PRONOUNS for w in lowered) or len(content_stems(question)) <= 1


def search_query(question: str, history: list[dict]) -> str:
    """The text to retrieve with: the question, plus the last exchange when it is a follow-up."""
    if not is_follow_up(question, history):
        return question
    last_user = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
    last_answer = next((t["content"] for t in reversed(history) if t["role"] == "assistant"), "")
    answer_words = [w for w in words(strip_citations(last_answer)) if w.lower() not in STOPWORDS]
    return f"{question} {last_user} {' '.join(answer_words[:16])}".strip()


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, judged from its leading question word.

    >>> [answer_type(q) for q in ["How many troops?", "When was it signed?", "Who said it?", "What did he say?", "Why?"]]
    ['number', 'date', 'name', 'speech', None]
    >>> answer_type("Which foreign leader had he met when he warned them?")
    'person'
    """
    q = question.lower()
    lead = re.search(r"\b(how|when|what|which|who|whom|whose|where|why)\b", q)
    wh = lead.group(1) if lead else ""
    rest = q[lead.start():] if lead else q
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
                r"spokesman|spokeswoman|chief|general|commander|envoy|diplomat|lawmaker|person)\b", rest) or re.search(
        r"\bname of\b", rest
    ):
        return "person"
    if wh in {"who", "whom", "whose", "where", "which"}:
        return "name"
    return None


def has_type(sentence: str, kind: str | None, question_stems: set[str]) -> bool:
    """Does the sentence hold a new thing of the asked kind (not one the question already names)?"""
    if kind is None:
        return False
    tokens = words(sentence)
    if kind == "number":
        tokens = words(_MONEY.sub(" ", sentence))
    if kind in {"number", "amount"}:
        return any((t[0].isdigit() and stem(t) not in question_stems) or t.lower() in NUMBER_WORDS for t in tokens)
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "date":
        return any(stem(t) in DATE_WORDS or t.lower() in DATE_WORDS or re.fullmatch(r"(19|20)\d\d", t) for t in tokens)
    if kind == "speech":
        return any(stem(t) in SPEECH_VERBS for t in tokens)
    if kind == "person":
        return bool(person_names(sentence, question_stems))
    if kind == "name":
        return any(
            t[:1].isupper() and t.lower() not in STOPWORDS and stem(t) not in question_stems for t in tokens[1:]
        )
    return False


# A figure of money is not a count of things: "billions of dollars of tanks" says nothing of how many.
_MONEY = re.compile(
    r"(?:[$€£¥]\s?[\d.,]+(?:\s?(?:thousand|million|billion|trillion|[mbk]n?)\b)?)"
    r"|(?:\b[\w.,]+\s+(?:thousand|million|billion|trillion)s?\s+(?:of\s+)?(?:dollars|euros|pounds|yen|won|rubles|roubles)\b)"
    r"|(?:\b[\w.,]+\s+(?:dollars|euros|pounds|yen|won|rubles|roubles)\b)",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|few)[- ](?:day|week|month|year|hour)s?\b",
    re.IGNORECASE,
)


# Questions about the articles themselves rather than the events: who published them, and when.
ABOUT_THE_ARTICLE = re.compile(r"\b(published|publish|publication|news agency|agency|outlet|newspaper|wire service|credited)\b", re.I)


def article_facts(chunk) -> str | None:
    """A sentence stating the article's publication date and publisher, where it gives them.

    >>> from qa.types import Chunk
    >>> article_facts(Chunk("i", "a.txt", "t", 0, 1, title="Big news", date="2024-10-29", publisher="AFP"))
    'The article “Big news” was published on 29 October 2024 by AFP.'
    """
    parts = []
    if chunk.date:
        day = dt.date.fromisoformat(chunk.date)
        parts.append(f"on {day.day} {day:%B %Y}")
    if chunk.publisher:
        parts.append(f"by {chunk.publisher}")
    if not parts:
        return None
    name = f"“{chunk.title}”" if chunk.title else chunk.source
    return f"The article {name} was published {' '.join(parts)}."


@dataclass
class Candidate:
    passage_rank: int
    passage: Passage
    start: int
    end: int
    text: str
    stems: set[str]
    lexical: float = 0.0
    context: float = 0.0
    typed: bool = False
    dense: float = 0.0
    score: float = 0.0


class OfflineAnswerer:
    """Extractive answers with citations.

    `doc_freq(word)` and `total_docs` give corpus statistics for term weights; `embed(texts)` gives
    unit vectors for the dense part of sentence scoring (None skips it); it is called with
    `cache=True` so an embedder may keep vectors of texts it sees again.
    """

    def __init__(
        self,
        doc_freq: Callable[[str], int],
        total_docs: Callable[[], int],
        embed: Callable[..., np.ndarray] | None = None,
        max_sentences: int = 3,
        rerank: int = 4,
        min_score: float = 0.55,
        article_text: Callable[[str], str] | None = None,
        dense_weight: float = 0.4,
        second_ratio: float = 0.85,
        in_metadata: Callable[[str], bool] = lambda word: False,
    ):
        self.in_metadata = in_metadata
        self.second_ratio = second_ratio
        self.dense_weight = dense_weight
        self.min_score = min_score
        self.article_text = article_text
        self.doc_freq = doc_freq
        self.total_docs = total_docs
        self.embed = embed
        self.max_sentences = max_sentences
        self.rerank = rerank

    unknown_word_weight = 0.25

    @staticmethod
    def idf(df: int, n: int) -> float:
        """Inverse document frequency: a word few chunks use says more about what is asked."""
        return math.log((n + 1) / (df + 0.5))

    # --- weights ---------------------------------------------------------------------------
    def weights(self, text: str) -> tuple[dict[str, float], list[str]]:
        """IDF weight per content stem of `text`, and the words the corpus never uses."""
        n = max(self.total_docs(), 1)
        weights: dict[str, float] = {}
        unknown: list[str] = []
        for w in words(text):
            lw = w.lower().replace("’", "'")
            if lw in STOPWORDS or lw in QUESTION_WORDS:
                continue
            s = stem(w)
            if s in weights:
                continue
            df = self.doc_freq(re.sub(r"'s$", "", lw))
            weights[s] = self.idf(df, n)
            if df == 0:
                unknown.append(w)
                # A word no article uses is the asker's paraphrase ("begin" for "initiated"): no
                # sentence can match it, so it should not outweigh the words that can.
                weights[s] = self.idf(1, n) * self.unknown_word_weight
        return weights, unknown

    # --- the answer ------------------------------------------------------------------------
    def __call__(self, inputs: dict) -> Draft:
        return self.answer(inputs["question"], inputs.get("history") or [], inputs["passages"])

    def answer(self, question: str, history: Sequence[dict], passages: list[Passage]) -> Draft:
        history = normalize_history(history)
        q_weights, unknown = self.weights(question)
        follow_up = is_follow_up(question, history)
        c_weights: dict[str, float] = {}
        if follow_up:
            context = " ".join(strip_citations(t["content"]) for t in history[-2:])
            c_weights = {s: w for s, w in self.weights(context)[0].items() if s not in q_weights}
        names_unknown = [
            w for w in unknown if w[:1].isupper() and not _is_first_word(question, w) and not self.in_metadata(w)
        ]
        if names_unknown or not passages:
            missing = ", ".join(dict.fromkeys(re.sub(r"['’]s$", "", w) for w in names_unknown))
            text = f"The articles do not mention {missing}." if missing else REFUSAL
            return Draft(text=text, refused=True)

        kind = answer_type(question)
        q_stems = set(q_weights) | set(c_weights)
        said_before = [set(stem(w) for w in words(t["content"])) for t in history if t["role"] == "assistant"]
        candidates = [
            c
            for c in self.candidates(passages, bool(ABOUT_THE_ARTICLE.search(question)))
            if not any(_novelty(c.stems, s) < 0.25 for s in said_before)
        ]
        q_total = sum(q_weights.values()) or 1.0
        c_total = sum(c_weights.values()) or 1.0
        for c in candidates:
            c.lexical = sum(w for s, w in q_weights.items() if s in c.stems) / q_total
            c.context = sum(w for s, w in c_weights.items() if s in c.stems) / c_total if c_weights else 0.0
            c.typed = has_type(c.text, kind, q_stems)
            # A follow-up names little itself ("what did he say?"): the conversation carries its meaning.
            meaning = 0.6 * c.lexical + 0.5 * c.context if follow_up else c.lexical
            c.score = meaning + (0.15 if c.typed else 0.0) - 0.01 * c.passage_rank
        if kind in TYPED_KINDS:
            candidates = [c for c in candidates if c.typed]  # "how many" wants a figure, "when" a time
        # A rare name the question asks about must be in the passage the answer comes from:
        # a sentence about something else that shares the common words is not an answer.
        rare = self.rare_names(question)
        if rare:
            article_stems: dict[str, set[str]] = {}
            for p in passages:
                if p.chunk.source not in article_stems:
                    text = self.article_text(p.chunk.source) if self.article_text else ""
                    # Rare names are capitalised words, so only those need stemming.
                    article_stems[p.chunk.source] = {stem(w) for w in words(text) if w[:1].isupper()}
                article_stems[p.chunk.source].update(stem(w) for w in words(p.chunk.text) if w[:1].isupper())
            need = (len(rare) + 1) // 2
            candidates = [c for c in candidates if len(rare & article_stems[c.passage.chunk.source]) >= need]
        candidates.sort(key=lambda c: c.score, reverse=True)
        top = candidates[: self.rerank]
        if self.embed is not None and top:
            query = question if not follow_up else f"{question} {' '.join(list(c_weights)[:8])}"
            vectors = self.embed([query] + [c.text for c in top], cache=True)
            for c, v in zip(top, vectors[1:]):
                c.dense = float(v @ vectors[0])
                c.score = (1 - self.dense_weight) * c.score + self.dense_weight * c.dense
            top.sort(key=lambda c: c.score, reverse=True)
        if not top or not self.grounded(top[0], kind):
            return Draft(text=REFUSAL, refused=True)
        chosen = self.select(top, kind, follow_up)
        citations = [
            Citation.of(n, c.passage.chunk, c.start, c.end) for n, c in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(chosen, start=1))
        return Draft(text=text, refused=False, citations=citations)

    def rare_names(self, question: str) -> set[str]:
        """Stems of the capitalised words of the question that few chunks use (distinctive names)."""
        n = max(self.total_docs(), 1)
        out = set()
        for w in words(question)[1:]:
            lw = w.lower().replace("’", "'")
            if not w[:1].isupper() or lw in STOPWORDS or lw in QUESTION_WORDS:
                continue
            df = self.doc_freq(re.sub(r"'s$", "", lw))
            if 0 < df <= max(2, 0.02 * n):
                out.add(stem(w))
        return out

    def candidates(self, passages: list[Passage], about_articles: bool = False) -> list[Candidate]:
        """The sentences of the passages; with `about_articles`, also one line per article saying
        when and by whom it was published (for "when was the report published?")."""
        out: list[Candidate] = []
        seen: set[str] = set()
        for rank, p in enumerate(passages):
            facts = article_facts(p.chunk) if about_articles else None
            if facts and facts not in seen:
                seen.add(facts)
                out.append(Candidate(rank, p, 0, 0, facts, {stem(w) for w in words(facts + " " + (p.chunk.title or ""))}))
            for start, end in sentence_spans(p.chunk.text):
                text = p.chunk.text[start:end]
                if len(text) < 25 or is_heading(text) or text in seen:
                    continue
                seen.add(text)
                out.append(Candidate(rank, p, start, end, text, {stem(w) for w in words(text)}))
        return out

    def grounded(self, best: Candidate, kind: str | None) -> bool:
        """Is the best sentence an answer rather than something loosely related?

        With embeddings the blended score decides; without, the share of the question's weight
        (and the conversation's, for follow-ups) that the sentence carries."""
        if kind in TYPED_KINDS and not best.typed:
            return False
        if self.embed is not None:
            return best.score >= self.min_score
        return best.lexical + 0.5 * best.context >= 0.4

    def select(self, ranked: list[Candidate], kind: str | None, follow_up: bool = False) -> list[Candidate]:
        """The best sentence, plus up to two more that score nearly as well and add something new.

        For a follow-up ("what did he say?") the others must come from the same article: the
        pronoun points at one person in one story."""
        best = ranked[0]
        chosen = [best]
        for c in ranked[1:]:
            if follow_up and c.passage.chunk.source != best.passage.chunk.source:
                continue
            if len(chosen) >= self.max_sentences:
                break
            if c.score < self.second_ratio * best.score or (kind and not c.typed):
                continue
            # It must be about what the first one is about, not merely similar in tone.
            if c.lexical + c.context < 0.6 * (best.lexical + best.context):
                continue
            if any(_overlap(c.stems, o.stems) > 0.5 for o in chosen):
                continue
            chosen.append(c)
        return chosen


def _novelty(sentence: set[str], before: set[str]) -> float:
    """The share of a sentence's words that an earlier answer did not already say."""
    return len(sentence - before) / max(1, len(sentence))


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _is_first_word(question: str, word: str) -> bool:
    first = words(question)[:1]
    return bool(first) and first[0] == word
