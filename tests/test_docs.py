"""The docs' commands run on a fresh clone: no paths of one machine, and CI runs the README's test line."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

DOCS = ["README.md", "BENCHMARKS.md", "SECURITY.md", "benchmarks/README.md", "qa/eval/README.md"]


def readme_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Two commands on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_the_readme_has_two_commands_and_the_first_installs_no_test_extras():
    first, second = readme_commands()
    assert "pip install -e . " in first and "[test]" not in first and "qa ask" in first
    assert '".[test]"' in second and second.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


@pytest.mark.parametrize("doc", DOCS)
def test_no_machine_specific_paths(doc):
    text = (ROOT / doc).read_text()
    assert not re.search(r"/work/|/home/\w|/root/|shared/seeds", text), doc
