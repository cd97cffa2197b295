"""The ingest pipeline: articles -> chunks -> the store, through LangChain's `index()` and its SQL
record manager, so that re-ingesting an unchanged folder embeds nothing and a changed file replaces
only its chunks.

What an ingest may remove is explicit:

- `ingest(paths)` adds and updates the articles under `paths`; every other article stays.
- `ingest(paths, replace=True)` makes the collection hold exactly those articles; it names what it
  will remove (`on_remove`) before it removes it. A file that is there but cannot be read now
  keeps what was stored of it.
- `remove_sources([...])` removes the named articles, after naming them.
- `ingest(paths, reset=True)` empties the collection first.

Every write holds the store's write lock (`qa.store.write_lock`): a second writer is refused with
a clear message, and a reader never writes (`open_for_questions` builds a store only when it was
never built, under the lock).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index

from qa.chunking import chunk_article
from qa.config import Config
from qa.corpus import Article, CorpusLoad, load_corpus
from qa.errors import QAError
from qa.store import (
    REBUILD_HINT, ChunkStore, StoreBusy, StoreError, StoreNotBuilt, being_written, open_store, reset_store,
    write_lock,
)

log = logging.getLogger("qa")


class EmptyCorpus(QAError, ValueError):
    """The paths given hold no article that could be read: nothing was changed."""


class UnknownSource(QAError, ValueError):
    """`remove_sources` was asked for an article the collection does not hold: nothing was removed."""


class EmptyStore(StoreError):
    """The collection exists but holds no article (they were removed); nothing is built behind
    the user's back."""


@dataclass
class Removal:
    """An article about to be removed from the collection, and how many chunks it has there."""

    source: str
    chunks: int


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
    removed_sources: list[str] = field(default_factory=list)
    other_sources: int = 0  # articles in the collection that are not under the paths, kept
    collection: str = ""
    total_articles: int = 0  # in the collection after the ingest
    total_chunks: int = 0

    def summary(self) -> str:
        line = (
            f"{self.articles} articles, {self.chunks} chunks: {self.added} added, "
            f"{self.deleted} removed, {self.skipped_unchanged} unchanged; "
            f"{self.embedded} embedded in {self.seconds:.2f}s"
        )
        kept = (f"; {self.other_sources} other articles kept (qa ingest --replace PATH drops them)"
                if self.other_sources else "")
        return (f"{line}\ncollection {self.collection!r}: {self.total_articles} articles, "
                f"{self.total_chunks} chunks{kept}")


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


def chunk_documents(articles: Iterable[Article], config: Config) -> Iterator[Document]:
    for article in articles:
        for chunk in chunk_article(article, config.chunk_chars, config.chunk_overlap_sentences):
            yield Document(page_content=chunk.text, metadata=chunk.metadata())


def fingerprint(chunk_ids: Iterable[str]) -> str:
    """One article's content, as the sorted content-derived ids of its chunks."""
    return hashlib.sha256("\n".join(sorted(chunk_ids)).encode()).hexdigest()


def _warn(message: str) -> None:
    log.warning("%s", message)


def _no_removal(removals: list[Removal]) -> None:
    pass


def _remove(store: ChunkStore, manager, sources: list[str]) -> int:
    """Remove every chunk of these articles from Chroma, the keyword index and the ledger."""
    ids = store.source_ids(sources)
    store.delete(ids)
    manager.delete_keys(ids)
    return len(ids)


