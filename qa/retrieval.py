"""Hybrid retrieval: dense (MiniLM in Chroma) and BM25 (FTS5) rankings fused by reciprocal rank,
then capped per article so that one article cannot crowd out the others."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.store import ChunkStore, passage_from
from qa.types import Passage


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Fuse ranked id lists: each id scores the sum of 1 / (k + rank) over the lists it is in.

    >>> fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
    >>> sorted(fused, key=fused.get, reverse=True)
    ['b', 'a', 'c']
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


def diversify(ranked: list[tuple[str, str]], k: int, per_source_cap: int) -> list[str]:
    """Take the best `k` (id, source) pairs with at most `per_source_cap` from one source, then fill
    any places left in rank order.

    >>> diversify([("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B")], k=3, per_source_cap=2)
    ['a1', 'a2', 'b1']
    """
    chosen: list[str] = []
    per_source: dict[str, int] = {}
    for key, source in ranked:
        if len(chosen) == k:
            return chosen
        if per_source.get(source, 0) < per_source_cap:
            chosen.append(key)
            per_source[source] = per_source.get(source, 0) + 1
    for key, _ in ranked:
        if len(chosen) == k:
            break
        if key not in chosen:
            chosen.append(key)
    return chosen


def keep_champions(chosen: list[str], champions: list[str], fused: dict[str, float]) -> list[str]:
    """`chosen` with each ranking's first choice in it, each replacing the weakest other pick; in
    fused order. Rank fusion forgets by how much a list's winner won.

    >>> keep_champions(["a", "b", "c"], ["x", "y"], {"a": 3, "b": 2, "c": 1, "x": 0.5, "y": 0.4})
    ['a', 'x', 'y']
    >>> keep_champions(["a", "b"], ["a"], {"a": 1, "b": 2})
    ['b', 'a']
    """
    out = list(chosen)
    for champion in champions:
        if champion in out:
            continue
        others = [i for i in out if i not in champions]
        if not others:
            break
        out[out.index(min(others, key=lambda i: fused[i]))] = champion
    return sorted(out, key=lambda i: fused[i], reverse=True)


class HybridRetriever(BaseRetriever):
    """A LangChain retriever over a `ChunkStore`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    k: int = 6
    fetch_k: int = 24
    per_source_cap: int = 2
    rrf_k: int = 60

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        k = k or self.k
        vector = self.store.embedding.embed_query(query)
        dense = self.store.dense(vector, self.fetch_k)
        keyword = self.store.keywords.search(query, self.fetch_k)
        fused = reciprocal_rank_fusion([[d.id for d, _ in dense], [i for i, _ in keyword]], self.rrf_k)
        docs: dict[str, Document] = {d.id: d for d, _ in dense}
        missing = [i for i, _ in keyword if i not in docs]
        for i, (text, meta) in self.store.keywords.get(missing).items():
            docs[i] = Document(id=i, page_content=text, metadata=meta)
        ranked = sorted((i for i in fused if i in docs), key=lambda i: fused[i], reverse=True)
        chosen = diversify([(i, docs[i].metadata["source"]) for i in ranked], k, self.per_source_cap)
        champions = [c for c in (dense[0][0].id if dense else None, keyword[0][0] if keyword else None) if c in docs]
        chosen = keep_champions(chosen, champions, fused)
        return [passage_from(docs[i], fused[i]) for i in chosen]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return [
            Document(id=p.chunk.id, page_content=p.chunk.text, metadata={**p.chunk.metadata(), "score": p.score})
            for p in self.search(query)
        ]
