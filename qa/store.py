"""The store adapter: a Chroma collection (local folder or server) with a BM25 keyword index beside
it, seen as one LangChain `VectorStore`; the lock that serialises its writers; its errors.

Filling it is `qa/ingest.py`'s job. Readers never write: they open an existing collection, and only
an ingest (holding the store's write lock) creates, fills, empties or mends it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from qa.config import Config
from qa.errors import QAError
from qa.keywords import KeywordIndex
from qa.types import Chunk, Passage

log = logging.getLogger("qa")
REBUILD_HINT = "rebuild it with: qa ingest --reset"
T = TypeVar("T")


class StoreError(QAError, RuntimeError):
    """The store cannot be used; the message names where it is and what to do."""

    exit_code = 1  # the command was right; the store failed (the CLI's exit code)


class StoreBusy(StoreError):
    """Another process holds the store's write lock (an ingest or a removal is running)."""


class StoreNotBuilt(StoreError):
    """The collection does not exist yet: nothing was ever ingested into it."""


class StoreReadOnly(StoreError):
    """The store can be read but not written (a read-only folder or filesystem)."""


def where(config: Config) -> str:
    """The store's place, as the user would name it."""
    return f"{config.chroma_host}:{config.chroma_port}" if config.chroma_host else str(config.chroma_dir)


def server_hint(config: Config) -> str:
    return f"start it with: chroma run --path DIR --host {config.chroma_host} --port {config.chroma_port}"


def remote(config: Config, call: Callable[[], T], failure: str = "lost the Chroma server at") -> T:
    """Run one call to the Chroma server within `config.chroma_timeout` seconds, as a StoreError
    naming the server when it fails or does not answer. Locally, just run it.

    chromadb's HttpClient has no timeout setting (its httpx session is built with timeout=None;
    chroma-core/chroma#5805), so the call runs on a daemon thread and is abandoned at the deadline:
    a paused server costs the caller `chroma_timeout` seconds, not forever. An abandoned write is
    harmless: the ingest ledger did not record it, and the next ingest re-adds it under the same id.
    """
    if not config.chroma_host:
        return call()
    done: Future = Future()

    def run() -> None:
        try:
            done.set_result(call())
        except BaseException as e:  # handed to the caller below
            done.set_exception(e)

    threading.Thread(target=run, name="chroma-call", daemon=True).start()
    server = f"{config.chroma_host}:{config.chroma_port}"
    try:
        return done.result(timeout=config.chroma_timeout)
    except TimeoutError:
        raise StoreError(
            f"the Chroma server at {server} did not answer within {config.chroma_timeout:g} s "
            f"(QA_CHROMA_TIMEOUT); it may be paused or overloaded; nothing was lost"
        ) from None
    except QAError:
        raise
    except Exception as e:  # the client raises several kinds for one cause: the server is not there
        raise StoreError(f"{failure} {server} ({type(e).__name__}: {str(e)[:200]}); {server_hint(config)}") from None


def chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=True)


def read_only_copy(path: Path) -> Path:
    """A private copy of a read-only Chroma folder, removed when the process ends.

    Chroma's local client writes to its folder even to read (migrations, its SQLite journal) and has
    no read-only mode (chroma-core/chroma#1438); a copy lets a read-only store be read all the same.
    """
    import atexit
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="qa-read-only-store-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    shutil.copytree(path, copy, dirs_exist_ok=True)
    log.warning("the store at %s is read-only: reading a copy of it (%s)", path, copy)
    return copy


def chroma_client(config: Config, reading: bool = False):
    """A Chroma client: the server at CHROMA_HOST when set, else the persistent folder (a reader of
    a read-only folder gets a copy of it)."""
    import chromadb

    if config.chroma_host:
        def connect():
            client = chromadb.HttpClient(host=config.chroma_host, port=config.chroma_port, settings=chroma_settings())
            client.heartbeat()
            return client

        return remote(config, connect, failure="cannot reach the Chroma server at")
    path = config.chroma_dir
    if path.exists() and not path.is_dir():
        raise StoreError(f"the store path {path} is a file, not a folder; {REBUILD_HINT}")
    if reading and path.is_dir() and not os.access(path, os.W_OK):
        return chromadb.PersistentClient(path=str(read_only_copy(path)), settings=chroma_settings())
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings())
    except PermissionError:
        raise StoreError(f"the store at {path} is not writable; choose another with --store DIR") from None
    except Exception as e:
        if _read_only(e):
            raise StoreReadOnly(f"the store at {path} is read-only ({_first_line(e)}); "
                                f"copy it somewhere writable, or choose another with --store DIR") from None
        raise StoreError(f"the store at {path} is damaged or not a Chroma store ({type(e).__name__}: "
                         f"{_first_line(e)}); {REBUILD_HINT}") from None


