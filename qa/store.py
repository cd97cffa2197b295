"""The store: a Chroma collection (local folder or server) with a BM25 keyword index beside it,
filled by LangChain's `index()` and its SQL record manager so that ingest is incremental.
"""

from __future__ import annotations

from qa.errors import QAError
import logging
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index
from langchain_core.vectorstores import VectorStore

from qa.chunking import chunk_article
from qa.config import Config
from qa.corpus import Article, load_corpus, read_article, UnreadableFile
from qa.keywords import KeywordIndex
from qa.types import Chunk, Passage

log = logging.getLogger("qa")
REBUILD_HINT = "rebuild it with: qa ingest --reset"


class StoreError(QAError, RuntimeError):
    """The store cannot be used; the message names where it is and what to do."""


def server_hint(config: Config) -> str:
    return (f"start it with: chroma run --path DIR --host {config.chroma_host} --port {config.chroma_port}")


@contextmanager
def server_errors(config: Config):
    """With a Chroma server, turn its client's many failure types into one StoreError naming the
    server and how to start it. Nothing is lost: the server keeps what it had written."""
    if not config.chroma_host:
        yield
        return
    try:
        yield
    except StoreError:
        raise
    except Exception as e:
        raise StoreError(
            f"lost the Chroma server at {config.chroma_host}:{config.chroma_port} "
            f"({type(e).__name__}: {str(e)[:200]}); {server_hint(config)}"
        ) from None


def chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=True)


