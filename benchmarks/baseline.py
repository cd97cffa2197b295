"""The LangChain tutorial pipeline on disk, for the benchmark's side-by-side figures.

`qa.eval.baseline.TutorialBaseline` builds the tutorial pipeline (1000/200
RecursiveCharacterTextSplitter, Chroma similarity top-4, same MiniLM model) in memory for the
eval. The benchmark also needs its cold start and its memory per phase, so here the same pipeline
is written to a persistent Chroma folder by one process and opened by another. Answering is the
eval's own `TutorialBaseline.answer`, so the latencies are of the same code the eval scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from qa.eval.baseline import CHUNK_OVERLAP, CHUNK_SIZE, TutorialBaseline

COLLECTION = "tutorial"
ADD_BATCH = 5000


def _chroma(path: Path, embeddings):
    import chromadb
    from chromadb.config import Settings
    from langchain_chroma import Chroma

    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    return Chroma(
        collection_name=COLLECTION,
        embedding_function=embeddings,
        client=client,
        collection_metadata={"hnsw:space": "cosine"},
    )


def split_corpus(corpus_dirs: list[Path]):
    """The tutorial's chunks of the same cleaned articles our ingest reads."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from qa.corpus import load_corpus

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    articles = load_corpus(corpus_dirs).articles
    return splitter.split_documents([Document(page_content=a.text, metadata={"source": a.source}) for a in articles])


@dataclass
class BuildReport:
    chunks: int
    seconds: float


def build(corpus_dirs: list[Path], path: Path, embeddings) -> BuildReport:
    """What the tutorial does: split everything, then `add_documents` (embeds every chunk)."""
    started = time.perf_counter()
    docs = split_corpus(corpus_dirs)
    store = _chroma(path, embeddings)
    # The tutorial's single add_documents() fails on a large corpus with Chroma 1.x ("Batch size
    # of 19890 is greater than max batch size of 5461"): add in batches under that limit.
    for start in range(0, len(docs), ADD_BATCH):
        store.add_documents(docs[start : start + ADD_BATCH])
    return BuildReport(len(docs), time.perf_counter() - started)


class PersistedTutorial:
    """The tutorial pipeline opened from its folder; `answer` is the eval baseline's."""

    answer = TutorialBaseline.answer

    def __init__(self, path: Path, embeddings):
        self.embeddings = embeddings
        self.store = _chroma(path, embeddings)