def _first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [""])[0][:200]


def _read_only(e: BaseException) -> bool:
    """Whether an error says the store may not be written (as opposed to damaged)."""
    text = str(e).lower()
    return any(s in text for s in ("readonly", "read-only", "read only", "permission denied"))


def _collection_metadata() -> dict:
    # The same metadata langchain-chroma gave the collections it created: existing stores open as before.
    return {"hnsw:space": "cosine"}


class ChunkStore(VectorStore):
    """A LangChain `VectorStore` writing each chunk to Chroma and to the keyword index together.

    Chroma holds the vectors; the keyword index holds the same texts for BM25. `index()` sees one
    store, so both stay in step. `create=False` opens only an existing collection (a reader);
    `StoreNotBuilt` says there is none.
    """

    def __init__(self, config: Config, embeddings: Embeddings, *, create: bool = True):
        from chromadb.errors import NotFoundError

        self.config = config
        self.embedding = embeddings
        self.texts_embedded = 0  # what this store has had embedded: a re-ingest of unchanged articles adds none
        if create or config.chroma_host:  # with a server, the folder holds this machine's keyword mirror
            make_store_dir(config)
        elif not config.chroma_host and not config.chroma_dir.exists():
            raise StoreNotBuilt(f"there is no store at {config.store_dir} yet; build it with: qa ingest")
        self.client = chroma_client(config, reading=not create)
        try:
            def existing():
                try:
                    return self.client.get_collection(config.collection)
                except NotFoundError:
                    return None

            self.collection = remote(config, existing)
            if self.collection is None:
                if not create:
                    raise StoreNotBuilt(f"the collection {config.collection!r} at {where(config)} has not been "
                                        f"built; build it with: qa ingest") from None
                self.collection = remote(config, lambda: self.client.get_or_create_collection(
                    config.collection, embedding_function=None, metadata=_collection_metadata()))
            remote(config, self.collection.count)
        except StoreError:
            raise
        except Exception as e:
            if _read_only(e):
                raise StoreReadOnly(f"the store at {where(config)} is read-only ({_first_line(e)}); "
                                    f"choose another with --store DIR") from None
            raise StoreError(f"cannot open the collection {config.collection!r} at {where(config)} "
                             f"({type(e).__name__}: {_first_line(e)}); {REBUILD_HINT}") from None
        try:
            self.keywords = KeywordIndex(config.keywords_path)
        except sqlite3.OperationalError as e:
            if create and _read_only(e):
                raise StoreReadOnly(f"the keyword index {config.keywords_path} is read-only ({e}); "
                                    f"choose another store with --store DIR") from None
            raise StoreError(f"the keyword index {config.keywords_path} is damaged ({e}); {REBUILD_HINT}") from None
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
        self.texts_embedded += len(texts)
        remote(self.config, lambda: self.collection.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas))
        return ids

    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        docs = [Document(page_content=t, metadata=(metadatas or [{}] * len(texts))[i]) for i, t in enumerate(texts)]
        return self.add_documents(docs, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        if ids:
            for start in range(0, len(ids), 1000):
                part = ids[start : start + 1000]
                remote(self.config, lambda: self.collection.delete(ids=part))
            self.keywords.delete(ids)
        return True

    def source_ids(self, sources: list[str]) -> list[str]:
        """The ids of every stored chunk of these articles (in Chroma or in the keyword index)."""
        out: set[str] = set(self.keywords.ids_of(sources))
        for start in range(0, len(sources), 100):
            part = sources[start : start + 100]
            got = remote(self.config, lambda: self.collection.get(where={"source": {"$in": part}}, include=[]))
            out.update(got["ids"])
        return sorted(out)

    def clear(self) -> None:
        """Remove every chunk, keeping the collection and the keyword index file, so that a running
        reader's handles stay valid (it sees an empty store, then the new chunks)."""
        self.delete(sorted(self.ids() | self.keywords.ids()))

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
        res = remote(self.config, lambda: self.collection.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        ))
        return [
            (Document(id=i, page_content=t, metadata=m), 1.0 - d)
            for i, t, m, d in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
        ]

    def count(self) -> int:
        return remote(self.config, self.collection.count)

    def ids(self) -> set[str]:
        out: set[str] = set()
        total = self.count()
        for offset in range(0, total, 5000):
            out.update(remote(self.config, lambda: self.collection.get(limit=5000, offset=offset, include=[]))["ids"])
        return out

    def sources(self) -> dict[str, int]:
        """source -> number of chunks (from the keyword index, which mirrors the collection)."""
        return self.keywords.sources()

    def sync_keywords(self, chroma_ids: set[str] | None = None) -> bool:
        """Make the keyword index mirror the collection (another machine may have ingested into a
        shared server). `chroma_ids`, when the caller has listed them already, saves a second
        listing. Returns True when it had to change anything. A writer's job: hold the lock."""
        chroma_ids = self.ids() if chroma_ids is None else chroma_ids
        keyword_ids = self.keywords.ids()
        if chroma_ids == keyword_ids:
            return False
        self.keywords.delete(sorted(keyword_ids - chroma_ids))
        missing = sorted(chroma_ids - keyword_ids)
        for start in range(0, len(missing), 1000):
            part = missing[start : start + 1000]
            got = remote(self.config, lambda: self.collection.get(ids=part, include=["documents", "metadatas"]))
            self.keywords.upsert(got["ids"], got["documents"], got["metadatas"])
        return True

    def articles(self) -> list[StoredArticle]:
        """The stored articles, oldest first, each with its title, date, publisher and opening chunk.

        Read from each article's first chunk (a cleaned article's text starts at offset 0, so its
        first chunk has start 0): one row per article, not a scan of every chunk. An article whose
        first chunk is missing is still listed, with no opening text.
        """
        got = remote(self.config, lambda: self.collection.get(where={"start": 0}, include=["documents", "metadatas"]))
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


