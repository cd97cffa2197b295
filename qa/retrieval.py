"""Hybrid retrieval: dense (MiniLM in Chroma) and BM25 (FTS5) rankings fused by reciprocal rank,
then capped per article so that one article cannot crowd out the others."""

from __future__ import annotations

from typing import Any, Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

import dataclasses
import math
import re
import threading

import numpy as np

from qa.conversation import last_answer, lent_down, source_sentence
from qa.lexicon import FUNCTION_WORDS, QUESTION_WORDS, STOPWORDS
from qa.questions import COLLECTION_INTENTS
from qa.spelling import Speller, edit_distance, english_words, likely_typo, spelling_variants
from qa.store import ChunkStore, passage_from
from qa.text import stem, strip_citations, words
from qa.types import ArticleInfo, Ask, Chunk, Collection, Correction, Evidence, Passage


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


def best_ranks(rankings: Sequence[Sequence[str]]) -> dict[str, int]:
    """Each id's best (lowest) rank over the rankings of one search, one ranking per query.

    >>> best_ranks([["a", "b"], ["b", "c"]])
    {'a': 0, 'b': 0, 'c': 1}
    """
    out: dict[str, int] = {}
    for ranking in rankings:
        for r, i in enumerate(ranking):
            out[i] = min(r, out.get(i, r))
    return out


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
    _speller: Speller | None = PrivateAttr(default=None)  # rebuilt when the index's vocabulary changes
    # The whole collection, read once per index version (see `collection`).
    _collection: tuple | None = PrivateAttr(default=None)
    _collection_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        return self._search(query, k=k)[0]

    def evidence(self, ask: Ask) -> Evidence:
        """Everything an answerer needs about `ask`: the passages, the question words' weights, the
        words no article uses and the spelling corrections made before searching."""
        corrections = self.corrections(ask.question)
        question = ask.question
        for c in corrections:
            question = re.sub(rf"\b{re.escape(c.asked)}\b", c.read_as, question)
        queries = [f"{question} {ask.context}".strip()]
        if ask.context and ask.person:
            # A follow-up whose "he" or "she" was replaced by the name ("How long is his visit?" -> "How long
            # is Andrzej Duda's visit?") stands alone; it is searched as it stands too, since the words the
            # last answer lends it may be about something else.
            queries.append(question)
        passages, pool = self._search(*queries)
        thread = self.thread(ask, pool)
        if thread:
            held = {p.chunk.id for p in thread}
            passages = list(thread) + [p for p in passages if p.chunk.id not in held]
        weights, unknown = self.weights(question)
        weights = lent_down(weights, ask)
        context_weights = {s: w for s, w in self.weights(ask.context)[0].items() if s not in weights}
        return Evidence(
            passages=tuple(passages),
            weights=weights,
            context_weights=context_weights,
            unknown=tuple(unknown),
            absent_weight=idf(0, max(self.store.keywords.count(), 1)),
            corrections=corrections,
            pool=tuple(pool),
            collection=self.collection_for(ask) if ask.kind.intent in COLLECTION_INTENTS else None,
        )

    def thread(self, ask: Ask, pool: Sequence[Passage] = ()) -> tuple[Passage, ...]:
        """Where a follow-up's answer is looked for first: the passage the conversation's last answer
        was taken from (the one holding the sentence with most of the answer's words), and the passage
        after it in its article, which carries the story on (before it, when it is the article's last)."""
        last = strip_citations(last_answer(ask.history))
        if not ask.kind.follow_up or not last:
            return ()
        found = self.store.keywords.get([i for i, _ in self.store.keywords.search(last, 5)])
        source = source_sentence(last, [Chunk.from_metadata(text, meta) for text, meta in found.values()])
        if source is None:
            return ()
        chunk = source[0]
        # Only this article's chunks, by the index on source: a follow-up must not read the collection.
        article = [Chunk.from_metadata(text, meta) for text, meta in
                   self.store.keywords.get(sorted(self.store.keywords.ids_of([chunk.source]))).values()]
        after = min((c for c in article if c.start > chunk.start), key=lambda c: c.start, default=None)
        if after is None:  # the answer came from the article's end: the story is told before it
            after = max((c for c in article if c.start < chunk.start), key=lambda c: c.start, default=None)
        ranked = {p.chunk.id: p for p in pool}
        return tuple(ranked.get(c.id) or Passage(c, 0.0) for c in (chunk, after) if c is not None)

    # --- the whole collection ----------------------------------------------------------------------
    def collection(self, with_vectors: bool = False) -> Collection:
        """Every article and chunk (and with `with_vectors`, every chunk's unit vector from Chroma),
        read once per index version: an overview of 600 articles must not re-read 10,000 chunks."""
        version = self.store.keywords.version()  # changes with every write to the store
        with self._collection_lock:
            cached = self._collection
            if cached is None or cached[0] != version:
                cached = (version, read_collection(self.store))
            if with_vectors and cached[1].vectors is None:
                cached = (version, with_chunk_vectors(self.store, cached[1]))
            self._collection = cached
        return cached[1]

    def derived_titles(self) -> dict[str, str]:
        """source -> the title derived from its first sentence, for each article without a headline
        (`qa.collection.derived_title`), so a citation of one shows a title like any other."""
        return {a.source: a.title for a in self.collection().articles if not a.headline}

    def collection_for(self, ask: Ask) -> Collection:
        """The collection as `ask` needs it: an overview gets the vectors, and a topic overview the
        similarity of every chunk to its topic and the chunks the keyword search finds for it (a name
        said in passing is far in meaning from the topic, but found by its words)."""
        if ask.kind.intent != "overview":
            return self.collection()
        from qa.collection import TOPIC_CANDIDATES, topic_words

        col = self.collection(with_vectors=True)
        topic = topic_words(ask.question)
        if not topic or col.vectors is None or not len(col.vectors):
            return col
        query = np.asarray(self.store.embedding.embed_query(topic), dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-9)
        found = self.store.keywords.get([i for i, _ in self.store.keywords.search(topic, TOPIC_CANDIDATES)])
        hits = frozenset(str(meta["chunk_id"]) for _, meta in found.values())
        return dataclasses.replace(col, relevance=col.vectors @ query, topic=topic, topic_hits=hits)

    def weights(self, text: str) -> tuple[dict[str, float], list[str]]:
        """IDF weight per content stem of `text` (a word few chunks use says more about what is
        asked), and the words no chunk uses (weight 0: no sentence can match them).

        >>> from qa.retrieval import idf
        >>> round(idf(0, 100), 2), round(idf(99, 100), 2)
        (5.31, 0.01)
        """
        n = max(self.store.keywords.count(), 1)
        weights: dict[str, float] = {}
        unknown: list[str] = []
        for w in words(text):
            lw = w.lower().replace("’", "'")
            if lw in STOPWORDS or lw in QUESTION_WORDS:
                continue
            s = stem(w)
            if s in weights:
                continue
            df = self.store.keywords.doc_freq(re.sub(r"'s$", "", lw))
            weights[s] = idf(df, n) if df else 0.0
            if df == 0 and lw not in FUNCTION_WORDS:
                unknown.append(w)
        return weights, unknown

    def corrections(self, question: str) -> tuple[Correction, ...]:
        """Question words no article uses, each read as the closest word the articles do use, when
        that word shares a chunk with another word of the question (so a name the articles lack is
        not turned into a different name that has nothing to do with the rest of the question). A
        name (capitalised inside the question) is read only as a word the articles capitalise:
        "Bertier" is a name the articles lack, not "better". The correction is the word as the
        articles write it."""
        keywords = self.store.keywords
        every = words(question)
        asked = [w for w in dict.fromkeys(every) if w.lower() not in STOPWORDS and w.lower() not in QUESTION_WORDS]
        known = [w for w in asked if keywords.doc_freq(w.lower())]
        out: list[Correction] = []
        for w in asked:
            if w in known or not w.isalpha():
                continue
            if w.lower() in english_words():
                # A real word is read only as itself spelt the other side of the Atlantic ("defence").
                spelt = next((v for v in spelling_variants(w.lower()) if keywords.doc_freq(v)), None)
                if spelt:
                    out.append(Correction(w, spelt.capitalize() if w[:1].isupper() else spelt, misspelt=False))
                continue
            term = self.speller().correct(w.lower())
            if not term or term in STOPWORDS or term in QUESTION_WORDS:
                continue
            others = known + [c.read_as for c in out]
            if others and not any(keywords.together(term, o) for o in others):
                continue
            forms = keywords.written(term)
            name = w[:1].isupper() and w != every[0]
            if name:
                forms = [f for f in forms if f[:1].isupper()]
            else:
                forms = [f for f in forms if f.islower()] or forms
            if forms:  # the form nearest the word asked ("sumon" is "summon", not the commoner "summoned")
                form = min(forms, key=lambda f: edit_distance(w.lower(), f.lower()))
                if likely_typo(w, term, form, name):
                    out.append(Correction(w, form))
        return tuple(out)

    def speller(self) -> Speller:
        """A speller over the index's vocabulary, kept while the vocabulary is unchanged."""
        terms = self.store.keywords.terms()  # the same object until the index changes
        if self._speller is None or self._speller.vocabulary is not terms:
            self._speller = Speller(terms)
        return self._speller

    def _search(self, *queries: str, k: int | None = None) -> tuple[list[Passage], list[Passage]]:
        """The top `k` passages for the queries, and the whole fused ranking they were taken from: each
        query's embedding and BM25 rankings, fused."""
        k = k or self.k
        docs: dict[str, Document] = {}
        dense_ids, keyword_ids = [], []
        similarity: dict[str, float] = {}
        for query in queries:
            found = self.store.dense(self.store.embedding.embed_query(query), self.fetch_k)
            docs.update((d.id, d) for d, _ in found)
            for d, cosine in found:
                similarity[d.id] = max(cosine, similarity.get(d.id, -1.0))
            dense_ids.append([d.id for d, _ in found])
            keyword_ids.append([i for i, _ in self.store.keywords.search(query, self.fetch_k)])
        missing = list(dict.fromkeys(i for ids in keyword_ids for i in ids if i not in docs))
        for i, (text, meta) in self.store.keywords.get(missing).items():
            docs[i] = Document(id=i, page_content=text, metadata=meta)
        fused = reciprocal_rank_fusion(dense_ids + keyword_ids, self.rrf_k)
        ranked = sorted((i for i in fused if i in docs), key=lambda i: fused[i], reverse=True)
        chosen = diversify([(i, docs[i].metadata["source"]) for i in ranked], k, self.per_source_cap)
        firsts = [ids[0] for ids in dense_ids + keyword_ids if ids]
        chosen = keep_champions(chosen, [c for c in firsts if c in docs], fused)
        dense_rank, keyword_rank = best_ranks(dense_ids), best_ranks(keyword_ids)

        def passage(i: str) -> Passage:
            return passage_from(docs[i], fused[i], dense_rank.get(i), keyword_rank.get(i), similarity.get(i))

        return [passage(i) for i in chosen], [passage(i) for i in ranked]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return [
            Document(id=p.chunk.id, page_content=p.chunk.text, metadata={**p.chunk.metadata(), "score": p.score})
            for p in self.search(query)
        ]


