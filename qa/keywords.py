"""The BM25 keyword index: SQLite FTS5 on disk, updated incrementally with the vector store.

Persisting it means a large store is never re-tokenised on process start; SQLite's `bm25()` is the
ranking function and the Porter stemmer folds "summoned" onto "summon".
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections import Counter, OrderedDict
from pathlib import Path

from qa.text import STOPWORDS, fold, index_terms, words

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, text TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='rowid', tokenize='porter unicode61'
);
-- source_text() and sources() look chunks up by article; without this they scan every chunk.
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(json_extract(metadata, '$.source'));
-- The index's own vocabulary (Porter stems and how many chunks hold each), for spelling correction.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
"""


def fts_query(text: str) -> str | None:
    """An FTS5 OR-query of the content words of `text`, each quoted so no word is read as syntax.

    >>> fts_query("Which Russian ambassador did Seoul summon?")
    '"russian" OR "ambassador" OR "seoul" OR "summon"'
    >>> fts_query("what is it?") is None
    True
    """
    words = [w for w in index_terms(text) if w not in STOPWORDS]
    words = list(dict.fromkeys(words))[:64]
    return " OR ".join(f'"{w}"' for w in words) or None


def porter_stems(words: list[str]) -> dict[str, str]:
    """Each word's term as the index stems it: SQLite's own Porter tokenizer, so the two never differ.

    >>> porter_stems(["ministry", "Ministries", "summoned"])
    {'ministry': 'ministri', 'Ministries': 'ministri', 'summoned': 'summon'}
    """
    words = list(dict.fromkeys(words))
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE w USING fts5(word, tokenize='porter unicode61')")
        db.executemany("INSERT INTO w(rowid, word) VALUES (?, ?)", enumerate(words))
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(w, 'instance')")
        return {words[doc]: term for term, doc in db.execute("SELECT term, doc FROM v")}
    finally:
        db.close()