def open_store(config: Config, embeddings: Embeddings, *, create: bool = True) -> ChunkStore:
    return ChunkStore(config, embeddings, create=create)


def lock_path(config: Config) -> Path:
    return config.store_dir / "write.lock"


@contextmanager
def write_lock(config: Config) -> Iterator[None]:
    """Hold the store's write lock, or raise `StoreBusy` at once when another process holds it.

    An OS file lock (flock): the kernel releases it when its process dies, even by SIGKILL, so a
    killed ingest never leaves the store locked. It serialises the writers of one machine; with a
    shared Chroma server each machine still has its own ledger and keyword index.
    """
    from filelock import FileLock, Timeout

    make_store_dir(config)
    try:
        lock = FileLock(lock_path(config), timeout=0)
        lock.acquire()
    except Timeout:
        raise StoreBusy(f"another process (a qa ingest or qa remove) is writing to the store at "
                        f"{config.store_dir}; try again when it has finished") from None
    except OSError as e:
        raise StoreReadOnly(f"cannot write to the store at {config.store_dir} ({e.strerror or e}); "
                            f"it is read-only: choose another with --store DIR") from None
    try:
        yield
    finally:
        lock.release()


def being_written(config: Config) -> bool:
    """Whether another process holds the write lock right now."""
    try:
        with write_lock(config):
            return False
    except StoreBusy:
        return True
    except StoreError:
        return False


def reset_store(config: Config, embeddings: Embeddings) -> None:
    """Remove everything the store holds (the collection's chunks, records and keyword index).

    A healthy store is emptied in place, so a running reader keeps valid handles; a store too
    damaged to open is removed from disk and starts afresh."""
    try:
        ChunkStore(config, embeddings).clear()
        return
    except StoreError:
        if config.chroma_host:
            raise
    shutil.rmtree(config.chroma_dir, ignore_errors=True)
    for path in (config.keywords_path,):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def passage_from(doc: Document, score: float, dense_rank: int | None = None, keyword_rank: int | None = None,
                 similarity: float | None = None) -> Passage:
    return Passage(Chunk.from_metadata(doc.page_content, doc.metadata), score, dense_rank, keyword_rank, similarity)

