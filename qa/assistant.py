"""The Assistant: one object holding the model, the store and the answering chain, reused per question."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Iterator

from langchain_core.runnables import Runnable, RunnableLambda

from qa.answering import Answerer, Specialists
from qa.config import Config
from qa.errors import QAError
from qa.questions import read_question
from qa.reader import ExtractiveReader
from qa.retrieval import HybridRetriever
from qa.ingest import open_for_questions
from qa.store import ChunkStore
from qa.text import clean_text
from qa.types import Answer, Ask, Draft, Evidence, Turn

log = logging.getLogger("qa")


class QuestionError(QAError, ValueError):
    """The question cannot be asked as it is (empty, too long, not text)."""


def check_question(question, max_chars: int) -> str:
    """The question made plain (`clean_text`: NFKC, one space for any whitespace, no control
    characters or lone surrogates); or a QuestionError saying what is wrong with it.

    >>> check_question("  Who is\u00a0Kim\u2028Jong Un?  ", 100)
    'Who is Kim Jong Un?'
    >>> check_question("   ", 100)
    Traceback (most recent call last):
    qa.assistant.QuestionError: the question is empty
    """
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > 4 * max_chars:  # refused before any pass over it; NFKC can only add a little
        raise QuestionError(f"the question is {len(question):,} characters; the limit is {max_chars:,}")
    question = clean_text(question)
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > max_chars:
        raise QuestionError(f"the question is {len(question):,} characters; the limit is {max_chars:,}")
    return question


# The history is context: the answerers read the last `Config.history_turns` exchanges, the LLM the
# first 1,000 characters of each turn (qa/llm.py), the offline answerer 16 words of the last answer.
HISTORY_MAX_TURNS = 2 * Config.history_turns
HISTORY_TURN_CHARS = 4000  # an answer is 1-3 sentences or a short timeline; 4x the LLM's cut


def check_history(history, max_turns: int = HISTORY_MAX_TURNS, max_chars: int = HISTORY_TURN_CHARS) -> list[dict]:
    """The last `max_turns` earlier turns as role/content dicts, each cleaned like the question and
    cut to `max_chars`; a QuestionError when `history` is not a list of turns.

    Turns that are not a {"role", "content"} dict or a (user, assistant) pair are dropped, so a history
    of any size costs at most `max_turns` turns of `max_chars` characters to read.

    >>> check_history([("Who?", "Kim.")])
    [{'role': 'user', 'content': 'Who?'}, {'role': 'assistant', 'content': 'Kim.'}]
    >>> check_history([{"role": "user", "content": "Who\\u00a0is\\ud800 he?" + " " * 80_000}])
    [{'role': 'user', 'content': 'Who is he?'}]
    >>> check_history("Who?")
    Traceback (most recent call last):
    qa.assistant.QuestionError: the history must be a list of turns, not str
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise QuestionError(f"the history must be a list of turns, not {type(history).__name__}")
    turns = normalize_history(history[-max_turns:])[-max_turns:]
    cleaned = [{"role": t["role"], "content": clean_text(t["content"][: 4 * max_chars])[:max_chars]} for t in turns]
    return [t for t in cleaned if t["content"]]


def normalize_history(history) -> list[dict]:
    """Accept [{"role", "content"}] or [(user, assistant)] pairs; return role/content dicts."""
    out: list[dict] = []
    for turn in history or []:
        if isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if role in {"user", "assistant"} and isinstance(content, str) and content.strip():
                out.append({"role": role, "content": content})
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            for role, content in zip(("user", "assistant"), turn):
                if isinstance(content, str) and content.strip():
                    out.append({"role": role, "content": content})
    return out


class Assistant:
    """Answers questions about the articles in the store.

    Example::

        assistant = Assistant()
        assistant.answer("Which Russian ambassador did Seoul summon?").text
    """

    def __init__(self, config: Config | None = None, embeddings=None, *, auto_ingest: bool = True, generator=None):
        self.config = config or Config.from_env()
        if embeddings is None:
            from qa.embedding import MiniLMEmbeddings

            embeddings = MiniLMEmbeddings()
        self.embeddings = embeddings
        # Built from the configured corpus only when it never was; an emptied store is an error.
        self.store: ChunkStore = open_for_questions(self.config, embeddings, build=auto_ingest)
        self.retriever = HybridRetriever(
            store=self.store,
            k=self.config.k,
            fetch_k=self.config.fetch_k,
            per_source_cap=self.config.per_source_cap,
            rrf_k=self.config.rrf_k,
        )
        # The offline reader answers; the specialists route timelines, figures and article facts.
        self.reader = ExtractiveReader(k=self.config.k, fetch_k=self.config.fetch_k, vectors=embeddings)
        self.offline: Answerer = Specialists(self.reader)
        self.generator = generator if generator is not None else self._default_generator()
        self.answerer: Answerer = self.generator if self.generator is not None else self.offline
        self.chain = self._build_chain()

    # --- the chain -------------------------------------------------------------------------
    def _default_generator(self) -> Answerer | None:
        """The LLM answerer when one is configured (falling back to the offline one), else None."""
        if self.config.use_llm:
            from qa.llm import llm_generator

            return Specialists(llm_generator(self.config, self.reader))
        return None

    def _build_chain(self) -> Runnable:
        """(question, history) -> Ask -> (Ask, Evidence), as one LangChain runnable; the answerer
        then streams the answer from it."""
        return RunnableLambda(lambda asked: self.read(*asked)) | RunnableLambda(
            lambda ask: (ask, self.retriever.evidence(ask))
        )

    @property
    def backend(self) -> str:
        return f"llm:{self.config.llm_model}" if self.config.use_llm else "offline"

    # --- asking ----------------------------------------------------------------------------
    def read(self, question: str, history=None) -> Ask:
        """The question checked, classified and given what the conversation lends it."""
        question = check_question(question, self.config.max_question_chars)
        turns = tuple(Turn(t["role"], t["content"]) for t in check_history(history)[-2 * self.config.history_turns :])
        return read_question(question, turns)

    def answer(self, question: str, history=None) -> Answer:
        """Answer one question; `history` is the earlier turns, [{"role", "content"}, ...]."""
        *_, answer = self.stream(question, history)
        return answer

    def stream(self, question: str, history=None) -> Iterator[str | Answer]:
        """Yield the answer text as it is produced (str pieces), then the whole `Answer`."""
        started = time.perf_counter()
        ask, evidence = self.chain.invoke((question, history))
        draft: Draft | None = None
        for item in self.answerer.stream(ask, evidence):
            if isinstance(item, Draft):
                draft = item
            else:
                yield item
        yield self._finish(draft, evidence, started)

    def _finish(self, draft: Draft, evidence: Evidence, started: float) -> Answer:
        citations = draft.citations
        if any(not c.title for c in citations):
            titles = self.retriever.derived_titles()
            citations = [c if c.title else replace(c, title=titles.get(c.source)) for c in citations]
        return Answer(
            text=draft.text,
            refused=draft.refused,
            citations=citations,
            retrieved=list(evidence.passages),
            backend=draft.backend or "offline",
            latency_ms=(time.perf_counter() - started) * 1000,
            notice=draft.notice,
            unsupported=draft.unsupported,
            conflict=draft.conflict,
            spans=draft.spans,
            confidence=draft.confidence,
            corrections=list(evidence.corrections),
        )


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def answer(question: str, history=None) -> Answer:
    """Answer with the process-wide default Assistant (built on first use from the environment)."""
    return default_assistant().answer(question, history)