def read_collection(store: ChunkStore) -> Collection:
    """Every chunk of the keyword index (which mirrors Chroma), grouped into articles."""
    keywords = store.keywords
    ids = sorted(keywords.ids())
    chunks = [Chunk.from_metadata(text, meta) for text, meta in keywords.get(ids).values()]
    chunks.sort(key=lambda c: (c.source, c.start))
    from qa.collection import article_info, by_date

    counts: dict[str, int] = {}
    leads: dict[str, Chunk] = {}
    for c in chunks:
        counts[c.source] = counts.get(c.source, 0) + 1
        leads.setdefault(c.source, c)
    articles: list[ArticleInfo] = [article_info(leads[s], counts[s]) for s in leads]
    return Collection(articles=tuple(by_date(articles)), chunks=tuple(chunks))


def with_chunk_vectors(store: ChunkStore, col: Collection) -> Collection:
    """The collection with each chunk's vector as Chroma holds it, normalised to unit length (chunks
    Chroma lacks are left out)."""
    found: dict[str, list[float]] = {}
    total = store.count()
    for offset in range(0, total, 5000):
        got = store.collection.get(limit=5000, offset=offset, include=["embeddings", "metadatas"])
        found.update((str(m["chunk_id"]), v) for m, v in zip(got["metadatas"], got["embeddings"]))
    keep = [i for i, c in enumerate(col.chunks) if c.id in found]
    dim = len(next(iter(found.values()))) if found else 0
    vectors = np.asarray([found[col.chunks[i].id] for i in keep], dtype=np.float32).reshape(len(keep), dim)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    chunks = tuple(col.chunks[i] for i in keep)
    row = {a.source: i for i, a in enumerate(col.articles)}
    sums = np.zeros((len(col.articles), dim), dtype=np.float32)
    np.add.at(sums, [row[c.source] for c in chunks], vectors)
    articles = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    return dataclasses.replace(col, chunks=chunks, vectors=vectors, article_vectors=articles)


def idf(df: int, n: int) -> float:
    """Inverse document frequency of a word `df` of `n` chunks hold."""
    return math.log((n + 1) / (df + 0.5))
