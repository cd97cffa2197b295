"""Evaluation against a fixed question set: the set's format and its loader.

The loader is strict where it matters: wrong types and malformed lines are errors that name the
line. Fields it does not know (question sets from elsewhere carry their own, e.g. a quiz's choices) are
ignored, and `load_questions` says so once, naming them, so a misspelt field does not pass unnoticed.
"""

from __future__ import annotations

from qa.errors import QAError
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"

REQUIRED_FIELDS = {"id": str, "question": str, "answers": list, "sources": list, "answerable": bool}
OPTIONAL_FIELDS = {"history": list, "required": list, "category": str}


# The share of each development set kept out of fitting the reader (training/train_reader.py), by a
# hash of the question id, so every run and every tool agrees on which questions were never seen.
HELD_BACK = 0.3


def held_back(question_id: str) -> bool:
    """Is this question in the held-back split (never used to fit or tune the reader)?

    >>> sum(held_back(f"q{i}") for i in range(1000))
    306
    """
    return int(hashlib.sha1(question_id.encode()).hexdigest()[:8], 16) % 100 < HELD_BACK * 100


class QuestionSetError(QAError, ValueError):
    """The question set cannot be used as it is; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    """One graded question. `required` entries use '|' between alternatives."""

    id: str
    question: str
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    answerable: bool
    category: str = "uncategorised"
    history: tuple[dict, ...] = field(default_factory=tuple)
    required: tuple[str, ...] = field(default_factory=tuple)


def parse_question(line: str, where: str) -> Question:
    """One JSONL line as a Question; a QuestionSetError naming `where` when it is not one.

    >>> parse_question('{"id": "a", "question": "Who?", "answers": ["Kim"], "sources": ["x.txt"], '
    ...                '"answerable": true}', "f:1").category
    'uncategorised'
    >>> parse_question('{"id": "a", "question": "Who?", "answers": [], "sources": [], '
    ...                '"answerable": false, "choices": []}', "f:2").answerable
    False
    """
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise QuestionSetError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(data, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(data).__name__}")
    allowed = {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}
    data = {name: value for name, value in data.items() if name in allowed}
    for name in REQUIRED_FIELDS:
        if name not in data:
            raise QuestionSetError(f"{where}: missing field {name!r}")
    for name, value in data.items():
        if not isinstance(value, allowed[name]):
            raise QuestionSetError(f"{where}: field {name!r} must be {allowed[name].__name__}, "
                                   f"got {type(value).__name__}")
    for name in ("answers", "sources", "required"):
        if not all(isinstance(x, str) and x.strip() for x in data.get(name, [])):
            raise QuestionSetError(f"{where}: field {name!r} must be a list of non-empty strings")
    for turn in data.get("history", []):
        if not (isinstance(turn, dict) and set(turn) == {"role", "content"}
                and turn["role"] in ("user", "assistant") and isinstance(turn["content"], str)):
            raise QuestionSetError(f"{where}: each history turn must be {{\"role\": user|assistant, \"content\"}}")
    if not data["id"].strip() or not data["question"].strip():
        raise QuestionSetError(f"{where}: 'id' and 'question' must not be empty")
    if data["answerable"] and not (data["answers"] and data["sources"]):
        raise QuestionSetError(f"{where}: an answerable question needs 'answers' and 'sources'")
    return Question(
        id=data["id"],
        question=data["question"],
        answers=tuple(data["answers"]),
        sources=tuple(data["sources"]),
        answerable=data["answerable"],
        category=data.get("category") or "uncategorised",
        history=tuple(data.get("history", [])),
        required=tuple(data.get("required", [])),
    )


def extra_fields(line: str) -> set[str]:
    """The fields of a question line that the format does not know (ignored by `parse_question`).

    >>> sorted(extra_fields('{"id": "a", "choices": [], "date": "2024"}'))
    ['choices', 'date']
    """
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return set()
    return set(data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS) if isinstance(data, dict) else set()


def load_questions(path: Path | str | None = None) -> list[Question]:
    """Every question of a JSONL file (blank lines ignored); QuestionSetError on any bad line. Fields
    the format does not know are ignored with one warning line on stderr naming them."""
    path = Path(path) if path else DEFAULT_QUESTIONS
    if not path.is_file():
        raise QuestionSetError(f"no such question file: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionSetError(f"cannot read the question file {path}: {e}") from None
    questions: list[Question] = []
    seen: set[str] = set()
    ignored: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        ignored |= extra_fields(line)
        q = parse_question(line, f"{path}:{number}")
        if q.id in seen:
            raise QuestionSetError(f"{path}:{number}: duplicate id {q.id!r}")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionSetError(f"the question file {path} holds no questions")
    if ignored:
        print(f"warning: {path}: ignoring fields this format does not use: {', '.join(sorted(ignored))}",
              file=sys.stderr)
    return questions
