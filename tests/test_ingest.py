"""Ingest semantics (issue 14) and the store's reliability items (issue 13), with fake embeddings
through the real store (persistent Chroma, the SQLite keyword index, LangChain's record manager).

Each issue-13 item's test is named after it: `test_item1_…`, `test_item2_…`, …
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.chunking import sentence_spans
from qa.cli import main
from qa.config import Config
from qa.corpus import clean_article, load_corpus, markdown_to_text, read_article
from qa.ingest import EmptyCorpus, EmptyStore, UnknownSource, ingest, remove_sources
from qa.keywords import KeywordIndex
from qa.store import StoreBusy, open_store, write_lock
from tests.conftest import ROOT, SEEDS

ORIGINAL = "001_d6d462e10cf7b47f.txt"  # the seed about Seoul summoning the Russian ambassador


def config_for(tmp_path: Path, corpus: Path, **changes) -> Config:
    return Config.from_env(store_dir=tmp_path / "store", corpus_dirs=(corpus,), **changes)


def my_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my-folder"
    folder.mkdir()
    for i, topic in enumerate(["harbour festival", "city budget", "school opening"]):
        (folder / f"story{i}.txt").write_text(
            f"A story about the {topic}\n\nThe {topic} was reported on Monday. Officials said it went well. "
            f"Residents told reporters the {topic} mattered to them.\n"
        )
    return folder


def sources(config: Config, embeddings) -> dict[str, int]:
    return open_store(config, embeddings).sources()


# --- issue 14: ingest semantics nobody can trip on ---------------------------------------------


def test_ingesting_a_folder_adds_to_the_seeds_and_says_so(tmp_path, fake_embeddings):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    seeds = set(sources(config, fake_embeddings))
    report = ingest(config, fake_embeddings, [my_folder(tmp_path)])
    assert report.deleted == 0 and report.articles == 3 and report.other_sources == len(seeds) == 5
    assert set(sources(config, fake_embeddings)) == seeds | {"story0.txt", "story1.txt", "story2.txt"}
    assert "5 other articles kept" in report.summary() and "--replace" in report.summary()
    again = ingest(config, fake_embeddings, [tmp_path / "my-folder"])
    assert again.embedded == 0 and again.added == 0 and again.deleted == 0  # unchanged: cheap


def test_replace_names_what_it_removes_before_it_removes_it(tmp_path, fake_embeddings, capsys):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    seen_while_announcing = []
    report = ingest(config, fake_embeddings, [my_folder(tmp_path)], replace=True,
                    on_remove=lambda removals: seen_while_announcing.append(
                        ([r.source for r in removals], set(sources(config, fake_embeddings)))))
    (announced, present_then), = seen_while_announcing
    assert sorted(announced) == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert set(announced) <= present_then  # announced before anything went
    assert set(sources(config, fake_embeddings)) == {"story0.txt", "story1.txt", "story2.txt"}
    assert sorted(report.removed_sources) == sorted(announced)


def test_cli_replace_and_remove_print_what_goes(tmp_path, monkeypatch, capsys, fake_embeddings):
    import qa.embedding

    monkeypatch.setattr(qa.embedding, "MiniLMEmbeddings", lambda: fake_embeddings)
    store = str(tmp_path / "store")
    assert main(["ingest", "--store", store, str(SEEDS)]) == 0
    assert main(["ingest", "--store", store, str(my_folder(tmp_path))]) == 0
    out = capsys.readouterr()
    assert "removing" not in out.err and "collection 'news': 8 articles" in out.out

    assert main(["remove", "--store", store, "story1.txt"]) == 0
    out = capsys.readouterr()
    assert "removing 1 articles" in out.err and "story1.txt" in out.err

    assert main(["remove", "--store", store, "story9.txt"]) == 2  # unknown: an error, nothing removed
    err = capsys.readouterr().err
    assert "no article named story9.txt" in err and "story0.txt" in err  # a close name is suggested
    assert len(sources(Config.from_env(store_dir=Path(store)), fake_embeddings)) == 7

    assert main(["ingest", "--store", store, "--replace", str(tmp_path / "my-folder")]) == 0
    out = capsys.readouterr()
    assert "removing 5 articles" in out.err and ORIGINAL in out.err
    assert "collection 'news': 3 articles" in out.out


def test_remove_of_an_unknown_source_removes_nothing(tmp_path, fake_embeddings):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    before = sources(config, fake_embeddings)
    with pytest.raises(UnknownSource, match="nothing was removed"):
        remove_sources(config, fake_embeddings, [ORIGINAL, "no-such.txt"])
    assert sources(config, fake_embeddings) == before
    assert remove_sources(config, fake_embeddings, [ORIGINAL]) == before[ORIGINAL]
    assert ORIGINAL not in sources(config, fake_embeddings)


def test_named_collections_hold_separate_corpora(tmp_path, fake_embeddings):
    news = config_for(tmp_path, SEEDS)
    other = news.with_(collection="local-news")
    ingest(news, fake_embeddings)
    ingest(other, fake_embeddings, [my_folder(tmp_path)])
    assert len(sources(news, fake_embeddings)) == 5
    assert set(sources(other, fake_embeddings)) == {"story0.txt", "story1.txt", "story2.txt"}
    # An unchanged re-ingest of each embeds nothing: the ledgers are kept apart too.
    assert ingest(news, fake_embeddings).embedded == ingest(other, fake_embeddings, [tmp_path / "my-folder"]).embedded == 0


def test_an_empty_corpus_is_an_error_and_changes_nothing(tmp_path, fake_embeddings, monkeypatch, capsys):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    before = sources(config, fake_embeddings)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("")
    for kwargs in ({}, {"replace": True}, {"reset": True}):
        with pytest.raises(EmptyCorpus, match="no readable article"):
            ingest(config, fake_embeddings, [empty], **kwargs)
    assert sources(config, fake_embeddings) == before

    import qa.embedding

    monkeypatch.setattr(qa.embedding, "MiniLMEmbeddings", lambda: fake_embeddings)
    assert main(["ingest", "--store", str(config.store_dir), str(empty)]) == 2
    err = capsys.readouterr().err
    assert "no readable article" in err and "Traceback" not in err


def test_a_question_never_refills_an_emptied_store(tmp_path, fake_embeddings):
    config = config_for(tmp_path, SEEDS)
    Assistant(config, fake_embeddings)  # never built: the first question builds it from the corpus
    assert len(sources(config, fake_embeddings)) == 5
    remove_sources(config, fake_embeddings, list(sources(config, fake_embeddings)))
    with pytest.raises(EmptyStore, match="holds no articles; add some with: qa ingest"):
        Assistant(config, fake_embeddings)
    assert sources(config, fake_embeddings) == {}  # not refilled with the seeds


def test_markdown_becomes_plain_text(tmp_path):
    md = tmp_path / "council.md"
    md.write_text(
        "---\ndate: 2024-10-29\n---\n# City council approves the **harbour** budget\n\n"
        "The council voted 7-2 on Monday, according to [the council's\npress release](https://example.org/p). "
        "The *new* budget funds `two` ferries.\n\n## What comes next\n\n- Work starts in May.\n"
    )
    article = read_article(md)
    assert article.title == "City council approves the harbour budget"
    assert article.date == "2024-10-29"
    for mark in ("#", "[", "](", "https://", "**", "*", "`"):
        assert mark not in article.text, mark
    sentences = [article.text[s:e] for s, e in sentence_spans(article.text)]
    assert "The council voted 7-2 on Monday, according to the council's press release." in sentences
    assert "What comes next" in sentences


# --- issue 13 ------------------------------------------------------------------------------------


def test_item1_relative_corpus_path_keeps_an_article_that_cannot_be_read_now(tmp_path, corpus, fake_embeddings,
                                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config.from_env(store_dir=Path("store"), corpus_dirs=(Path("corpus"),))
    ingest(config, fake_embeddings)
    before = sources(config, fake_embeddings)
    (corpus / ORIGINAL).write_text("")  # empty for a moment while an editor saves
    for replace in (False, True):
        report = ingest(config, fake_embeddings, replace=replace)
        assert report.deleted == 0, report.summary()
        assert sources(config, fake_embeddings) == before
    assert report.kept_sources == [ORIGINAL]


def test_item2_a_second_writer_is_refused_and_a_reader_never_writes(tmp_path, fake_embeddings):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    before = sources(config, fake_embeddings)
    with write_lock(config):  # another writer holds the store (as `qa ingest --reset` would)
        with pytest.raises(StoreBusy, match="another process"):
            ingest(config, fake_embeddings, [my_folder(tmp_path)])
        with pytest.raises(StoreBusy):
            remove_sources(config, fake_embeddings, [ORIGINAL])
        open_store(config, fake_embeddings).clear()  # the writer has emptied it, mid-reset
        with pytest.raises(StoreBusy, match="being rebuilt"):
            Assistant(config, fake_embeddings)  # a question does not build the seeds into it
        assert sources(config, fake_embeddings) == {}
    ingest(config, fake_embeddings)
    assert sources(config, fake_embeddings) == before
    store = open_store(config, fake_embeddings)
    assert store.count() == store.keywords.count() == sum(before.values())


def test_item2_a_running_process_sees_a_replaced_keyword_index(tmp_path):
    path = tmp_path / "keywords.sqlite"
    running = KeywordIndex(path)
    running.upsert(["a"], ["the old harbour text"], [{"source": "old.txt"}])
    assert running.search("harbour", 5)
    # Another process deletes the index and builds a new one (what `qa ingest --reset` used to do).
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    other = KeywordIndex(path)
    other.upsert(["b"], ["the new ferry text"], [{"source": "new.txt"}])
    other.close()
    assert [i for i, _ in running.search("ferry", 5)] == ["b"]
    assert running.search("harbour", 5) == [] and running.sources() == {"new.txt": 1}


def test_item3_a_copy_under_another_name_is_stored_once(tmp_path, corpus, fake_embeddings):
    config = config_for(tmp_path, corpus)
    ingest(config, fake_embeddings)
    before = sources(config, fake_embeddings)
    (corpus / "000_copy.txt").write_bytes((corpus / ORIGINAL).read_bytes())  # sorts before the original
    report = ingest(config, fake_embeddings, replace=True)
    assert sources(config, fake_embeddings) == before and report.added == report.deleted == 0
    assert any("copy of " + ORIGINAL in reason for _, reason in report.skipped_files)
    # A copy arriving from another folder is caught against the store as well.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "renamed.txt").write_bytes((corpus / ORIGINAL).read_bytes())
    report = ingest(config, fake_embeddings, [elsewhere])
    assert sources(config, fake_embeddings) == before
    assert any(f"copy of {ORIGINAL}, already in the collection" in r for _, r in report.skipped_files)


def test_item4_a_file_name_that_is_not_utf8_is_skipped_with_a_safe_warning(tmp_path, corpus, fake_embeddings):
    bad = os.path.join(os.fsencode(corpus), b"caf\xe9-\x1b[2J.txt")
    with open(bad, "wb") as f:
        f.write((SEEDS / ORIGINAL).read_bytes().replace(b"Seoul", b"Busan"))
    warnings = []
    report = ingest(config_for(tmp_path, corpus), fake_embeddings, on_warning=warnings.append)
    assert report.articles == 5 and report.added > 0
    (line,) = [w for w in warnings if "not valid UTF-8" in w]
    assert "caf\\xe9-\\x1b[2J.txt" in line and line.isprintable()


def test_item5_an_impossible_date_is_dropped_with_a_warning(tmp_path, fake_embeddings):
    folder = tmp_path / "dates"
    folder.mkdir()
    (folder / "leap.txt").write_text("Leap day story\nPublished: 2024-02-30\nThe council met. It voted.\n")
    (folder / "fine.txt").write_text("Fine day story\nPublished: 2024-02-29\nThe mayor spoke. She left.\n")
    warnings = []
    ingest(config_for(tmp_path, folder), fake_embeddings, on_warning=warnings.append)
    articles = {a.source: a for a in load_corpus([folder]).articles}
    assert articles["leap.txt"].date is None and articles["fine.txt"].date == "2024-02-29"
    assert any("leap.txt" in w and "2024-02-30" in w and "not a real day" in w for w in warnings)
    assert clean_article("Story\nPublished: 31 April 2024\nText here.")[1]["date"] is None


def test_item8_sentence_spans_take_linear_time():
    line = "Mr. Kim met the U.S. envoy at 10 a.m. in Seoul. Officials said the talks went well! " * 1000
    pathological = "." * 80_000 + " A"  # one long run of dots: every start used to rescan it
    for text in (line[:80_000], pathological):
        started = time.perf_counter()
        sentence_spans(text)
        small = time.perf_counter() - started
        started = time.perf_counter()
        sentence_spans(text * 4)
        large = time.perf_counter() - started
        assert small < 0.5 and large < 2.0, (small, large)  # was 8 s for 80k characters on one line
    spans = sentence_spans(line)[:2]
    assert [line[s:e] for s, e in spans] == ["Mr. Kim met the U.S. envoy at 10 a.m. in Seoul.",
                                             "Officials said the talks went well!"]


def test_item10_the_document_frequency_cache_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(KeywordIndex, "DF_CACHE_ENTRIES", 500)
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.upsert(["a"], ["harbour ferry budget"], [{"source": "a.txt"}])
    for i in range(2_000):
        index.doc_freq(f"word{i}")
    assert index.df_cache_size() == 500
    assert index.doc_freq("harbour") == 1 and index.doc_freq("harbour") == 1
    assert index.df_hits >= 1


def test_item13_folders_nested_1500_deep_are_read(tmp_path):
    root = tmp_path / "deep"
    folder = root
    root.mkdir()
    levels = []
    for _ in range(1500):  # one at a time: os.makedirs itself recurses once per level
        folder = folder / "d"
        folder.mkdir()
        levels.append(folder)
    bottom = folder / "bottom.txt"
    bottom.write_text("A story at the bottom\n\nIt was found very deep. Nobody expected it.\n")
    try:
        loaded = load_corpus([root])
        assert [a.source.count("/") for a in loaded.articles] == [1500] and not loaded.skipped
    finally:  # pytest's own clean-up (shutil.rmtree) recurses once per level and would overflow
        bottom.unlink()
        for level in reversed(levels):
            level.rmdir()


def test_markdown_to_text_drops_images_code_and_html():
    text = markdown_to_text("Intro text here.\n\n![a chart](c.png)\n\n```\ncode()\n```\n\n<div>x</div>\n\nEnd.")
    assert text == "Intro text here.\n\nEnd."


# --- issue 13 with real processes: the CLI as a user runs it -----------------------------------

def _cli(args: list[str], *, limit_bytes: int | None = None, wrap: list[str] = ()) -> subprocess.CompletedProcess:
    """`qa ARGS` in a new process (offline), optionally under `ulimit -f` or inside `wrap`."""

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([*wrap, sys.executable, "-m", "qa.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "QA_OFFLINE": "1"},
                          preexec_fn=limit if limit_bytes else None)


@pytest.mark.integration
@pytest.mark.slow
def test_item13_a_full_disk_during_ingest_is_one_line_and_damages_nothing(tmp_path):
    store = tmp_path / "store"
    result = _cli(["ingest", "--store", str(store), str(SEEDS)], limit_bytes=300_000)  # like `ulimit -f 300`
    err = result.stderr.strip()
    assert result.returncode == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "ran out of space writing the store" in err and "nothing stored was lost" in err
    result = _cli(["ingest", "--store", str(store), str(SEEDS)])  # with room again, it completes
    assert result.returncode == 0, result.stderr
    config = Config.from_env(store_dir=store)
    from langchain_core.embeddings import DeterministicFakeEmbedding

    opened = open_store(config, DeterministicFakeEmbedding(size=384))
    from qa.ingest import record_manager

    assert opened.ids() == opened.keywords.ids() == set(record_manager(config).list_keys())
    assert len(opened.sources()) == 5


def _read_only_mount_works() -> bool:
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not _read_only_mount_works(), reason="needs `unshare -m` to mount the store read-only")
def test_item12_a_read_only_store_answers_and_refuses_writes_plainly(tmp_path):
    store = tmp_path / "store"
    assert _cli(["ingest", "--store", str(store), str(SEEDS)]).returncode == 0
    mount = tmp_path / "read-only"
    mount.mkdir()
    # A private mount namespace: the store is bound read-only at `mount` (root ignores chmod).
    wrap = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"',
            str(store), str(mount)]
    asked = _cli(["ask", "--store", str(mount), "Which Russian ambassador did Seoul summon?"], wrap=wrap)
    assert asked.returncode == 0 and "Zinoviev" in asked.stdout, asked.stderr
    assert "damaged" not in asked.stderr and "--reset" not in asked.stderr
    for args in (["ingest", "--store", str(mount), str(SEEDS)], ["remove", "--store", str(mount), ORIGINAL]):
        wrote = _cli(args, wrap=wrap)
        err = wrote.stderr.strip()
        assert wrote.returncode == 1 and "read-only" in err and len(err.splitlines()) == 1, err
        assert "--reset" not in err and "damaged" not in err


def test_reset_rebuilds_a_store_too_damaged_to_open(tmp_path, fake_embeddings):
    config = config_for(tmp_path, SEEDS)
    ingest(config, fake_embeddings)
    config.keywords_path.write_bytes(b"this is not a database" * 100)
    report = ingest(config, fake_embeddings, reset=True)
    store = open_store(config, fake_embeddings)
    assert report.added == store.count() == store.keywords.count() > 0 and len(store.sources()) == 5