def _identity(path: Path) -> tuple[int, int]:
    """Which file is at `path` now (device, inode); (0, 0) when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


def _stat(path: Path) -> os.stat_result | tuple:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return os.stat_result((0,) * 10)


class KeywordIndex:
    """Chunk texts and metadata with a full-text index over the texts.

    Another process may rewrite the file (an ingest with `--reset` on an old store, a copied-in
    backup): before each use a thread checks that its connection still points at the file now at
    `path`, and reconnects when it does not, so a running app never searches a deleted index.
    """

    # Distinct words whose document frequency is remembered (answers ask for the same words again
    # and again). Each entry is a word and an int, ~150 bytes: 20,000 of them are about 3 MB, and
    # a question has at most 64 content words (fts_query), so a few hundred questions fit.
    DF_CACHE_ENTRIES = 20_000

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._cache: tuple | None = None
        self._df: OrderedDict[str, int] = OrderedDict()
        self._df_version: tuple | None = None
        self.df_hits = self.df_misses = 0
        # On a read-only filesystem (or folder) the index is only read, as an immutable file.
        self.read_only = self.path.exists() and not os.access(self.path.parent, os.W_OK)
        names = set(re.findall(r"IF NOT EXISTS (\w+)", _SCHEMA))  # every object the schema makes
        marks = ",".join("?" * len(names))
        found = self._db().execute(f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})", sorted(names))
        if found.fetchone()[0] < len(names):
            with self._write() as db:  # only a new index is written here: a read-only one still opens
                db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        identity = _identity(self.path)
        db = getattr(self._local, "db", None)
        if db is not None and identity != (0, 0) and self._local.identity != identity:
            db.close()  # another file was put in its place since this thread connected
            db = None
        if db is None:
            if self.read_only:  # immutable: SQLite needs no -shm file, so a read-only folder can be read
                db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, timeout=30)
                self._local.db, self._local.identity = db, _identity(self.path)
                return db
            db = sqlite3.connect(self.path, timeout=30)
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            self._local.identity = _identity(self.path)
        return db

    def _write(self) -> sqlite3.Connection:
        self._cache = None
        return self._db()  # used as a context manager: one transaction, committed or rolled back

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        with self._write() as db:
            db.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in ids])
            db.executemany(
                "INSERT INTO chunks (id, text, metadata) VALUES (?, ?, ?)",
                [(i, t, json.dumps(m, sort_keys=True)) for i, t, m in zip(ids, texts, metadatas)],
            )

    def delete(self, ids: list[str]) -> None:
        with self._write() as db:
            db.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in ids])

    def clear(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM chunks")

    def count(self) -> int:
        return self._cached("count", lambda db: db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def _cached(self, name: str, compute):
        """A value recomputed only when the database files changed (asked per question; on a large
        store a scan costs tens of ms). Shared by all threads: LangChain runs each chain step on a
        fresh thread, so a per-connection cache would be rebuilt on every question."""
        version = self.version()
        with self._cache_lock:
            if self._cache is None or self._cache[0] != version:
                self._cache = (version, {})
            values = self._cache[1]
        if name not in values:
            values[name] = compute(self._db())
        return values[name]

    def version(self) -> tuple:
        """Changes whenever the index's files do (a write here or in another process)."""
        return tuple(
            (st.st_ino, st.st_mtime_ns, st.st_size)
            for st in (_stat(self.path), _stat(Path(f"{self.path}-wal")))
        )

    def sources(self) -> dict[str, int]:
        """source -> number of chunks."""
        rows = self._db().execute(
            "SELECT json_extract(metadata, '$.source'), count(*) FROM chunks GROUP BY 1"
        ).fetchall()
        return {s: n for s, n in rows}

    def ids_of(self, sources: list[str]) -> set[str]:
        """The ids of every chunk of these articles."""
        out: set[str] = set()
        for start in range(0, len(sources), 500):
            part = sources[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(row[0] for row in self._db().execute(
                f"SELECT id FROM chunks WHERE json_extract(metadata, '$.source') IN ({marks})", part))
        return out

    def chunk_ids_by_source(self) -> dict[str, list[str]]:
        """source -> the content-derived chunk ids of its chunks, sorted (an article's fingerprint)."""
        out: dict[str, list[str]] = {}
        for source, chunk_id in self._db().execute(
            "SELECT json_extract(metadata, '$.source'), json_extract(metadata, '$.chunk_id') FROM chunks"
        ):
            out.setdefault(source, []).append(chunk_id)
        return {s: sorted(ids) for s, ids in out.items()}

    def ids(self) -> set[str]:
        return {row[0] for row in self._db().execute("SELECT id FROM chunks")}

    def get(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        """id -> (text, metadata) for the ids that exist."""
        out: dict[str, tuple[str, dict]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for i, text, meta in self._db().execute(
                f"SELECT id, text, metadata FROM chunks WHERE id IN ({marks})", part
            ):
                out[i] = (text, json.loads(meta))
        return out

    def in_metadata(self, word: str) -> bool:
        """Does any article's title or publisher hold this word (e.g. a wire agency's name)?"""
        word = re.sub(r"'s$", "", word.strip())
        if not word:
            return False
        names = self._cached("names", lambda db: "\n".join(
            f"{t or ''}\n{p or ''}" for t, p in db.execute(
                "SELECT DISTINCT json_extract(metadata, '$.title'), json_extract(metadata, '$.publisher') "
                "FROM chunks")).lower())
        return word.lower() in names

    def source_text(self, source: str) -> str:
        """All stored chunk texts of one article, joined (overlaps repeat; fine for word look-ups)."""
        rows = self._db().execute(
            "SELECT text FROM chunks WHERE json_extract(metadata, '$.source') = ?", (source,)
        ).fetchall()
        return "\n".join(r[0] for r in rows)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(id, score) of the best `k` chunks by BM25, best first; higher score is better."""
        match = fts_query(query)
        if not match:
            return []
        rows = self._db().execute(
            "SELECT c.id, -bm25(chunks_fts) AS score FROM chunks_fts "
            "JOIN chunks c ON c.rowid = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, k),
        ).fetchall()
        return [(i, float(s)) for i, s in rows]

    def doc_freq(self, word: str) -> int:
        """In how many chunks `word` (stemmed as the index stems) occurs."""
        # The index splits "10,000" into "10" "000": ask for the same tokens as a phrase.
        phrase = " ".join(index_terms(word))
        if not phrase:
            return 0
        # Counting a common word's postings on a large index takes milliseconds; answers ask for the
        # same words again and again, so the counts are kept (the DF_CACHE_ENTRIES most recently
        # used) until the index changes.
        version = self.version()
        with self._cache_lock:
            if self._df_version != version:
                self._df.clear()
                self._df_version = version
            if phrase in self._df:
                self._df.move_to_end(phrase)
                self.df_hits += 1
                return self._df[phrase]
        n = self._db().execute(
            "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{phrase}"',)
        ).fetchone()[0]
        with self._cache_lock:
            self.df_misses += 1
            if self._df_version == version:
                self._df[phrase] = n
                while len(self._df) > self.DF_CACHE_ENTRIES:
                    self._df.popitem(last=False)
        return n

    def df_cache_size(self) -> int:
        """How many document frequencies are remembered now (at most DF_CACHE_ENTRIES)."""
        return len(self._df)

    def together(self, first: str, second: str) -> bool:
        """Does some chunk hold both words (each stemmed as the index stems)?"""
        a, b = (" ".join(index_terms(w)) for w in (first, second))
        if not a or not b:
            return False
        return self._cached(f"and:{a}|{b}", lambda db: db.execute(
            "SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1", (f'"{a}" AND "{b}"',)).fetchone() is not None)

    def written(self, term: str, chunks: int = 5) -> list[str]:
        """The words of the articles that the index folds onto `term` (a Porter stem), as written, the
        most frequent first ("ministri" -> "ministry", "Ministry", "ministries"), read from a few chunks
        holding it: a spelling correction is said and searched as a word, not as a stem."""
        rows = self._db().execute(
            "SELECT c.text FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ? LIMIT ?",
            (f'"{term}"', chunks),
        ).fetchall()
        seen = Counter(w for (text,) in rows for w in words(text) if fold(w[:1]).lower() == term[:1])
        stems = porter_stems(list(seen))
        return sorted((w for w in seen if stems.get(w) == term), key=lambda w: (-seen[w], w))

    def terms(self) -> dict[str, int]:
        """Every indexed term (a Porter stem) and in how many chunks it occurs; kept until the index
        changes (listing a large vocabulary takes a few hundred milliseconds)."""
        return self._cached("terms", lambda db: dict(db.execute("SELECT term, doc FROM chunks_vocab")))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
