"""`qa eval`: run the question set through the same Assistant the API uses, score it, compare it
with the LangChain tutorial baseline, write JSON (and optionally a Markdown report with a chart),
and with --gate fail when a headline metric is under its threshold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.config import Config
from qa.eval import DEFAULT_QUESTIONS, Question, QuestionSetError, held_back, load_questions
from qa.eval.metrics import grade, summarize

EXIT_GATE = 1
EXIT_USAGE = 2

# The CI gate on the seeds' question set: the one place its thresholds live. A metric under its
# threshold fails the run. Set under what the learned reader measures there (answer accuracy 0.743,
# recall 1.000, citation precision 0.959; qa/models/README.md): a floor against regressions. Refusals
# are gated on the development sets' unanswerable questions (tests/test_devsets.py): the seeds' 12
# are near misses the reader does not refuse yet (0.167), which the README says.
GATE = {
    "answer_accuracy": 0.70,
    "recall_at_k": 0.95,
    "citation_precision": 0.90,
}

# (metric key, label, kind) in the order the summary table shows them.
ROWS = [
    ("answer_accuracy", "answer accuracy (answerable)", "share"),
    ("overall_accuracy", "overall accuracy", "share"),
    ("token_f1", "token F1 (best gold)", "share"),
    ("recall_at_k", "retrieval recall@k", "share"),
    ("mrr", "retrieval MRR (by source)", "share"),
    ("source_coverage", "source coverage (multi-source)", "share"),
    ("citation_precision", "citation precision", "share"),
    ("citation_support", "citation support", "share"),
    ("refusal_accuracy", "refusal accuracy", "share"),
    ("false_refusals", "false refusals", "count"),
    ("median_answer_words", "median answer words", "count"),
    ("overview_articles", "distinct articles cited (overviews)", "count"),
    ("latency_p50_ms", "latency p50 ms", "ms"),
    ("latency_p95_ms", "latency p95 ms", "ms"),
    ("k", "k (passages retrieved)", "count"),
]


def _graded(q: Question, text: str, refused: bool, citations: list[dict], retrieved: list[dict]) -> dict:
    g = grade(
        answerable=q.answerable, answers=q.answers, required=q.required, sources=q.sources,
        text=text, refused=refused, citations=citations, retrieved=retrieved,
    )
    return {
        "id": q.id,
        "question": q.question,
        "category": q.category,
        "answerable": q.answerable,
        "gold_answers": list(q.answers),
        "gold_sources": list(q.sources),
        **g.to_dict(),
    }


def run_assistant(assistant, questions: list[Question]) -> list[dict]:
    """Each question through `assistant.answer` (with its history), graded."""
    from qa.assistant import QuestionError

    results = []
    for q in questions:
        try:
            answer = assistant.answer(q.question, list(q.history))
        except QuestionError as e:
            raise QuestionSetError(f"question {q.id}: {e}") from None
        out = answer.to_dict()
        graded = _graded(q, answer.text, answer.refused, out["citations"], out["retrieved"])
        results.append({**graded, **out})
    return results


def run_baseline(baseline, questions: list[Question]) -> list[dict]:
    """Each question (its last turn only, as the tutorial has no history) through the baseline."""
    results = []
    for q in questions:
        a = baseline.answer(q.question)
        graded = _graded(q, a.text, False, a.citations, a.retrieved)
        results.append({
            **graded, "answer": a.text, "refused": False, "citations": a.citations,
            "retrieved": a.retrieved, "backend": "baseline", "latency_ms": round(a.latency_ms, 2),
        })
    return results


def gate_failures(metrics: dict, gate: dict = GATE) -> list[str]:
    """Which gated metrics are under their threshold (a metric that could not be measured fails).

    >>> gate_failures({"answer_accuracy": 0.95, "recall_at_k": 0.9, "citation_precision": None})
    ['recall_at_k 0.900 < 0.95', 'citation_precision n/a < 0.9']
    """
    failed = []
    for name, threshold in gate.items():
        value = metrics.get(name)
        if value is None or value < threshold:
            shown = "n/a" if value is None else f"{value:.3f}"
            failed.append(f"{name} {shown} < {threshold}")
    return failed


def fmt(value, kind: str) -> str:
    """A metric for the table: shares to 3 places, milliseconds whole, n/a where not measured."""
    if value is None:
        return "n/a"
    if kind == "share":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:,.0f}"
    return f"{value:g}"


def table_rows(ours: dict, baseline: dict | None) -> list[tuple[str, str, str]]:
    """(label, ours, baseline) rows, the per-category accuracies last."""
    rows = [(label, fmt(ours.get(key), kind), fmt(baseline.get(key), kind) if baseline else "")
            for key, label, kind in ROWS]
    for name, cat in ours["per_category"].items():
        other = baseline["per_category"].get(name, {}).get("accuracy") if baseline else None
        rows.append((f"accuracy: {name} (n={cat['n']})", fmt(cat["accuracy"], "share"),
                     fmt(other, "share") if baseline else ""))
    return rows


def summary_table(ours: dict, baseline: dict | None) -> str:
    rows = table_rows(ours, baseline)
    width = max(len(r[0]) for r in rows)
    head = f"{'metric':<{width}}  {'ours':>9}" + (f" | {'baseline':>9}" if baseline else "")
    lines = [head, "-" * len(head)]
    for label, a, b in rows:
        lines.append(f"{label:<{width}}  {a:>9}" + (f" | {b:>9}" if baseline else ""))
    return "\n".join(lines)


def check_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise QuestionSetError(
            "--report needs matplotlib; install it with: pip install -e '.[test]'"
        ) from None


def write_chart(path: Path, ours: dict, baseline: dict | None) -> None:
    """Per-category accuracy bars (ours beside the baseline) and a latency histogram, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (bars, hist) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = list(ours["metrics"]["per_category"])
    xs = range(len(names))
    width = 0.4 if baseline else 0.8
    ours_acc = [ours["metrics"]["per_category"][n]["accuracy"] or 0 for n in names]
    bars.bar([x - (width / 2 if baseline else 0) for x in xs], ours_acc, width, label="ours")
    if baseline:
        base_acc = [(baseline["metrics"]["per_category"].get(n) or {}).get("accuracy") or 0 for n in names]
        bars.bar([x + width / 2 for x in xs], base_acc, width, label="baseline")
    bars.set_xticks(list(xs), names, rotation=30, ha="right")
    bars.set_ylim(0, 1)
    bars.set_ylabel("accuracy")
    bars.set_title("Accuracy by category")
    bars.legend()
    series = {"ours": [r["latency_ms"] for r in ours["results"]]}
    if baseline:
        series["baseline"] = [r["latency_ms"] for r in baseline["results"]]
    edges = np.histogram_bin_edges([x for xs in series.values() for x in xs], bins=25)  # shared bins
    for name, values in series.items():
        hist.hist(values, bins=edges, alpha=0.7, label=name)
    hist.set_xlabel("latency (ms)")
    hist.set_ylabel("questions")
    hist.set_title("Latency per question")
    hist.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(folder: Path, data: dict) -> tuple[Path, Path]:
    """report.md (config, side-by-side metrics, the questions we got wrong) and chart.png."""
    folder.mkdir(parents=True, exist_ok=True)
    chart = folder / "chart.png"
    ours = {"metrics": data["metrics"], "results": data["results"]}
    baseline = data.get("baseline")
    write_chart(chart, ours, baseline)
    lines = ["# Evaluation report", "", f"Questions: `{data['config']['questions']}` "
             f"({data['metrics']['questions']}), backend: {data['config']['backend']}", ""]
    lines += ["| setting | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in data["config"].items() if k != "questions"]
    lines += ["", "## Metrics", ""]
    lines += ["| metric | ours | baseline |" if baseline else "| metric | ours |",
              "|---|---:|---:|" if baseline else "|---|---:|"]
    for label, a, b in table_rows(data["metrics"], baseline["metrics"] if baseline else None):
        lines.append(f"| {label} | {a} | {b} |" if baseline else f"| {label} | {a} |")
    lines += ["", f"![accuracy by category and latency]({chart.name})", "", "## Wrong answers (ours)", ""]
    wrong = [r for r in data["results"] if not r["correct"]]
    if not wrong:
        lines.append("None.")
    for r in wrong:
        said = "(refused)" if r["refused"] else r["answer"].replace("\n", " ")[:300]
        expected = "a refusal" if not r["answerable"] else " / ".join(r["gold_answers"])
        lines.append(f"- **{r['id']}** ({r['category']}) {r['question']}  \n  expected: {expected}; said: {said}")
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report, chart


def evaluate(config: Config, questions_path: Path, *, baseline: bool = False, assistant=None,
             held_back_only: bool = False) -> dict:
    """The whole evaluation as the JSON-ready dict: config, metrics, results (and baseline). With
    `held_back_only`, only the questions the reader's model was never fitted on (`qa.eval.held_back`)."""
    from qa.assistant import Assistant

    questions = load_questions(questions_path)
    if held_back_only:
        questions = [q for q in questions if held_back(q.id)]
    if assistant is None:
        assistant = Assistant(config)
    results = run_assistant(assistant, questions)
    data = {
        "config": {
            "questions": str(questions_path) + (" (held-back split)" if held_back_only else ""),
            "backend": assistant.backend,
            **config.describe(),
        },
        "metrics": summarize(results, k=config.k),
        "results": results,
    }
    if baseline:
        from qa.eval.baseline import CHUNK_OVERLAP, CHUNK_SIZE, TOP_K, TutorialBaseline

        pipeline = TutorialBaseline(config.corpus_dirs, assistant.embeddings)
        try:
            base_results = run_baseline(pipeline, questions)
        finally:
            pipeline.close()
        data["config"]["baseline"] = (f"RecursiveCharacterTextSplitter {CHUNK_SIZE}/{CHUNK_OVERLAP}, "
                                      f"Chroma top-{TOP_K}, most similar sentence")
        data["baseline"] = {"metrics": summarize(base_results, k=TOP_K), "results": base_results}
    return data


def main(args, config: Config) -> int:
    """Entry point of `qa eval`; returns the exit code (2 bad input, 1 gate failed, else 0)."""
    questions_path = Path(args.questions) if args.questions else DEFAULT_QUESTIONS
    try:
        load_questions(questions_path)  # fail fast, before the model loads
        if args.report:
            check_matplotlib()
        if args.baseline:
            from qa.eval.baseline import BaselineUnavailable, check_available

            try:
                check_available()
            except BaselineUnavailable as e:
                raise QuestionSetError(str(e)) from None
        if args.backend == "llm" and not config.use_llm:
            raise QuestionSetError("--backend llm needs a language model: set OPENAI_API_KEY or "
                                   "OPENAI_BASE_URL (and QA_OFFLINE unset)")
        if args.backend == "offline":
            config = config.with_(offline=True)
        data = evaluate(config, questions_path, baseline=args.baseline, held_back_only=args.held_back)
    except QuestionSetError as e:
        print(f"qa eval: {e}", file=sys.stderr)
        return EXIT_USAGE

    base = data.get("baseline", {}).get("metrics")
    print(summary_table(data["metrics"], base))
    if base:
        print(f"(ours: {data['config']['backend']}, k={data['metrics']['k']}; "
              f"baseline: {data['config']['baseline']})")
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"results: {out}")
    if args.report:
        report, chart = write_report(Path(args.report), data)
        print(f"report: {report}, chart: {chart}")
    if args.gate:
        failed = gate_failures(data["metrics"])
        if failed:
            print("gate FAILED: " + "; ".join(failed), file=sys.stderr)
            return EXIT_GATE
        print("gate passed: " + ", ".join(f"{k} >= {v}" for k, v in GATE.items()))
    return 0
