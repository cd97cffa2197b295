"""The typed records that flow through the assistant: Chunk, Passage, Citation, Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused retrieval score (higher is better)."""

    chunk: Chunk
    score: float

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
        }