def chroma_client(config: Config):
    """A Chroma client: the server at CHROMA_HOST when set, else the persistent folder."""
    import chromadb

    if config.chroma_host:
        try:
            client = chromadb.HttpClient(
                host=config.chroma_host, port=config.chroma_port, settings=chroma_settings()
            )
            client.heartbeat()
            return client
        except Exception as e:  # the client raises several kinds for one cause: unreachable
            raise StoreError(
                f"cannot reach the Chroma server at {config.chroma_host}:{config.chroma_port} "
                f"({type(e).__name__}: {str(e)[:200]}); start it with: "
                f"chroma run --path DIR --host {config.chroma_host} --port {config.chroma_port}"
            ) from None
    path = config.chroma_dir
    if path.exists() and not path.is_dir():
        raise StoreError(f"the store path {path} is a file, not a folder; {REBUILD_HINT}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings())
    except PermissionError:
        raise StoreError(f"the store at {path} is not writable; choose another with --store DIR") from None
    except Exception as e:
        raise StoreError(f"the store at {path} is damaged or not a Chroma store ({type(e).__name__}: "
                         f"{str(e)[:200]}); {REBUILD_HINT}") from None


class ChunkStore(VectorStore):
    """A LangChain `VectorStore` writing each chunk to Chroma and to the keyword index together.

    Chroma holds the vectors; the keyword index holds the same texts for BM25. `index()` sees one
    store, so both stay in step.
    """

    def __init__(self, config: Config, embeddings: Embeddings):
        from langchain_chroma import Chroma

        self.config = config
        self.embedding = embeddings
        make_store_dir(config)
        self.client = chroma_client(config)
        try:
            self.chroma = Chroma(
                client=self.client,
                collection_name=config.collection,
                embedding_function=embeddings,
                collection_metadata={"hnsw:space": "cosine"},
            )
            self.collection = self.chroma._collection
            self.collection.count()
        except StoreError:
            raise
        except Exception as e:
            where = config.chroma_host and f"{config.chroma_host}:{config.chroma_port}" or config.chroma_dir
            raise StoreError(f"cannot open the collection {config.collection!r} at {where} "
                             f"({type(e).__name__}: {str(e)[:200]}); {REBUILD_HINT}") from None
        try:
            self.keywords = KeywordIndex(config.keywords_path)
        except Exception as e:
            raise StoreError(f"the keyword index {config.keywords_path} is damaged ({e}); {REBUILD_HINT}") from None

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    # --- writing (called by LangChain's index()) -------------------------------------------
    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids = kwargs.get("ids") or [d.id for d in documents]
        texts = [d.page_content for d in documents]
        metas = [dict(d.metadata) for d in documents]
        self.keywords.upsert(ids, texts, metas)
        vectors = self.embedding.embed_documents(texts)
        with server_errors(self.config):
            self.collection.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)
        return ids

    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        docs = [Document(page_content=t, metadata=(metadatas or [{}] * len(texts))[i]) for i, t in enumerate(texts)]
        return self.add_documents(docs, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        if ids:
            with server_errors(self.config):
                for start in range(0, len(ids), 1000):
                    self.collection.delete(ids=ids[start : start + 1000])
            self.keywords.delete(ids)
        return True

    # --- reading ----------------------------------------------------------------------------
    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [p_doc for p_doc, _ in self.dense(self.embedding.embed_query(query), k)]

    @classmethod
    def from_texts(cls, *args, **kwargs):  # required by VectorStore; build through open_store()
        raise NotImplementedError("use qa.store.open_store(config)")

    def dense(self, vector: list[float], k: int) -> list[tuple[Document, float]]:
        """(document, cosine similarity) of the `k` nearest chunks."""
        n = min(k, self.count())
        if n == 0:
            return []
        with server_errors(self.config):
            res = self.collection.query(
                query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
            )
        return [
            (Document(id=i, page_content=t, metadata=m), 1.0 - d)
            for i, t, m, d in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
        ]

    def count(self) -> int:
        with server_errors(self.config):
            return self.collection.count()

    def ids(self) -> set[str]:
        out: set[str] = set()
        total = self.count()
        with server_errors(self.config):
            for offset in range(0, total, 5000):
                out.update(self.collection.get(limit=5000, offset=offset, include=[])["ids"])
        return out

    def sources(self) -> dict[str, int]:
        """source -> number of chunks (from the keyword index, which mirrors the collection)."""
        rows = self.keywords._db().execute(
            "SELECT json_extract(metadata, '$.source'), count(*) FROM chunks GROUP BY 1"
        ).fetchall()
        return {s: n for s, n in rows}

    def sync_keywords(self, chroma_ids: set[str] | None = None) -> bool:
        """Make the keyword index mirror the collection (another machine may have ingested into a
        shared server). `chroma_ids`, when the caller has listed them already, saves a second
        listing. Returns True when it had to change anything."""
        chroma_ids = self.ids() if chroma_ids is None else chroma_ids
        keyword_ids = self.keywords.ids()
        if chroma_ids == keyword_ids:
            return False
        self.keywords.delete(sorted(keyword_ids - chroma_ids))
        missing = sorted(chroma_ids - keyword_ids)
        for start in range(0, len(missing), 1000):
            with server_errors(self.config):
                got = self.collection.get(ids=missing[start : start + 1000], include=["documents", "metadatas"])
            self.keywords.upsert(got["ids"], got["documents"], got["metadatas"])
        return True

    def articles(self) -> list[StoredArticle]:
        """The stored articles, oldest first, each with its title, date, publisher and opening chunk.

        Read from each article's first chunk (a cleaned article's text starts at offset 0, so its
        first chunk has start 0): one row per article, not a scan of every chunk. An article whose
        first chunk is missing is still listed, with no opening text.
        """
        with server_errors(self.config):
            got = self.collection.get(where={"start": 0}, include=["documents", "metadatas"])
        found: dict[str, StoredArticle] = {}
        for text, meta in zip(got["documents"], got["metadatas"]):
            chunk = Chunk.from_metadata(text, meta)
            found.setdefault(chunk.source, StoredArticle(chunk.source, chunk.title, chunk.date, chunk.publisher, text))
        for source in self.sources():
            found.setdefault(source, StoredArticle(source, None, None, None, ""))
        return sorted(found.values(), key=lambda a: (a.date or "9999", a.source))


@dataclass(frozen=True)
class StoredArticle:
    """One article of the store, as the web chat's article list shows it."""

    source: str  # the file name
    title: str | None
    date: str | None  # ISO date, where the article states one
    publisher: str | None
    opening: str  # the text of its first chunk ("" when that chunk is missing)


def make_store_dir(config: Config) -> None:
    """Create the store folder, or say plainly why it cannot be (a file is there, no permission)."""
    path = config.store_dir
    if path.exists() and not path.is_dir():
        raise StoreError(f"the store path {path} is a file, not a folder; choose another with --store DIR")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the store folder {path} ({e.strerror or e}); "
                         f"choose another with --store DIR") from None


def record_manager(config: Config):
    from langchain_classic.indexes import SQLRecordManager

    try:
        manager = SQLRecordManager(
            namespace=f"chroma/{config.collection}", db_url=f"sqlite:///{config.records_path}"
        )
        manager.create_schema()
    except Exception as e:  # SQLAlchemy wraps sqlite's "file is not a database" and friends
        raise StoreError(f"the ingest records {config.records_path} are damaged "
                         f"({type(e).__name__}: {str(e).splitlines()[0][:200]}); {REBUILD_HINT}") from None
    return manager


def open_store(config: Config, embeddings: Embeddings) -> ChunkStore:
    return ChunkStore(config, embeddings)


def chunk_documents(articles: Iterable[Article], config: Config) -> Iterator[Document]:
    for article in articles:
        for chunk in chunk_article(article, config.chunk_chars, config.chunk_overlap_sentences):
            yield Document(page_content=chunk.text, metadata=chunk.metadata())


def passage_from(doc: Document, score: float, dense_rank: int | None = None, keyword_rank: int | None = None) -> Passage:
    return Passage(Chunk.from_metadata(doc.page_content, doc.metadata), score, dense_rank, keyword_rank)


