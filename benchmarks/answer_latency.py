#!/usr/bin/env python3
"""Warm and cold answer latency on a store built from any corpus, for a question file:

    python benchmarks/answer_latency.py --store /tmp/dev-rtqa --questions ../shared/devsets/realtimeqa/questions.jsonl

Warm: one Assistant (offline), a few questions to warm up, then each question asked once (new
questions, so caches of earlier answers do not help): p50 and p95 of `Assistant.answer`. Cold: the
wall time of `qa ask --offline` in a new process (median of 3). A script, not a test: the figures
depend on the machine and on what else it is doing. Run it with PYTHONPATH pointing at another
checkout to measure that version beside this one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

WARMUP = 5
COLD_RUNS = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q / 100))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100, help="questions timed (after the warm-up ones)")
    args = parser.parse_args(argv)

    from qa import Assistant, Config

    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    assistant = Assistant(Config.from_env(store_dir=args.store, offline=True), auto_ingest=False)
    for q in questions[:WARMUP]:
        assistant.answer(q)
    timed = []
    for q in questions[WARMUP : WARMUP + args.n]:
        started = time.perf_counter()
        assistant.answer(q)
        timed.append((time.perf_counter() - started) * 1000)
    cold = []
    for q in questions[:COLD_RUNS]:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--offline", "--store", str(args.store), q],
                       capture_output=True, check=True)
        cold.append(time.perf_counter() - started)
    print(json.dumps({
        "store": str(args.store),
        "questions": len(timed),
        "warm_p50_ms": round(statistics.median(timed), 1),
        "warm_p95_ms": round(percentile(timed, 95), 1),
        "cold_ask_s": round(statistics.median(cold), 2),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
