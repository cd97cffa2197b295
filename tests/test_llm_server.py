"""The LLM path end to end against a real OpenAI-compatible server: llama.cpp serving SmolLM2-135M.

The model is far too small to answer well, so these tests check the plumbing, not the wording: the
answer comes from the model, cites only retrieved passages, streams in pieces, and turns into the
offline answer with a notice once the server is gone.

A loaded 2-core machine can make the model 50x slower than idle, so the deadlines here are generous
(`LOADED_MACHINE_TIMEOUT`) and nothing asserts how long a step took.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from qa.assistant import Assistant
from qa.config import Config
from qa.types import Answer
from tests.conftest import ROOT, SEEDS
from tests.support.llm_server import run_llama_server

pytestmark = [pytest.mark.integration, pytest.mark.llm_server]

# One answer of 96 tokens from SmolLM2-135M takes ~2 s idle; 10 minutes covers a machine busy with
# other test suites and training (the 60 s default gave 'offline' answers under load).
LOADED_MACHINE_TIMEOUT = 600.0

QUESTION = "What did South Korea's Ministry of Foreign Affairs urge Russia and North Korea to do?"


@pytest.fixture(scope="module")
def server():
    with run_llama_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llm-store")


@pytest.fixture(scope="module")
def assistant(server, store_dir, minilm):
    config = Config.from_env(
        store_dir=store_dir,
        corpus_dirs=(SEEDS,),
        openai_base_url=server.base_url,
        llm_model=server.model,
        llm_max_tokens=96,
        llm_timeout=LOADED_MACHINE_TIMEOUT,
    )
    return Assistant(config, minilm)


def assert_checked(answer: Answer):
    """Every citation is of a retrieved passage, numbered 1..m, and every marker in the text has one."""
    retrieved = {p.chunk.id for p in answer.retrieved}
    assert all(c.chunk_id in retrieved for c in answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for c in answer.citations:
        assert c.quote and c.quote in c.text


def test_answer_comes_from_the_model_with_checked_citations(assistant, server):
    answer = assistant.answer(QUESTION)
    assert answer.backend == f"llm:{server.model}"
    assert answer.notice is None
    assert answer.text.strip()
    assert len(answer.retrieved) > 0
    assert_checked(answer)
    if not answer.refused:
        # Whatever the small model says is either backed by a cited passage or listed as unsupported.
        assert isinstance(answer.unsupported, list)


def test_stream_yields_pieces_then_the_answer(assistant, server):
    items = list(assistant.stream(QUESTION))
    pieces, answer = items[:-1], items[-1]
    assert isinstance(answer, Answer) and answer.backend == f"llm:{server.model}"
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert_checked(answer)


def test_follow_up_with_history(assistant, server):
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "An immediate withdrawal [1]."}]
    answer = assistant.answer("What did they call the cooperation?", history)
    assert answer.backend == f"llm:{server.model}"
    assert_checked(answer)


def test_stopped_server_gives_the_offline_answer_with_a_notice(store_dir, minilm):
    with run_llama_server() as gone:
        url, model = gone.base_url, gone.model
    config = Config.from_env(store_dir=store_dir, corpus_dirs=(SEEDS,), openai_base_url=url, llm_model=model)
    assistant = Assistant(config, minilm)
    answer = assistant.answer(QUESTION)
    assert answer.backend == "offline"
    assert answer.notice == "The language model was unavailable (connection failed); this is the offline answer."
    assert not answer.refused and answer.citations
    assert_checked(answer)
    items = list(assistant.stream(QUESTION))
    assert items[-1].backend == "offline" and items[-1].notice == answer.notice
    assert "".join(items[:-1]) == answer.text


def test_cli_ask_json_uses_the_model(server, store_dir, assistant, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("QA_LLM_MODEL", server.model)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli-0123456789")
    monkeypatch.setenv("QA_LLM_TIMEOUT", str(LOADED_MACHINE_TIMEOUT))
    from qa.cli import main

    assert main(["ask", "--json", "--store", str(store_dir), QUESTION]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data["backend"] == f"llm:{server.model}"
    retrieved = {p["chunk_id"] for p in data["retrieved"]}
    assert all(c["chunk_id"] in retrieved for c in data["citations"])
    assert "sk-test-cli-0123456789" not in out.out + out.err

    monkeypatch.setenv("QA_OFFLINE", "1")
    assert main(["ask", "--json", "--store", str(store_dir), QUESTION]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "offline"


PARENT = """
import os, sys, time
from tests.support.llm_server import run_llama_server
with run_llama_server() as server:
    if os.fork() == 0:  # a forked worker keeps the server's stdin pipe open after the parent dies
        time.sleep(600)
        os._exit(0)
    print(server.pid, flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie is not serving
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_the_server_dies_with_its_parent_even_when_a_fork_holds_its_pipe():
    """Killing the process that started the server left the server serving at 50 % CPU."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        server_pid = int(parent.stdout.readline())
        assert _alive(server_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + LOADED_MACHINE_TIMEOUT  # a bound, not a measurement
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(server_pid), "the llama.cpp server outlived its parent"
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the forked sleeper (and anything else left)
        parent.stdout.close()
