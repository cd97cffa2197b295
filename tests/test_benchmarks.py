"""The benchmark script runs end to end: its figures are what the speed targets are checked by, so a
script that no longer runs (an ingest argument renamed) is a broken tool, not a slow one. No figure is
asserted against a time budget here; `benchmarks/bench.py` prints them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.integration
@pytest.mark.slow
def test_the_benchmark_runs_on_the_seeds_and_reports_every_figure(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--corpus", "seeds",
                          "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| warm p50 ms |" in run.stdout
    (result,) = (tmp_path / "results").glob("bench-seeds-*.json")
    ours = json.loads(result.read_text())["corpora"]["seeds"]["ours"]
    assert ours["articles"] == 5 and ours["questions"] > 0
    assert ours["reingest_embedded"] == 0  # unchanged articles are not embedded again
    assert ours["add_one_embedded"] > 0  # a new article is
