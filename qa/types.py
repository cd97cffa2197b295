"""The typed records that flow through the assistant: Chunk, Passage, Citation, Answer; and between the
seams of answering: Turn, Ask (the question read), Evidence (what retrieval found), Draft (an answer)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import numpy as np

    from qa.questions import QuestionKind


@dataclass(frozen=True)
class Chunk:
    """A span of one cleaned article. `text == article_text[start:end]`."""

    id: str  # derived from the text alone: the same text always has the same id
    source: str  # the article's file name
    text: str
    start: int
    end: int
    title: str | None = None
    date: str | None = None  # ISO date of publication, where the article states one
    publisher: str | None = None
    time: str | None = None  # time of day of publication, as the page writes it ("07:38")
    updated: str | None = None  # when the article was last changed: ISO date, then the time as written

    def metadata(self) -> dict:
        """Flat metadata for the vector store (Chroma accepts no None values)."""
        meta = {
            "chunk_id": self.id,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "title": self.title or "",
            "date": self.date or "",
            "publisher": self.publisher or "",
        }
        # Only when the page states them: the chunks of other articles keep the metadata, and so the
        # hash, they had before these were kept, and a re-ingest does not embed them again.
        meta.update({k: v for k, v in (("time", self.time), ("updated", self.updated)) if v})
        return meta

    @classmethod
    def from_metadata(cls, text: str, meta: dict) -> "Chunk":
        return cls(
            id=str(meta["chunk_id"]),
            source=str(meta["source"]),
            text=text,
            start=int(meta["start"]),
            end=int(meta["end"]),
            title=meta.get("title") or None,
            date=meta.get("date") or None,
            publisher=meta.get("publisher") or None,
            time=meta.get("time") or None,
            updated=meta.get("updated") or None,
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused retrieval score (higher is better), its place in each
    ranking (0 = first; None = not in that ranking's list) and its embedding's cosine similarity to
    the question's (None when it is not among the nearest chunks)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "source": c.source,
            "title": c.title,
            "date": c.date,
            "chunk_id": c.id,
            "text": c.text,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Citation:
    """Passage `n` of an answer; `text[start:end]` is the quoted span."""

    n: int
    source: str
    title: str | None
    date: str | None
    chunk_id: str
    text: str
    start: int
    end: int

    @property
    def quote(self) -> str:
        return self.text[self.start : self.end]

    @classmethod
    def of(cls, n: int, chunk: Chunk, start: int = 0, end: int | None = None) -> "Citation":
        return cls(
            n=n,
            source=chunk.source,
            title=chunk.title,
            date=chunk.date,
            chunk_id=chunk.id,
            text=chunk.text,
            start=start,
            end=len(chunk.text) if end is None else end,
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["quote"] = self.quote
        return d


@dataclass
class Answer:
    """What the assistant says, with the passages that back it."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    backend: str = "offline"
    latency_ms: float = 0.0
    notice: str | None = None  # e.g. "the language model was unavailable; offline answer"
    unsupported: list[str] = field(default_factory=list)  # answer sentences no cited passage supports
    conflict: bool = False  # the sources report a figure differently
    spans: list["Span"] = field(default_factory=list)  # the words that answer, within a citation's text
    confidence: float | None = None  # the offline reader's probability that its answer is right
    corrections: list["Correction"] = field(default_factory=list)  # question words read as others

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [p.to_dict() for p in self.retrieved],
            "backend": self.backend,
            "latency_ms": round(self.latency_ms, 2),
            "notice": self.notice,
            "unsupported": list(self.unsupported),
            "conflict": self.conflict,
            "spans": [asdict(s) for s in self.spans],
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "corrections": [asdict(c) for c in self.corrections],
        }


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation."""

    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Ask:
    """A question read and ready to answer."""

    question: str
    kind: "QuestionKind"
    history: tuple[Turn, ...] = ()
    context: str = ""  # what the conversation lends a follow-up ("he" -> the last answer's names)
    asked: str = ""  # the user's own words, when `question` is a follow-up rewritten to stand alone
    person: str = ""  # whom the follow-up's "he" or "she" points to, when it has one
    speaker: str = ""  # whose words a speech question asks for, when it names them ("What did Seoul say?")

    @property
    def query(self) -> str:
        """What to search with: the question, plus the conversation's words for a follow-up."""
        return f"{self.question} {self.context}".strip()


@dataclass(frozen=True)
class Correction:
    """A question word the articles never use, read as a close word they do use ("Seul" -> "Seoul")."""

    asked: str
    read_as: str
    # False for the same word spelt the other side of the Atlantic ("defence" as "defense"): searched as
    # the articles spell it, but no mistake to point out in the answer.
    misspelt: bool = True


@dataclass(frozen=True)
class ArticleInfo:
    """One loaded article as the catalogue shows it. `title` is the article's headline, or one
    derived from its first sentence when it has none (`headline` says which)."""

    source: str
    title: str
    date: str | None
    publisher: str | None
    chunks: int
    lead: Chunk  # the chunk the article starts with
    headline: bool = True


@dataclass(frozen=True, eq=False)
class Collection:
    """The whole collection, for questions about all of it (overviews, a day's events, the catalogue):
    every article, every chunk, and — for overviews — each chunk's unit vector and its similarity to
    the question's topic. Filled by the retriever (which owns the store), cached per index version."""

    articles: tuple[ArticleInfo, ...]  # by publication date (undated last), then source
    chunks: tuple[Chunk, ...] = ()
    vectors: "np.ndarray | None" = None  # one unit row per chunk, in `chunks` order
    relevance: "np.ndarray | None" = None  # cosine of each chunk to the topic asked about, if any
    topic: str = ""  # the topic words of the question ("overview of X" -> X); "" for everything
    topic_hits: frozenset[str] = frozenset()  # ids of the chunks the keyword search ranks best for the topic
    article_vectors: "np.ndarray | None" = None  # one unit row per article (its chunks' mean), in `articles` order


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for an `Ask`: the passages to answer from, and what the store knows about
    the question's words (so that answerers need no store of their own)."""

    passages: tuple[Passage, ...]
    weights: Mapping[str, float] = field(default_factory=dict)  # IDF weight of each question stem
    context_weights: Mapping[str, float] = field(default_factory=dict)  # of the conversation's stems
    unknown: tuple[str, ...] = ()  # question words no article uses (after spelling correction)
    absent_weight: float = 0.0  # the IDF weight a word no article uses would have
    corrections: tuple[Correction, ...] = ()
    pool: tuple[Passage, ...] = ()  # a wider set, for gathering every report of a figure
    collection: Collection | None = None  # for questions about the whole collection only

    @property
    def known(self) -> set[str]:
        """The stems the question and its conversation name: a sentence's names and figures outside
        them are new."""
        return set(self.weights) | set(self.context_weights)

    def widened(self) -> list[Passage]:
        """The passages, then the rest of the retriever's ranking: for gathering every report of a
        figure or every dated event, which the top k (capped per article) is not made for."""
        seen = {p.chunk.id for p in self.passages}
        return list(self.passages) + [p for p in self.pool if p.chunk.id not in seen]


@dataclass(frozen=True)
class Span:
    """The words of a cited quote that answer the question (a name, a date, a figure):
    `citation.text[start:end]`."""

    citation: int  # the citation's n
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Draft:
    """An answer before the assistant stamps passages, backend and timing on it."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    conflict: bool = False
    notice: str | None = None
    backend: str | None = None  # who wrote it, when not the offline answerer
    spans: list[Span] = field(default_factory=list)
    confidence: float | None = None  # the reader's probability that the answer is right