def _out_of_space(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    text = str(e).lower()
    return any(s in text for s in ("disk is full", "no space left", "file too large", "disk i/o error",
                                   "quota exceeded"))


@contextmanager
def _writing(config: Config) -> Iterator[None]:
    """Hold the write lock, and turn running out of space (a full disk, `ulimit -f`) into one line.

    Nothing is lost then: SQLite rolls the batch back, and the ledger lists only what was written
    whole, so the next ingest carries on where this one stopped."""
    with write_lock(config):
        try:
            yield
        except QAError:
            raise
        except Exception as e:
            if _out_of_space(e):
                raise StoreError(f"ran out of space writing the store at {config.store_dir} "
                                 f"({type(e).__name__}: {str(e).splitlines()[0][:160]}); nothing stored was lost: "
                                 f"free some space and run qa ingest again") from None
            raise


def ingest(
    config: Config,
    embeddings: Embeddings,
    paths: Iterable[Path] | None = None,
    *,
    replace: bool = False,
    reset: bool = False,
    progress: bool | None = None,
    on_warning: Callable[[str], None] = _warn,
    on_remove: Callable[[list[Removal]], None] = _no_removal,
) -> IngestReport:
    """Add the articles under `paths` (the configured corpus by default) to the collection.

    Unchanged chunks are not embedded again; a changed file's chunks are replaced. With `replace`,
    articles not under `paths` are removed, except those there now that cannot be read; with
    `reset`, the collection is emptied first. `on_remove` hears what will go before it goes.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in (paths or config.corpus_dirs)]
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"corpus path does not exist: {p}")
    with _writing(config):
        stored = _stored_sources(config, embeddings, damaged_ok=reset)
        loaded = load_corpus(paths, prefer=() if reset else stored)
        report = IngestReport(skipped_files=list(loaded.skipped), collection=config.collection)
        for path, reason in loaded.skipped:
            on_warning(f"skipped {path}: {reason}")
        for article in loaded.articles:
            for note in article.warnings:
                on_warning(f"{article.path}: {note}")
        if not loaded.articles:
            named = ", ".join(str(p) for p in paths)
            raise EmptyCorpus(f"no readable article under {named} ({len(loaded.skipped)} files skipped; "
                              f"articles are .txt or .md files of UTF-8 text); nothing was changed")
        if reset:  # before opening: a store too damaged to open is what --reset is for
            if stored:
                on_remove([Removal(s, n) for s, n in sorted(stored.items())])
                report.removed_sources = sorted(stored)
                report.deleted += sum(stored.values())
            reset_store(config, embeddings)
            stored = {}
        store = open_store(config, embeddings)
        manager = _manager(config, reset)
        if reset:
            manager.delete_keys(manager.list_keys())
        # First mend what a killed ingest may have left, so index() re-adds whatever it dropped.
        report.deleted += repair(store, manager)

        articles = _not_copies_of_stored(loaded, stored, store.keywords, replace, config, on_warning, report)
        report.articles = len(articles)
        _index(articles, store, manager, config, progress, report)

        present = {a.source for a in loaded.articles}
        others = sorted(s for s in stored if s not in present)
        if replace:
            report.kept_sources = [s for s in others if loaded.is_unreadable(s)]
            gone = [s for s in others if not loaded.is_unreadable(s)]
            if gone:
                on_remove([Removal(s, stored[s]) for s in gone])
                report.deleted += _remove(store, manager, gone)
                report.removed_sources += gone
        else:
            report.other_sources = len(others)
        totals = store.sources()
    report.total_articles, report.total_chunks = len(totals), sum(totals.values())
    report.embedded = store.texts_embedded
    report.seconds = time.perf_counter() - started
    return report


def _stored_sources(config: Config, embeddings: Embeddings, damaged_ok: bool) -> dict[str, int]:
    """source -> chunks in the collection now; {} for a store that cannot be opened when `damaged_ok`."""
    try:
        return open_store(config, embeddings).sources()
    except StoreError:
        if not damaged_ok:
            raise
        return {}


def _manager(config: Config, reset: bool):
    """The ledger; with `reset`, a ledger too damaged to open is started afresh."""
    try:
        return record_manager(config)
    except StoreError:
        if not reset:
            raise
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{config.records_path}{suffix}").unlink(missing_ok=True)
        return record_manager(config)


def _not_copies_of_stored(loaded: CorpusLoad, stored: dict[str, int], keywords, replace: bool, config: Config,
                          on_warning: Callable[[str], None], report: IngestReport) -> list[Article]:
    """The loaded articles less those stored already under another name (and staying there)."""
    new = [a for a in loaded.articles if a.source not in stored]
    if not new or not stored:
        return loaded.articles
    present = {a.source for a in loaded.articles}
    staying = {s for s in stored if not replace or s in present or loaded.is_unreadable(s)}
    by_print = {fingerprint(ids): s for s, ids in keywords.chunk_ids_by_source().items() if s in staying}
    copies = set()
    for article in new:
        ids = [c.id for c in chunk_article(article, config.chunk_chars, config.chunk_overlap_sentences)]
        original = by_print.get(fingerprint(ids))
        if original:
            copies.add(article.source)
            reason = f"it is a copy of {original}, already in the collection"
            report.skipped_files.append((article.path, reason))
            on_warning(f"skipped {article.path}: {reason}")
    return [a for a in loaded.articles if a.source not in copies]


def _index(articles: list[Article], store: ChunkStore, manager, config: Config, progress: bool | None,
           report: IngestReport) -> None:
    """Write the articles' chunks through LangChain's index(); counts go into `report`."""
    # Chunks are made as index() consumes them, batch by batch: memory does not grow with the corpus.
    show = sys.stderr.isatty() if progress is None else progress
    if show and len(articles) > 20:
        from tqdm import tqdm

        articles = tqdm(articles, desc="ingest", unit="article", file=sys.stderr)

    def counted(docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            report.chunks += 1
            yield doc

    result = index(
        counted(chunk_documents(articles, config)),
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


def remove_sources(
    config: Config,
    embeddings: Embeddings,
    sources: list[str],
    *,
    on_remove: Callable[[list[Removal]], None] = _no_removal,
) -> int:
    """Remove the named articles from the collection; returns how many chunks went.

    A name the collection does not hold is an `UnknownSource` error, and then nothing is removed.
    """
    with _writing(config):
        store = open_store(config, embeddings)
        stored = store.sources()
        unknown = [s for s in sources if s not in stored]
        if unknown:
            near = difflib.get_close_matches(unknown[0], list(stored), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else f"; it holds {len(stored)} articles"
            raise UnknownSource(f"the collection {config.collection!r} holds no article named "
                                f"{', '.join(unknown)}{hint}; nothing was removed")
        wanted = list(dict.fromkeys(sources))
        on_remove([Removal(s, stored[s]) for s in wanted])
        return _remove(store, record_manager(config), wanted)


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


def open_for_questions(config: Config, embeddings: Embeddings, *, build: bool = True) -> ChunkStore:
    """The store, opened for reading; built from the configured corpus only if it was never built.

    A collection that exists but is empty (its articles were removed, or an ingest --reset is
    running) is an error saying so, never refilled behind the user's back. With a Chroma server,
    the local keyword index is brought in line with the server when no ingest is writing.
    """
    try:
        store = open_store(config, embeddings, create=False)
    except StoreNotBuilt:
        if not build:
            raise
        dirs = ", ".join(str(d) for d in config.corpus_dirs)
        log.warning("The collection %r has never been built: building it from %s (once; later runs reuse it).",
                    config.collection, dirs)
        try:
            report = ingest(config, embeddings)
        except StoreBusy:
            raise StoreBusy(f"the store at {config.store_dir} is being built by another process; "
                            f"ask again when it has finished") from None
        log.warning("Store built: %s", report.summary().replace("\n", "; "))
        return open_store(config, embeddings, create=False)
    if store.count() == 0:
        if being_written(config):
            raise StoreBusy(f"the collection {config.collection!r} at {config.store_dir} is being rebuilt by "
                            f"another process; ask again when it has finished")
        raise EmptyStore(f"the collection {config.collection!r} at {config.store_dir} holds no articles; "
                         f"add some with: qa ingest PATH")
    if config.chroma_host and store.keywords.count() != store.count():
        try:
            with write_lock(config):
                store.sync_keywords()
        except StoreBusy:
            log.warning("an ingest is writing to %s; the keyword index is synced when it has finished",
                        config.store_dir)
    return store
