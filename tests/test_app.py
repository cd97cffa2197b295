"""The web chat (app.py, qa/webui.py): settings, rendering, error and refusal display, login, binding,
the `ask` API through gradio_client, and 20 clients at once."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

import app  # app.py sits at the repo root, on pytest's pythonpath
from qa import webui
from qa.types import Answer, Chunk, Citation, Passage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(demo, settings: app.WebSettings):
    """The app served on `settings`, closed afterwards whatever happens."""
    demo.launch(**app.launch_options(settings), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://{settings.host}:{settings.port}/"
    finally:
        demo.close()


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on `port` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


# --- settings ------------------------------------------------------------------------------
def test_defaults_bind_loopback_port_7860_without_login():
    assert app.parse_settings([], env={}) == app.WebSettings(host="127.0.0.1", port=7860, auth=None)


def test_environment_then_flags():
    env = {"QA_HOST": "0.0.0.0", "QA_PORT": "9000", "QA_AUTH": "ann:s3:cret"}
    assert app.parse_settings([], env=env) == app.WebSettings("0.0.0.0", 9000, ("ann", "s3:cret"))
    flags = ["--host", "127.0.0.2", "--port", "9001", "--auth", "bob:pw"]
    assert app.parse_settings(flags, env=env) == app.WebSettings("127.0.0.2", 9001, ("bob", "pw"))


@pytest.mark.parametrize("env", [{"QA_AUTH": "no-colon"}, {"QA_AUTH": ":pw"}, {"QA_PORT": "eighty"}])
def test_bad_settings_exit_2(env, capsys):
    with pytest.raises(SystemExit) as stop:
        app.parse_settings([], env=env)
    assert stop.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_examples_from_environment():
    assert app.examples(env={}) == list(app.DEFAULT_EXAMPLES)
    assert app.examples(env={"QA_EXAMPLES": " Who? | What happened? ||"}) == ["Who?", "What happened?"]


# --- rendering -----------------------------------------------------------------------------
def _chunk(source: str, text: str, title: str | None = "A title", date: str | None = "2024-10-18") -> Chunk:
    return Chunk(id=f"id-{source}", source=source, text=text, start=0, end=len(text), title=title, date=date)


def test_markup_in_questions_and_articles_is_escaped():
    assert "<script>" not in webui.md_text("<script>alert(1)</script>")
    evil = _chunk("evil<img src=x onerror=alert(1)>.txt", "Before <script>x()</script> quoted ${1+1} after.")
    start = evil.text.index("<script>")
    citation = Citation.of(1, evil, start, evil.text.index(" after"))
    html = webui.sources_html(Answer(text="Quoted. [1]", refused=False, citations=[citation]))
    assert "<script>" not in html and "<img" not in html and "${" not in html
    assert "Before <mark>&lt;script&gt;x()&lt;/script&gt; quoted &#36;{1+1}</mark> after." in html


def test_sources_panel_lists_only_cited_passages_as_citations():
    cited = _chunk("001_a.txt", "Seoul summoned the ambassador. He said nothing.")
    other = _chunk("002_b.txt", "Something else entirely.", title=None, date=None)
    answer = Answer(
        text="Seoul summoned the ambassador. [1]",
        refused=False,
        citations=[Citation.of(1, cited, 0, 30)],
        retrieved=[Passage(cited, 0.9), Passage(other, 0.5)],
    )
    html = webui.sources_html(answer)
    head, _, tail = html.partition("<details")
    assert "[1]" in head and "001_a.txt" in head and "A title" in head and "2024-10-18" in head
    assert "<mark>Seoul summoned the ambassador.</mark> He said nothing." in head
    assert "002_b.txt" not in head and "002_b.txt" in tail and "Other retrieved passages (1)" in tail


def test_chat_bubble_marks_refusal_conflict_notice_unsupported_and_backend():
    answer = Answer(
        text="About 3,000 troops. [1] Maybe 10,000. [2]",
        refused=False,
        backend="llm:test-model",
        notice="the language model was slow",
        unsupported=["Maybe 10,000. [2]"],
        conflict=True,
    )
    bubble = webui.chat_answer(answer)
    assert "Sources disagree" in bubble
    assert "10,000\\. \\[2\\] *(" + webui.UNSUPPORTED_MARK + ")*" in bubble
    assert "the language model was slow" in bubble and "llm\\:test\\-model" in bubble
    refusal = webui.chat_answer(Answer(text="The articles do not say.", refused=True))
    assert refusal.startswith(f"**{webui.REFUSAL_LEAD}**") and webui.ERROR_LEAD not in refusal


# --- the handlers over an Assistant (fake embeddings: the model is not the point here) --------
@pytest.fixture
def make_assistant(tmp_path, corpus, fake_embeddings):
    from qa import Assistant, Config

    def make(generator=None):
        config = Config.from_env(store_dir=tmp_path / "store", corpus_dirs=(corpus,))
        return Assistant(config, fake_embeddings, generator=generator)

    return make


class _BrokenBackend:
    """An answerer whose backend fails in a way no fallback catches."""

    def answer(self, ask, evidence):
        raise RuntimeError("backend unreachable at http://127.0.0.1:9/v1\nTraceback (most recent call last): ...")

    def stream(self, ask, evidence):
        yield self.answer(ask, evidence)


_broken_backend = _BrokenBackend()


def _last(chat_updates):
    *_, last = chat_updates
    return last


def test_error_in_the_assistant_is_a_short_message_not_a_traceback(make_assistant):
    web = app.WebChat(make_assistant(generator=_broken_backend))
    updates = list(web.chat("Which Russian ambassador did Seoul summon?", app.new_session()))
    _, shown, session, sources = updates[-1]
    reply = shown[-1]["content"]
    assert shown[-1]["role"] == "assistant" and reply.startswith(f"**{webui.md_text(webui.ERROR_LEAD)}**")
    assert "backend unreachable" in reply and "Traceback" not in reply and "Traceback" not in sources
    assert session["turns"] == []  # a failed turn is not history for follow-ups
    with pytest.raises(Exception) as raised:
        web.ask("Which Russian ambassador did Seoul summon?")
    assert "backend unreachable" in str(raised.value) and "Traceback" not in str(raised.value)


def test_refusal_reads_as_refusal_and_answers_stream(make_assistant):
    web = app.WebChat(make_assistant())
    updates = list(web.chat("What did the Martian zebra parliament decide about glaciers?", app.new_session()))
    reply = updates[-1][1][-1]["content"]
    assert webui.REFUSAL_LEAD in reply and webui.ERROR_LEAD not in reply
    updates = list(web.chat("Which Russian ambassador did Seoul summon?", app.new_session()))
    texts = [u[1][-1]["content"] for u in updates]
    assert len(texts) >= 4 and texts[0] == ""  # the empty bubble, pieces growing, then the whole answer
    assert all(len(a) <= len(b) for a, b in zip(texts[1:-2], texts[2:-1]))
    session = updates[-1][2]
    assert [t["role"] for t in session["turns"]] == ["user", "assistant"]
    assert session["turns"][0]["content"] == "Which Russian ambassador did Seoul summon?"


def test_empty_question_changes_nothing_and_clear_resets(make_assistant):
    web = app.WebChat(make_assistant())
    session = {"turns": [{"role": "user", "content": "Q"}], "shown": [{"role": "user", "content": "Q"}]}
    (update,) = list(web.chat("   ", session))
    assert update[1] == session["shown"] and update[2] == session
    box, shown, fresh, sources = web.clear()
    assert (box, shown, fresh) == ("", [], app.new_session()) and "Sources of the latest answer" in sources


# --- a real server -------------------------------------------------------------------------
@pytest.mark.integration
def test_binds_loopback_by_default_and_login_is_enforced(make_assistant):
    from gradio_client import Client

    settings = app.parse_settings(["--port", str(free_port())], env={"QA_AUTH": "ann:pw"})
    assert settings.host == "127.0.0.1"
    with running(app.build_app(make_assistant()), settings) as url:
        assert listening_addresses(settings.port) == {"127.0.0.1"}
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("Which Russian ambassador did Seoul summon?", "", api_name="/ask")
        import httpx

        assert httpx.get(url + "config").status_code == 401
        client = Client(url, auth=("ann", "pw"), verbose=False)
        result = client.predict("Which Russian ambassador did Seoul summon?", "", api_name="/ask")
        assert set(result) >= {"answer", "refused", "citations", "retrieved", "backend"}


@pytest.mark.integration
def test_app_script_rejects_a_bad_login_setting_in_one_line():
    run = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--auth", "nocolon"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2 and "user:password" in run.stderr and "Traceback" not in run.stderr


# Questions with answers no other question shares (ids in qa/eval/questions.jsonl).
CONCURRENT_IDS = """q01 q02 q06 q07 q08 q09 q11 q16 q17 q18 q20 q22 q23 q26 q27 q32 q35 q39 q41 q42""".split()


@pytest.fixture(scope="module")
def seeds_server(seeds_assistant):
    demo = app.build_app(seeds_assistant)
    with running(demo, app.WebSettings(port=free_port())) as url:
        yield url


@pytest.mark.integration
def test_ask_api_returns_answer_and_citations_and_follows_up(seeds_server):
    from gradio_client import Client

    client = Client(seeds_server, verbose=False)
    first = client.predict("Which Russian ambassador did Seoul summon?", "", api_name="/ask")
    assert "Zinoviev" in first["answer"] and not first["refused"]
    assert "001_d6d462e10cf7b47f.txt" in {c["source"] for c in first["citations"]}
    history = [
        {"role": "user", "content": "Which Russian ambassador did Seoul summon?"},
        {"role": "assistant", "content": first["answer"]},
    ]
    follow = client.predict("What did he say in response?", json.dumps(history), api_name="/ask")
    assert "pass" in follow["answer"] or "international law" in follow["answer"]
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", "", api_name="/ask")


@pytest.mark.integration
def test_twenty_clients_at_once_each_get_their_own_answer(seeds_server, seeds_assistant):
    from gradio_client import Client

    rows = {q["id"]: q for q in map(json.loads, (ROOT / "qa/eval/questions.jsonl").read_text().splitlines()) if q}
    questions = [rows[i] for i in CONCURRENT_IDS]
    expected = {q["id"]: seeds_assistant.answer(q["question"]).text for q in questions}

    def one(q):
        client = Client(seeds_server, verbose=False)
        started = time.perf_counter()
        result = client.predict(q["question"], "", api_name="/ask")
        return q, result, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        results = list(pool.map(one, questions))
    wall = time.perf_counter() - started

    for q, result, _ in results:
        assert result["answer"] == expected[q["id"]], q["id"]
        assert any(a.lower() in result["answer"].lower() for a in q["answers"]), (q["id"], result["answer"])
        assert {c["source"] for c in result["citations"]} & set(q["sources"]), q["id"]
    latencies = sorted(r[2] for r in results)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"\n20 concurrent clients: wall {wall:.2f} s, p50 {statistics.median(latencies):.2f} s, "
        f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s (server concurrency {app.CONCURRENCY})"
    )
