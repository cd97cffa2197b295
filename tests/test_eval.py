"""`qa eval`: the scoring rules on small hand-made inputs, the strict loader, and (integration) the
whole evaluation on the project's question set, beside the LangChain tutorial baseline, and its gate."""

from __future__ import annotations

import json

import pytest

from qa.cli import main as cli_main
from qa.eval import DEFAULT_QUESTIONS, QuestionSetError, load_questions
from qa.eval.metrics import (
    best_f1,
    contains,
    coverage,
    grade,
    matches,
    percentile,
    reciprocal_rank,
    summarize,
    token_f1,
)
from qa.eval.run import GATE, gate_failures
from tests.conftest import SEEDS

GOOD = {"id": "a", "question": "Who?", "answers": ["Kim"], "sources": ["x.txt"], "answerable": True}


# --- answer matching -----------------------------------------------------------------------
def test_thousands_separators_and_case_are_normalised():
    assert contains("Up to 3,000 North Korean TROOPS.", "3000")
    assert contains("up to 3000 troops", "3,000")
    assert contains("The NIS said 1,500.", "1,500")
    assert not contains("30,000 troops", "3,000")  # whole numbers, not digits inside another
    assert not contains("13,000 troops", "3,000")
    assert contains("voted unanimously", "unanimous")  # a word may go on: the set lists stems
    assert not contains("a trade deal", "rade")  # but it starts at a word start
    assert not contains("nothing here", "")


def test_answers_need_one_and_required_needs_every_entry():
    answers = ["1,500", "3,000", "10,000"]
    required = ["1,500|1500", "3,000|3000", "10,000|10000"]
    assert matches("Figures differ: 1500, 3,000 and 10000 troops.", answers, required)
    assert not matches("Figures differ: 1,500 and 3,000 troops.", answers, required)
    assert matches("It was Kim Jong-un.", ["Kim Jong Un"])  # hyphen is punctuation
    assert not matches("It was Putin.", ["Kim Jong Un"])
    assert matches("Putin and Kim Jong Un", [], ["Putin", "Kim Jong Un|Kim Jong-un"])


def test_token_f1_against_the_best_gold_answer():
    assert token_f1("Georgy Zinoviev", "Georgy Zinoviev") == 1.0
    assert token_f1("the ambassador", "Zinoviev") == 0.0
    assert token_f1("3,000 troops were seen", "3000") == pytest.approx(2 * 0.25 * 1 / 1.25)
    assert best_f1("Zinoviev", ["Georgy Zinoviev", "Zinoviev"]) == 1.0
    assert best_f1("anything", []) == 0.0


