"""Chroma server mode against a real `chroma run` subprocess: ingest, ask and eval through it, a
server that is down or goes away mid-run, and a second machine sharing the server."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from qa import cli
from qa.config import Config
from qa.store import StoreError
from qa.eval.run import GATE
from tests.conftest import SEEDS
from tests.support.chroma_server import run_chroma_server

pytestmark = pytest.mark.integration

QUESTION = "Which Russian ambassador did Seoul summon?"
EXPECTED = "Zinoviev"  # Georgy Zinoviev, in the seed about South Korea summoning the ambassador


def _env(monkeypatch, server) -> None:
    monkeypatch.setenv("CHROMA_HOST", server.host)
    monkeypatch.setenv("CHROMA_PORT", str(server.port))
    monkeypatch.setenv("QA_CORPUS", str(SEEDS))
    monkeypatch.setenv("QA_COLLECTION", "served")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """The local part of the store (ingest records, keyword index) of the machine that ingests."""
    return tmp_path_factory.mktemp("machine-a")


@pytest.fixture(scope="module")
def server(tmp_path_factory, store_dir):
    """A real server on a free port, with the seeds ingested into it through `qa ingest`."""
    with run_chroma_server(tmp_path_factory.mktemp("chroma-server")) as server:
        with pytest.MonkeyPatch.context() as mp:
            _env(mp, server)
            assert cli.main(["ingest", "--store", str(store_dir), str(SEEDS)]) == 0
        yield server


@pytest.fixture
def use_server(server, monkeypatch):
    _env(monkeypatch, server)
    server.start()  # a test before may have stopped it
    return server


def ask(capsys, store, question=QUESTION) -> tuple[int, dict | None, str]:
    code = cli.main(["ask", "--offline", "--json", "--store", str(store), question])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


def test_ingest_ask_and_eval_go_through_the_server(use_server, store_dir, capsys, tmp_path):
    stored = use_server.client().get_collection("served").count()
    assert stored > 0
    assert not (store_dir / "chroma").exists()  # the vectors are on the server, not in the folder

    code, answer, _ = ask(capsys, store_dir)
    assert code == 0 and not answer["refused"]
    assert EXPECTED in answer["answer"]

    # Unchanged re-ingest embeds nothing, through the server too.
    assert cli.main(["ingest", "--store", str(store_dir), str(SEEDS)]) == 0
    assert "0 embedded" in capsys.readouterr().out

    output = tmp_path / "eval.json"
    assert cli.main(["eval", "--store", str(store_dir), "--output", str(output), "--gate"]) == 0
    data = json.loads(output.read_text())
    assert data["config"]["store"] == f"{use_server.host}:{use_server.port}"
    assert data["metrics"]["answer_accuracy"] >= GATE["answer_accuracy"]  # as good through the server as locally


def test_server_down_is_one_clear_line_and_loses_nothing(use_server, store_dir, capsys):
    before = use_server.client().get_collection("served").count()
    use_server.stop()
    for argv in (["ask", "--offline", "--store", str(store_dir), QUESTION],
                 ["ingest", "--store", str(store_dir), str(SEEDS)]):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert f"{use_server.host}:{use_server.port}" in err and "chroma run" in err

    use_server.start()
    assert use_server.client().get_collection("served").count() == before
    code, answer, _ = ask(capsys, store_dir)
    assert code == 0 and EXPECTED in answer["answer"]


@pytest.mark.slow
def test_item6_a_paused_server_is_one_clear_line_within_the_timeout(use_server, store_dir, capsys, monkeypatch, minilm):
    """SIGSTOP leaves the port open but nothing answers: without a deadline every call hung forever."""
    from qa.assistant import Assistant

    monkeypatch.setenv("QA_CHROMA_TIMEOUT", "2")
    assistant = Assistant(Config.from_env(store_dir=store_dir, offline=True), minilm, auto_ingest=False)
    group = os.getpgid(use_server.process.pid)
    os.killpg(group, signal.SIGSTOP)
    try:
        for argv in (["ask", "--offline", "--store", str(store_dir), QUESTION],
                     ["ingest", "--store", str(store_dir), str(SEEDS)]):
            started = time.monotonic()
            assert cli.main(argv) == 1
            elapsed = time.monotonic() - started
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and "did not answer within 2 s" in err, err
            assert elapsed < 20, elapsed  # the deadline per call, not forever
        started = time.monotonic()
        with pytest.raises(StoreError, match="did not answer within 2 s"):
            assistant.answer(QUESTION)  # a running app's request ends too
        assert time.monotonic() - started < 20
    finally:
        os.killpg(group, signal.SIGCONT)
    assert EXPECTED in assistant.answer(QUESTION).text  # and carries on once the server is back


def test_server_going_away_mid_session_raises_store_error(use_server, store_dir, minilm):
    from qa.assistant import Assistant

    config = Config.from_env(store_dir=store_dir, offline=True)
    assistant = Assistant(config, minilm, auto_ingest=False)
    assert EXPECTED in assistant.answer(QUESTION).text
    use_server.stop()
    with pytest.raises(StoreError) as caught:
        assistant.answer(QUESTION)
    assert f"{use_server.host}:{use_server.port}" in str(caught.value) and "chroma run" in str(caught.value)
    use_server.start()
    assert EXPECTED in assistant.answer(QUESTION).text  # the same session carries on once it is back


def test_a_second_machine_sharing_the_server_answers(use_server, store_dir, tmp_path, capsys):
    other = tmp_path / "machine-b"  # empty: no records, no keyword index
    code, answer, _ = ask(capsys, other)
    assert code == 0 and not answer["refused"]
    assert EXPECTED in answer["answer"]
    from qa.keywords import KeywordIndex

    synced = KeywordIndex(Config.from_env(store_dir=other).keywords_path)  # keywords-served.sqlite
    assert synced.count() == use_server.client().get_collection("served").count()
    synced.close()


def test_a_second_machine_ingesting_loses_nothing_of_the_first(use_server, store_dir, tmp_path, capsys):
    """Machine B has its own (empty) ingest ledger: its ingest must not treat A's chunks as orphans."""
    collection = use_server.client().get_collection("served")
    before = collection.count()
    corpus_b = tmp_path / "corpus-b"
    corpus_b.mkdir()
    (corpus_b / "b.txt").write_text(
        "A harbour festival drew record crowds on Saturday. Organisers counted 12,000 visitors at the quay."
    )
    assert cli.main(["ingest", "--store", str(tmp_path / "machine-b"), str(corpus_b)]) == 0
    capsys.readouterr()
    assert collection.count() > before  # B's chunks were added ...
    code, answer, _ = ask(capsys, store_dir)  # ... and A's are all still there and answer
    assert code == 0 and EXPECTED in answer["answer"]
    assert collection.count() >= before
