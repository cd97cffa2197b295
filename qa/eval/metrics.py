"""Scoring: pure functions from an answer (and what was retrieved) to grades and summary metrics.

Everything works on plain strings and dicts so the same code grades our assistant and the
baseline, and so each rule can be tested with small hand-made inputs.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass

from qa.text import normalize


def contains(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` after `normalize` (case, punctuation, thousands separators),
    starting at a word start. It may end inside a word, so "unanimous" is found in "unanimously" as the
    question set intends, but a number must end where the number ends: "3,000" is not in "30,000"
    nor in "13,000".

    >>> contains("Up to 3,000 troops.", "3000"), contains("3000 troops", "3,000"), contains("30,000", "3,000")
    (True, True, False)
    >>> contains("They voted unanimously.", "unanimous"), contains("a trade deal", "rade")
    (True, False)
    """
    needle = normalize(phrase)
    if not needle:
        return False
    pattern = r"\b" + re.escape(needle) + (r"(?!\d)" if needle[-1].isdigit() else "")
    return re.search(pattern, normalize(text)) is not None


def matches(text: str, answers: list[str] | tuple[str, ...], required: list[str] | tuple[str, ...] = ()) -> bool:
    """Right when the text contains at least one answer (if any are given) and every `required`
    entry, where '|' separates acceptable alternatives within an entry.

    >>> matches("Putin and Kim Jong-un signed it.", ["Putin"], ["Putin", "Kim Jong Un|Kim Jong-un"])
    True
    >>> matches("Putin signed it.", ["Putin"], ["Putin", "Kim Jong Un|Kim Jong-un"])
    False
    """
    if answers and not any(contains(text, a) for a in answers):
        return False
    return all(any(contains(text, alt) for alt in entry.split("|")) for entry in required)


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 between two texts, over normalised words.

    >>> token_f1("the 3,000 troops", "3000 troops")
    0.8
    """
    pred, ref = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, answers: list[str] | tuple[str, ...]) -> float:
    """F1 against the best-matching gold answer (0 when there is none)."""
    return max((token_f1(prediction, a) for a in answers), default=0.0)


def reciprocal_rank(retrieved_sources: list[str], gold_sources: list[str] | tuple[str, ...]) -> float:
    """1 / rank of the first retrieved passage from a gold source; 0 when none is retrieved.

    >>> reciprocal_rank(["b.txt", "a.txt", "a.txt"], ["a.txt"]), reciprocal_rank(["b.txt"], ["a.txt"])
    (0.5, 0.0)
    """
    for rank, source in enumerate(retrieved_sources, start=1):
        if source in gold_sources:
            return 1.0 / rank
    return 0.0


def coverage(retrieved_sources: list[str], gold_sources: list[str] | tuple[str, ...]) -> float:
    """Share of the gold sources that at least one retrieved passage comes from.

    >>> coverage(["a.txt", "a.txt", "c.txt"], ["a.txt", "b.txt"])
    0.5
    """
    if not gold_sources:
        return 0.0
    return len(set(gold_sources) & set(retrieved_sources)) / len(set(gold_sources))


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default).

    >>> percentile([1, 2, 3, 4], 50), percentile([10, 20], 95), percentile([], 50)
    (2.5, 19.5, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Grade:
    """How one answer did; None where a measure does not apply to the question."""

    correct: bool
    f1: float | None
    retrieval_hit: bool | None
    reciprocal_rank: float | None
    source_coverage: float | None  # multi-source questions only
    citations_gold: int | None  # citations from a gold source (answerable, answered)
    citations_total: int | None
    citation_supported: bool | None  # right answers only: a cited passage holds a gold answer

    def to_dict(self) -> dict:
        return asdict(self)


def grade(
    *,
    answerable: bool,
    answers: list[str] | tuple[str, ...],
    required: list[str] | tuple[str, ...],
    sources: list[str] | tuple[str, ...],
    text: str,
    refused: bool,
    citations: list[dict],
    retrieved: list[dict],
) -> Grade:
    """Grade one answer. Unanswerable questions are right exactly when refused; answerable ones
    when not refused and `matches`. `citations`/`retrieved` are dicts with "source" and "text".

    >>> g = grade(answerable=True, answers=["Zinoviev"], required=[], sources=["a.txt"],
    ...           text="Seoul summoned Georgy Zinoviev.", refused=False,
    ...           citations=[{"source": "a.txt", "text": "They summoned Zinoviev."}],
    ...           retrieved=[{"source": "b.txt"}, {"source": "a.txt"}])
    >>> g.correct, g.reciprocal_rank, g.citations_gold, g.citation_supported
    (True, 0.5, 1, True)
    """
    if not answerable:
        return Grade(refused, None, None, None, None, None, None, None)
    correct = not refused and matches(text, answers, required)
    retrieved_sources = [p["source"] for p in retrieved]
    answered = not refused
    supported = None
    if correct:
        supported = any(contains(c["text"], a) for c in citations for a in answers)
    return Grade(
        correct=correct,
        f1=0.0 if refused else best_f1(text, answers),
        retrieval_hit=any(s in sources for s in retrieved_sources),
        reciprocal_rank=reciprocal_rank(retrieved_sources, sources),
        source_coverage=coverage(retrieved_sources, sources) if len(set(sources)) > 1 else None,
        citations_gold=sum(c["source"] in sources for c in citations) if answered else None,
        citations_total=len(citations) if answered else None,
        citation_supported=supported,
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(flags: list[bool]) -> float | None:
    return _mean([1.0 if f else 0.0 for f in flags])


def distinct_sources(citations: list[dict]) -> int:
    """How many different articles an answer cites (an overview should draw on several).

    >>> distinct_sources([{"source": "a.txt"}, {"source": "b.txt"}, {"source": "a.txt"}])
    2
    """
    return len({c["source"] for c in citations})


def summarize(results: list[dict], k: int) -> dict:
    """Summary metrics over graded result records (each has the `Grade` fields plus "answerable",
    "refused", "answer", "category" and "latency_ms"). Shares are 0-1; None where nothing applies.

    >>> r = [dict(answerable=True, refused=False, answer="a b c", category="x", latency_ms=10, correct=True,
    ...           f1=1.0, retrieval_hit=True, reciprocal_rank=1.0, source_coverage=None, citations_gold=1,
    ...           citations_total=2, citation_supported=True),
    ...      dict(answerable=False, refused=False, answer="guess", category="y", latency_ms=30, correct=False)]
    >>> m = summarize(r, k=4)
    >>> m["answer_accuracy"], m["overall_accuracy"], m["citation_precision"], m["refusal_accuracy"]
    (1.0, 0.5, 0.5, 0.0)
    """
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    answered = [r for r in answerable if not r["refused"]]
    right = [r for r in answerable if r["correct"]]
    multi = [r["source_coverage"] for r in answerable if r.get("source_coverage") is not None]
    cited = sum(r["citations_total"] for r in answered)
    latencies = [r["latency_ms"] for r in results]
    lengths = [len(r["answer"].split()) for r in results if not r["refused"]]
    overviews = [r for r in results if r["category"] == "overview" and not r["refused"]]
    categories: dict[str, list[bool]] = {}
    for r in results:
        categories.setdefault(r["category"], []).append(bool(r["correct"]))
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "k": k,
        "answer_accuracy": _share([r["correct"] for r in answerable]),
        "overall_accuracy": _share([r["correct"] for r in results]),
        "token_f1": _mean([r["f1"] for r in answerable]),
        "recall_at_k": _share([r["retrieval_hit"] for r in answerable]),
        "mrr": _mean([r["reciprocal_rank"] for r in answerable]),
        "source_coverage": _mean(multi),
        "citation_precision": sum(r["citations_gold"] for r in answered) / cited if cited else None,
        "citation_support": _share([r["citation_supported"] for r in right]),
        "refusal_accuracy": _share([r["refused"] for r in unanswerable]),
        "false_refusals": sum(r["refused"] for r in answerable),
        "median_answer_words": statistics.median(lengths) if lengths else None,
        "overview_articles": _mean([distinct_sources(r.get("citations") or []) for r in overviews]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "per_category": {
            name: {"n": len(flags), "accuracy": _share(flags)} for name, flags in sorted(categories.items())
        },
    }
