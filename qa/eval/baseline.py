"""The LangChain tutorial pipeline, as a yardstick for our assistant.

1000/200-character `RecursiveCharacterTextSplitter` chunks of the same cleaned articles, Chroma
similarity top-4 in a throw-away in-memory collection with the same embeddings, and as the answer
the one retrieved sentence closest to the question. It never refuses and reads no history:
that is what the tutorial does, and what our figures are compared with.
"""

from __future__ import annotations

from qa.errors import QAError
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.chunking import sentence_spans
from qa.corpus import load_corpus

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4


class BaselineUnavailable(QAError, RuntimeError):
    """A library the baseline needs is not installed."""


@dataclass(frozen=True)
class BaselineAnswer:
    text: str
    citations: list[dict]  # the chunk the sentence came from: source, text, start, end
    retrieved: list[dict]  # source, text, score (cosine similarity to the question)
    latency_ms: float


def check_available() -> None:
    """Fail before a long run when the [test] extra that holds the splitter is missing."""
    try:
        import langchain_text_splitters  # noqa: F401
    except ImportError:
        raise BaselineUnavailable(
            "--baseline needs langchain-text-splitters; install it with: pip install -e '.[test]'"
        ) from None


class TutorialBaseline:
    """Build once over the corpus, then `answer(question)` per question; `close()` drops the collection."""

    def __init__(self, corpus_dirs: tuple[Path, ...], embeddings):
        check_available()
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        articles = load_corpus(corpus_dirs).articles
        docs = splitter.split_documents(
            [Document(page_content=a.text, metadata={"source": a.source}) for a in articles]
        )
        self.embeddings = embeddings
        self._client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
        # The in-memory client is shared within a process: a fresh name keeps runs apart.
        self._name = f"baseline-{uuid.uuid4().hex[:12]}"
        self.store = Chroma(
            collection_name=self._name,
            embedding_function=embeddings,
            client=self._client,
            collection_metadata={"hnsw:space": "cosine"},  # same ranking as L2 on unit vectors; scores read as cosine
        )
        self.store.add_documents(docs)
        self.chunks = len(docs)

    def answer(self, question: str) -> BaselineAnswer:
        started = time.perf_counter()
        hits = self.store.similarity_search_with_score(question, k=TOP_K)
        sentences: list[tuple[int, int, int]] = []  # (hit index, start, end)
        for i, (doc, _) in enumerate(hits):
            sentences += [(i, s, e) for s, e in sentence_spans(doc.page_content)]
        text, citations = "", []
        if sentences:
            texts = [hits[i][0].page_content[s:e] for i, s, e in sentences]
            vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)
            query = np.asarray(self.embeddings.embed_query(question), dtype=np.float32)
            cosine = vectors @ query / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(query), 1e-12)
            best = int(np.argmax(cosine))
            i, s, e = sentences[best]
            doc = hits[i][0]
            text = texts[best]
            citations = [{"n": 1, "source": doc.metadata["source"], "text": doc.page_content, "start": s, "end": e}]
        retrieved = [
            {"source": doc.metadata["source"], "text": doc.page_content, "score": round(1.0 - float(distance), 6)}
            for doc, distance in hits
        ]
        return BaselineAnswer(text, citations, retrieved, (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self._client.delete_collection(self._name)