def test_reciprocal_rank_and_coverage_by_source():
    assert reciprocal_rank(["a", "b", "c"], ["a"]) == 1.0
    assert reciprocal_rank(["b", "b", "a"], ["a", "z"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["b"], ["a"]) == 0.0
    assert coverage(["a", "b", "a"], ["a", "b", "c", "d"]) == 0.5


def test_percentile_interpolates_between_ranks():
    values = [50, 10, 40, 20, 30]
    assert percentile(values, 50) == 30
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile(values, 0) == 10 and percentile(values, 100) == 50
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_grade_unanswerable_is_right_only_when_refused():
    common = dict(answerable=False, answers=[], required=[], sources=[], citations=[], retrieved=[])
    assert grade(text="I cannot find that.", refused=True, **common).correct
    assert not grade(text="A guess.", refused=False, **common).correct


def test_grade_answerable_refusal_is_wrong_even_if_it_names_the_answer():
    g = grade(answerable=True, answers=["Zinoviev"], required=[], sources=["a"], text="Not Zinoviev?",
              refused=True, citations=[], retrieved=[{"source": "a"}])
    assert not g.correct and g.f1 == 0.0 and g.citations_total is None and g.retrieval_hit


def _record(answerable, correct, refused=False, category="c", cited=(0, 0), supported=None, hit=True,
            rr=1.0, cov=None, latency=10.0, answer="one two three"):
    return dict(answerable=answerable, correct=correct, refused=refused, category=category,
                citations_gold=cited[0] if answerable and not refused else None,
                citations_total=cited[1] if answerable and not refused else None,
                citation_supported=supported, retrieval_hit=hit if answerable else None,
                reciprocal_rank=rr if answerable else None, source_coverage=cov,
                f1=0.5 if answerable else None, latency_ms=latency, answer=answer)


def test_summarize_counts_each_metric_over_its_own_population():
    results = [
        _record(True, True, cited=(2, 2), supported=True, rr=1.0, cov=1.0, category="multi"),
        _record(True, False, cited=(1, 3), hit=False, rr=0.0, cov=0.5, category="multi"),
        _record(True, False, refused=True, rr=0.5, category="single", answer="I could not find it."),
        _record(False, True, refused=True, category="none", answer="I could not find it."),
        _record(False, False, category="none"),
    ]
    for i, r in enumerate(results):
        r["latency_ms"] = [10, 20, 30, 40, 100][i]
    m = summarize(results, k=8)
    assert m["answer_accuracy"] == pytest.approx(1 / 3)
    assert m["overall_accuracy"] == pytest.approx(2 / 5)
    assert m["recall_at_k"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx(0.5)
    assert m["source_coverage"] == pytest.approx(0.75)
    assert m["citation_precision"] == pytest.approx(3 / 5)  # refused answers cite nothing that counts
    assert m["citation_support"] == 1.0
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusals"] == 1
    assert m["median_answer_words"] == 3
    assert m["latency_p50_ms"] == 30 and m["latency_p95_ms"] == pytest.approx(88.0)
    assert m["per_category"]["multi"] == {"n": 2, "accuracy": 0.5}
    assert m["per_category"]["none"] == {"n": 2, "accuracy": 0.5}


def test_gate_names_each_failed_metric():
    passing = {name: threshold for name, threshold in GATE.items()}
    assert gate_failures(passing) == []
    failed = gate_failures({**passing, "recall_at_k": 0.5, "citation_precision": None})
    assert len(failed) == 2
    assert failed[0].startswith("recall_at_k 0.500") and failed[1].startswith("citation_precision n/a")


# --- loading -------------------------------------------------------------------------------
def test_the_project_question_set_loads():
    questions = load_questions()
    assert len(questions) == 82
    assert sum(not q.answerable for q in questions) == 12
    assert any(q.history for q in questions) and any(q.required for q in questions)


def test_malformed_line_is_named_by_number(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + '{"id": "b", "question": ' + "\n")
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:3: not valid JSON"):
        load_questions(path)


def test_unknown_fields_are_ignored_with_one_warning(tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    lines = [GOOD, {**GOOD, "id": "b", "choices": ["x", "y"]}, {**GOOD, "id": "c", "choices": [], "date": "2024"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    questions = load_questions(path)
    assert [q.id for q in questions] == ["a", "b", "c"]
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 1 and "choices, date" in warnings[0]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"answerable": "yes"}, "field 'answerable' must be bool"),
        ({"answers": [3]}, "'answers' must be a list of non-empty strings"),
        ({"answers": [], "sources": []}, "answerable question needs"),
        ({"history": [{"role": "user"}]}, "history turn"),
        ({"id": "a"}, "duplicate id 'a'"),
    ],
)
def test_bad_values_are_rejected_with_their_line(tmp_path, change, message):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "id": "b", **change}) + "\n")
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:2: .*" + message):
        load_questions(path)


def test_missing_field_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({k: v for k, v in GOOD.items() if k != "sources"}) + "\n")
    with pytest.raises(QuestionSetError, match="missing field 'sources'"):
        load_questions(path)