@dataclass
class IngestReport:
    articles: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    skipped_unchanged: int = 0
    deleted: int = 0
    embedded: int = 0
    seconds: float = 0.0
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    kept_sources: list[str] = field(default_factory=list)  # unreadable now, earlier chunks kept

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.chunks} chunks: {self.added} added, "
            f"{self.deleted} removed, {self.skipped_unchanged} unchanged; "
            f"{self.embedded} embedded in {self.seconds:.2f}s"
        )


def reset_store(config: Config) -> None:
    """Remove everything the store holds (the collection, records and keyword index)."""
    try:
        client = chroma_client(config)
        try:
            client.delete_collection(config.collection)
        except Exception:
            pass  # there was no collection
    except StoreError:
        if config.chroma_host:
            raise
        shutil.rmtree(config.chroma_dir, ignore_errors=True)  # damaged beyond opening: start afresh
    for path in (config.records_path, config.keywords_path):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def ingest(
    config: Config,
    embeddings: Embeddings,
    paths: Iterable[Path] | None = None,
    *,
    reset: bool = False,
    add_only: bool = False,
    progress: bool | None = None,
    on_skip: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Bring the store in line with the articles under `paths` (the configured corpus by default).

    Unchanged chunks are not embedded again; a changed file's chunks are replaced; a file that is
    gone is removed, unless `add_only`. A file that cannot be read now keeps what was stored of it.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in (paths or config.corpus_dirs)]
    loaded = load_corpus(paths)
    report = IngestReport(articles=len(loaded.articles), skipped_files=list(loaded.skipped))
    for path, reason in loaded.skipped:
        (on_skip or (lambda p, r: log.warning("skipped %s: %s", p, r)))(path, reason)
    if reset:
        reset_store(config)
    store = open_store(config, embeddings)
    manager = record_manager(config)
    before_embedded = getattr(embeddings, "texts_embedded", 0)
    # First mend what a killed ingest may have left, so index() re-adds whatever it dropped.
    report.deleted += repair(store, manager)

    # Chunks are made as index() consumes them, batch by batch: memory does not grow with the corpus.
    show = sys.stderr.isatty() if progress is None else progress
    articles: Iterable[Article] = loaded.articles
    if show and len(loaded.articles) > 20:
        from tqdm import tqdm

        articles = tqdm(loaded.articles, desc="ingest", unit="article", file=sys.stderr)

    def counted(docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            report.chunks += 1
            yield doc

    iterator = counted(chunk_documents(articles, config))
    result = index(
        iterator,
        manager,
        store,
        cleanup="scoped_full",
        source_id_key="source",
        key_encoder="sha256",
        batch_size=256,
    )
    report.added = result["num_added"]
    report.updated = result["num_updated"]
    report.skipped_unchanged = result["num_skipped"]
    report.deleted += result["num_deleted"]

    # Sources that are gone from disk: remove them. Sources on disk that could not be read this
    # time keep their earlier chunks, so a transient failure loses nothing.
    if not add_only:
        present = {a.source for a in loaded.articles}
        unreadable_sources = _sources_of(loaded.skipped, paths)
        stored = set(store.sources())
        gone = sorted(stored - present - unreadable_sources)
        report.kept_sources = sorted((stored - present) & unreadable_sources)
        if gone:
            keys = manager.list_keys(group_ids=gone)
            store.delete(keys)
            manager.delete_keys(keys)
            report.deleted += len(keys)
    report.embedded = getattr(embeddings, "texts_embedded", 0) - before_embedded
    report.seconds = time.perf_counter() - started
    return report


def _sources_of(skipped: list[tuple[str, str]], roots: list[Path]) -> set[str]:
    """The source names that skipped files would have had (relative to their corpus folder)."""
    out = set()
    for path, _ in skipped:
        p = Path(path)
        for root in roots:
            try:
                out.add(p.relative_to(root).as_posix() if root.is_dir() else p.name)
                break
            except ValueError:
                continue
    return out


def repair(store: ChunkStore, manager) -> int:
    """Remove chunks that only one of the three stores knows of (left by a killed ingest).

    Returns how many stored chunks were removed. The record manager is the ledger: a vector or
    keyword entry it does not list is an orphan; a record without its vector is forgotten so the
    next ingest embeds it again.
    """
    records = set(manager.list_keys())
    vectors = store.ids()
    if store.config.chroma_host:
        # A shared server holds other machines' chunks, which this machine's ledger does not list:
        # they are not orphans. A vector a killed ingest left here is re-added under the same id
        # (upsert) by the next index() run, so nothing is duplicated either way. The local keyword
        # index is brought in line with the server first, so the check below sees the server's state.
        store.sync_keywords(vectors)
        keywords = store.keywords.ids()
        orphans: list[str] = []
    else:
        keywords = store.keywords.ids()
        orphans = sorted((vectors | keywords) - records)
    if orphans:
        store.delete(orphans)
    forgotten = sorted(records - (vectors & keywords))
    if forgotten:
        store.delete(forgotten)
        manager.delete_keys(forgotten)
    return len(orphans)
