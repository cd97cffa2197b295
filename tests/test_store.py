"""Ingest into a real persistent Chroma store, with fake embeddings (the model is not the point)."""

from pathlib import Path

import pytest

from qa.config import Config
from qa.ingest import ingest
from qa.store import StoreError, open_store
from qa.types import Chunk


def config_for(tmp_path: Path, corpus: Path) -> Config:
    return Config.from_env(store_dir=tmp_path / "store", corpus_dirs=(corpus,))


def test_ingest_is_idempotent_and_incremental(tmp_path, corpus, fake_embeddings):
    config = config_for(tmp_path, corpus)
    first = ingest(config, fake_embeddings)
    assert first.added == first.chunks > 0 and first.embedded == first.chunks

    again = ingest(config, fake_embeddings)
    assert again.added == 0 and again.deleted == 0 and again.embedded == 0

    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text(changed.read_text() + "\nA brand new closing sentence was added to this article.\n")
    after_change = ingest(config, fake_embeddings)
    store = open_store(config, fake_embeddings)
    # Only the changed file's chunks were touched.
    assert 0 < after_change.added <= store.sources()[changed.name]
    assert after_change.embedded == after_change.added

    gone = sorted(corpus.glob("*.txt"))[1]
    gone.unlink()
    assert ingest(config, fake_embeddings).deleted == 0  # adding never removes ...
    announced = []
    after_delete = ingest(config, fake_embeddings, replace=True, on_remove=announced.extend)  # ... replacing does
    store = open_store(config, fake_embeddings)
    assert gone.name not in store.sources() and [r.source for r in announced] == [gone.name]
    assert after_delete.embedded == 0 and after_delete.deleted > 0
    assert store.count() == store.keywords.count() == sum(store.sources().values())


def test_unreadable_file_keeps_its_earlier_chunks(tmp_path, corpus, fake_embeddings):
    config = config_for(tmp_path, corpus)
    ingest(config, fake_embeddings)
    victim = sorted(corpus.glob("*.txt"))[0]
    before = open_store(config, fake_embeddings).sources()[victim.name]
    victim.write_bytes(b"\xff\xfe\x00garbage")
    report = ingest(config, fake_embeddings, replace=True)
    assert victim.name in report.kept_sources
    assert open_store(config, fake_embeddings).sources()[victim.name] == before


def test_reset_rebuilds(tmp_path, corpus, fake_embeddings):
    config = config_for(tmp_path, corpus)
    first = ingest(config, fake_embeddings)
    again = ingest(config, fake_embeddings, reset=True)
    assert again.added == first.chunks


def test_damaged_store_names_path_and_fix(tmp_path, fake_embeddings):
    store_dir = tmp_path / "store"
    (store_dir / "chroma").mkdir(parents=True)
    (store_dir / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as err:
        open_store(Config.from_env(store_dir=store_dir), fake_embeddings)
    assert str(store_dir / "chroma") in str(err.value) and "qa ingest --reset" in str(err.value)


def test_keyword_index_resyncs_from_collection(tmp_path, corpus, fake_embeddings):
    config = config_for(tmp_path, corpus)
    ingest(config, fake_embeddings)
    store = open_store(config, fake_embeddings)
    store.keywords.clear()
    assert store.sync_keywords() is True
    assert store.keywords.ids() == store.ids()


def test_publication_time_and_update_survive_the_store_and_add_nothing_when_absent(tmp_path, fake_embeddings):
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Port reopens\n- Published Date: 07:38 | 29 October 2024\n"
                                  "- Modified Date: 09:15 | 30 October 2024\nThe port reopened on Monday after storms.\n")
    (corpus / "b.txt").write_text("Bridge closes\nThe bridge closed on Tuesday for repairs to its deck.\n")
    config = config_for(tmp_path, corpus)
    ingest(config, fake_embeddings)
    found = open_store(config, fake_embeddings).dense(fake_embeddings.embed_query("port"), k=4)
    chunks = {doc.metadata["source"]: Chunk.from_metadata(doc.page_content, doc.metadata) for doc, _ in found}
    assert (chunks["a.txt"].time, chunks["a.txt"].updated) == ("07:38", "2024-10-30 09:15")
    # An article that states neither keeps the metadata (and so the record hash) it had before they were kept.
    assert {"time", "updated"}.isdisjoint(chunks["b.txt"].metadata())