def test_cli_bad_question_files_exit_2_without_traceback(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    assert cli_main(["eval", "--questions", str(missing), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert f"no such question file: {missing}" in err and "Traceback" not in err

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOOD) + "\nnot json\n")
    assert cli_main(["eval", "--questions", str(bad), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:2: not valid JSON" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()  # failed before building anything


def test_cli_llm_backend_without_a_model_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert cli_main(["eval", "--backend", "llm", "--store", str(tmp_path / "s")]) == 2
    assert "--backend llm needs a language model" in capsys.readouterr().err


# --- the real set, through the CLI -----------------------------------------------------------
@pytest.fixture(scope="module")
def eval_store(tmp_path_factory):
    """One store for the module's real runs: the first run builds it from the seeds, the next reuses it."""
    return tmp_path_factory.mktemp("eval-store")


@pytest.mark.integration
@pytest.mark.slow  # the tutorial baseline ingests and answers all 82 questions too: ~40 s
def test_eval_with_baseline_and_report(eval_store, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QA_CORPUS", str(SEEDS))
    out, report = tmp_path / "results.json", tmp_path / "report"
    code = cli_main(["eval", "--store", str(eval_store), "--baseline", "--output", str(out), "--report", str(report)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "ours" in printed and "baseline" in printed and "answer accuracy" in printed

    data = json.loads(out.read_text())
    assert set(data) == {"config", "metrics", "results", "baseline"}
    assert data["config"]["backend"] == "offline" and data["config"]["k"] == 8
    questions = load_questions(DEFAULT_QUESTIONS)
    for side in (data, data["baseline"]):
        assert [r["id"] for r in side["results"]] == [q.id for q in questions]
        for r in side["results"]:
            assert {"id", "question", "answer", "refused", "citations", "retrieved", "backend",
                    "latency_ms", "correct"} <= set(r)
            assert all({"source", "text"} <= set(c) for c in r["citations"])
            assert all({"source", "text", "score"} <= set(p) for p in r["retrieved"])
    ours, base = data["metrics"], data["baseline"]["metrics"]
    for key in ("answer_accuracy", "overall_accuracy", "token_f1", "recall_at_k", "mrr", "source_coverage",
                "citation_precision", "citation_support", "refusal_accuracy", "false_refusals",
                "median_answer_words", "latency_p50_ms", "latency_p95_ms", "per_category"):
        assert ours[key] is not None and base[key] is not None, key
    assert base["k"] == 4 and base["false_refusals"] == 0 and base["refusal_accuracy"] == 0.0
    assert all(r["backend"] == "baseline" and not r["refused"] for r in data["baseline"]["results"])
    assert set(ours["per_category"]) == {q.category for q in questions}

    md = (report / "report.md").read_text()
    assert "| metric | ours | baseline |" in md and "chart.png" in md
    assert (report / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.integration
def test_eval_gate(eval_store, tmp_path, capsys, monkeypatch):
    """The CI gate on the project's question set (thresholds in qa.eval.run.GATE)."""
    monkeypatch.setenv("QA_CORPUS", str(SEEDS))
    code = cli_main(["eval", "--store", str(eval_store), "--gate", "--output", str(tmp_path / "r.json")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "gate passed" in captured.out


@pytest.mark.integration
def test_conversations_hold_their_thread(eval_store, tmp_path, capsys, monkeypatch):
    """The conversation set (follow-ups and whole-collection questions) at the answerer issue's bar:
    accuracy 0.85 with at most one false refusal; measured 0.898 with none (24 November)."""
    monkeypatch.setenv("QA_CORPUS", str(SEEDS))
    out = tmp_path / "conv.json"
    code = cli_main(["eval", "--store", str(eval_store), "--questions",
                     str(DEFAULT_QUESTIONS.parent / "conversations.jsonl"), "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads(out.read_text(encoding="utf-8"))["metrics"]
    assert metrics["answer_accuracy"] >= 0.85 and metrics["false_refusals"] <= 1, metrics


@pytest.mark.parametrize("name", ["questions", "heldout", "heldout2", "heldout3", "conversations", "conversations_rtqa"])
def test_the_shipped_question_sets_load_and_hold_their_answers(name):
    """Every shipped set loads strictly; an answerable question's answers are in a source it names
    (but answers about the collection itself: "5" articles), where that corpus is on this machine (the
    seeds here, the development corpus in ../shared)."""
    from pathlib import Path

    path = DEFAULT_QUESTIONS.parent / f"{name}.jsonl"
    questions = load_questions(path)
    assert len({q.id for q in questions}) == len(questions) > 0
    root = Path(__file__).resolve().parents[1]
    corpus = root.parent / "shared/devsets/realtimeqa/corpus" if name.endswith("rtqa") else root / "seeds"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} is not on this machine")
    for q in questions:
        if q.answerable and q.answers and q.sources and q.category not in {"catalogue", "help"}:
            texts = [(corpus / s).read_text(encoding="utf-8") for s in q.sources]
            assert any(contains(t, a) for t in texts for a in q.answers), q.id
