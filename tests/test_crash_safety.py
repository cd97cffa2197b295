"""An ingest killed with SIGKILL at random moments leaves a store that the next ingest makes whole.

The corpus is the seeds copied 40 times with a distinct closing line each, so the ingest has about
1,600 chunks to embed and takes long enough to be killed while loading, embedding or writing. When a
run finishes before its kill, a new edition of the corpus changes every chunk, so later kills also land
while old chunks are being replaced and removed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from qa import Assistant, Config
from qa.ingest import chunk_documents, record_manager
from qa.store import open_store
from qa.corpus import load_corpus
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.integration

COPIES = 40
KILLS = 12


def make_corpus(folder: Path, edition: int = 0) -> set[str]:
    """The copies; a new `edition` changes every chunk (its line opens each article, shifting every
    span), so an ingest after it has the whole corpus to replace again."""
    folder.mkdir(exist_ok=True)
    for i in range(COPIES):
        for seed in sorted(SEEDS.glob("*.txt")):
            name = f"{i:02d}_{seed.name}"
            note = f"\nEditor's note: this is copy number {i} of the report, filed as {name}.\n"
            edition_line = f"Edition {'I' * (edition + 1)} of the digest."  # its length moves every span
            (folder / name).write_text(edition_line + "\n\n" + seed.read_text() + note)
    return {p.name for p in folder.glob("*.txt")}


def start_ingest(corpus: Path, store: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--store", str(store)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "QA_OFFLINE": "1"},
    )


def half_written(store: Path) -> bool:
    """Whether the keyword index and the ingest records disagree (a batch was cut off mid-write).

    Both are plain SQLite files, read here without opening Chroma in this process."""
    def ids(path: Path, sql: str) -> set[str]:
        if not path.exists():
            return set()
        with sqlite3.connect(path, timeout=30) as db:
            try:
                return {row[0] for row in db.execute(sql)}
            except sqlite3.OperationalError:  # killed before the table was made
                return set()

    keywords = ids(store / "keywords.sqlite", "SELECT id FROM chunks")
    records = ids(store / "records.sqlite", "SELECT key FROM upsertion_record")
    return keywords != records


def assert_consistent(config: Config, embeddings, expected_sources: set[str], expected_chunks: int) -> None:
    store = open_store(config, embeddings)
    manager = record_manager(config)
    chroma_ids, keyword_ids, record_keys = store.ids(), store.keywords.ids(), set(manager.list_keys())
    assert chroma_ids == keyword_ids == record_keys
    assert store.count() == store.keywords.count() == len(manager.list_keys()) == expected_chunks
    assert set(store.sources()) == expected_sources
    metas = store.collection.get(include=["metadatas"])["metadatas"]
    per_chunk = Counter((m["source"], m["chunk_id"]) for m in metas)
    assert max(per_chunk.values()) == 1, "a chunk is stored twice"
    assert sum(store.sources().values()) == expected_chunks


def test_ingest_survives_repeated_sigkill(tmp_path, minilm):
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    expected_sources = make_corpus(corpus)
    config = Config.from_env(store_dir=store, corpus_dirs=(corpus,))
    edition = 0

    rng = random.Random(8)
    kills, finished, delays, mended = 0, 0, [], 0
    started = time.perf_counter()
    while kills < KILLS:
        assert finished < 8, "ingest kept finishing before the kill; make the corpus bigger"
        delay = rng.uniform(0.5, 9.0)
        proc = start_ingest(corpus, store)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            delays.append(round(delay, 1))
            mended += half_written(store)  # the next run's repair() must mend it
        else:
            # A run the kill came too late for must have succeeded on what the last kill left.
            assert proc.returncode == 0, err.decode(errors="replace")
            finished += 1
            edition += 1  # the store caught up: give the next runs a whole corpus to replace
            make_corpus(corpus, edition)

    expected_chunks = len(list(chunk_documents(load_corpus([corpus]).articles, config)))
    final = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--store", str(store)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert final.returncode == 0 and "Traceback" not in final.stderr, final.stderr
    again = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--store", str(store)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0 and " 0 added" in again.stdout and "0 embedded" in again.stdout, again.stdout
    print(f"\ncrash safety: {kills} SIGKILLs survived (delays {delays} s), {finished} runs finished first; "
          f"{mended} kills left the store inconsistent (keyword index != records) for the next run to mend; "
          f"final ingest: {final.stdout.strip()}; {expected_chunks} chunks from {len(expected_sources)} articles; "
          f"{time.perf_counter() - started:.0f} s in all")

    assert_consistent(config, minilm, expected_sources, expected_chunks)
    assistant = Assistant(config, minilm, auto_ingest=False)
    answer = assistant.answer("Which Russian ambassador did Seoul summon?")
    assert "Zinoviev" in answer.text and answer.citations[0].source.endswith("001_d6d462e10cf7b47f.txt")
