"""Fifty questions at once against one Assistant (and the web API), and questions during an ingest.

Each concurrent answer must be the answer that question gets when asked alone: same text, same
citations, same retrieved passages. That shows no answer was crossed with another thread's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa import Assistant, Config
from qa.ingest import ingest
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.integration

N = 50


def load_questions() -> list[dict]:
    rows = [json.loads(line) for line in (ROOT / "qa/eval/questions.jsonl").read_text().splitlines() if line]
    rows = [r for r in rows if r["answerable"] and not r.get("history")]
    assert len(rows) >= N
    return rows[:N]


def fingerprint(answer) -> tuple:
    return (answer.text, tuple((c.source, c.chunk_id) for c in answer.citations),
            tuple(p.chunk.id for p in answer.retrieved))


def figures(latencies: list[float], wall: float) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return f"{len(ordered)} requests, wall {wall:.2f} s, p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms"


def ask_all(ask, questions: list[str]) -> tuple[list, list[float], float]:
    """Ask every question at once from its own thread; (results, latencies in ms, wall seconds)."""

    def timed(q):
        t = time.perf_counter()
        result = ask(q)
        return result, (time.perf_counter() - t) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        done = list(pool.map(timed, questions))
    return [r for r, _ in done], [ms for _, ms in done], time.perf_counter() - started


def test_fifty_questions_at_once_each_get_their_own_answer(seeds_assistant):
    rows = load_questions()
    questions = [r["question"] for r in rows]
    alone = {q: fingerprint(seeds_assistant.answer(q)) for q in questions}
    answers, latencies, wall = ask_all(seeds_assistant.answer, questions)
    print(f"\nconcurrency (API, {N} threads): {figures(latencies, wall)}")
    right = 0
    for row, answer in zip(rows, answers):
        assert fingerprint(answer) == alone[row["question"]], row["id"]
        retrieved = {p.chunk.source for p in answer.retrieved}
        assert set(row["sources"]) & retrieved, row["id"]  # its own question's articles came back
        right += any(a.lower() in answer.text.lower() for a in row["answers"])
    assert right >= 0.6 * N  # and most hold the expected answer (the eval reports the exact rate)


NEW_ARTICLE = """Lighthouse keeper's festival draws record crowd

The annual lighthouse keeper's festival in the fishing town of Porthavel drew a record 12,400 visitors on Saturday, the organisers said.

The festival's rowing race was won by a crew of four sisters from the harbour school, who finished the course in 41 minutes.
"""


def test_questions_keep_working_while_an_ingest_adds_an_article(tmp_path, minilm):
    store = tmp_path / "store"
    config = Config.from_env(store_dir=store, corpus_dirs=(SEEDS,))
    ingest(config, minilm)
    assistant = Assistant(config, minilm, auto_ingest=False)
    rows = load_questions()[:20]
    alone = {r["question"]: fingerprint(assistant.answer(r["question"])) for r in rows}

    new = tmp_path / "new"
    new.mkdir()
    (new / "lighthouse.txt").write_text(NEW_ARTICLE)
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ingest", "--add", str(new), "--store", str(store)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rounds, asked, latencies = 0, 0, []
    during = []
    started = time.perf_counter()
    try:
        while proc.poll() is None or rounds == 0:
            answers, ms, _ = ask_all(assistant.answer, [r["question"] for r in rows])
            rounds, asked, latencies = rounds + 1, asked + len(answers), latencies + ms
            during.append(answers)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "1 added" in out, err
    # The new rows change the word statistics (BM25, IDF), so an answer near the reader's refusal
    # threshold may change with them; what must never happen is an answer from a torn store: each
    # answer given during the ingest is the one given before it or the one given after it.
    after = {r["question"]: fingerprint(assistant.answer(r["question"])) for r in rows}
    for answers in during:
        for row, answer in zip(rows, answers):
            q = row["question"]
            assert fingerprint(answer)[:2] in (alone[q][:2], after[q][:2]), row["id"]
    changed = [r["id"] for r in rows if after[r["question"]][:2] != alone[r["question"]][:2]]
    assert len(changed) <= 2, changed  # an unrelated article moves a borderline answer or two (1 of 20 measured)
    print(f"\nconcurrency during ingest: {rounds} rounds of {len(rows)} threads, "
          f"{figures(latencies, time.perf_counter() - started)}")

    # The new article is in the store and answers, seen from a fresh process.
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "--json", "--store", str(store),
         "How many visitors did the lighthouse keeper's festival draw?"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "QA_OFFLINE": "1"},
    )
    data = json.loads(result.stdout)
    assert "12,400" in data["answer"] and data["citations"][0]["source"] == "lighthouse.txt"


def test_fifty_concurrent_web_api_requests(seeds_assistant):
    from gradio_client import Client

    from tests.test_bad_input import launch_web

    rows = load_questions()
    alone = {r["question"]: seeds_assistant.answer(r["question"]).text for r in rows}
    with launch_web(seeds_assistant) as (_, url):
        client = Client(url, verbose=False)
        results, latencies, wall = ask_all(lambda q: client.predict(q, "", api_name="/ask"),
                                           [r["question"] for r in rows])
    print(f"\nconcurrency (web API, {N} at once): {figures(latencies, wall)}")
    for row, data in zip(rows, results):
        assert data["answer"] == alone[row["question"]], row["id"]
