"""The Assistant: one object holding the model, the store and the answering chain, reused per question."""

from __future__ import annotations

from qa.errors import QAError
import logging
import threading
import time
from typing import Iterator

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from qa.answering import Draft, OfflineAnswerer, normalize_history, search_query
from qa.claims import ClaimAwareAnswerer
from qa.config import Config
from qa.retrieval import HybridRetriever
from qa.store import ChunkStore, ingest, open_store
from qa.text import clean_text, pieces
from qa.types import Answer

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
        self.store: ChunkStore = open_store(self.config, embeddings)
        if self.store.count() == 0 and auto_ingest:
            dirs = ", ".join(str(d) for d in self.config.corpus_dirs)
            log.warning("The store is empty: building it from %s (once; later runs reuse it).", dirs)
            report = ingest(self.config, embeddings)
            log.warning("Store built: %s", report.summary())
            self.store = open_store(self.config, embeddings)
        elif self.store.keywords.count() != self.store.count():
            self.store.sync_keywords()
        self.retriever = HybridRetriever(
            store=self.store,
            k=self.config.k,
            fetch_k=self.config.fetch_k,
            per_source_cap=self.config.per_source_cap,
            rrf_k=self.config.rrf_k,
        )
        embed = getattr(embeddings, "embed_array", None)
        self.offline = OfflineAnswerer(
            doc_freq=self.store.keywords.doc_freq,
            total_docs=self.store.keywords.count,
            embed=embed,
            max_sentences=self.config.max_answer_sentences,
            article_text=self.store.keywords.source_text,
            in_metadata=self.store.keywords.in_metadata,
        )
        # Disagreeing figures and timeline questions get their own answers (qa/claims.py).
        self.claim_aware = ClaimAwareAnswerer(self.offline, keywords=self.store.keywords)
        self.generator = generator if generator is not None else self._default_generator()
        self.chain = self._build_chain(self.generator)

    # --- the chain -------------------------------------------------------------------------
    def _default_generator(self):
        """The LLM answerer when one is configured (falling back to offline), else offline."""
        if self.config.use_llm:
            from qa.llm import llm_generator

            return llm_generator(self.config, self.claim_aware)  # its fallback knows about disagreeing figures
        return None

    def _build_chain(self, generator) -> Runnable:
        """question/history -> query -> passages -> draft, as one LangChain runnable."""
        answerer = generator if generator is not None else RunnableLambda(self.claim_aware)
        return (
            RunnablePassthrough.assign(query=lambda x: search_query(x["question"], x["history"]))
            | RunnablePassthrough.assign(passages=lambda x: self.retriever.search(x["query"]))
            | RunnablePassthrough.assign(draft=answerer)
        )

    @property
    def backend(self) -> str:
        return f"llm:{self.config.llm_model}" if self.config.use_llm else "offline"

    # --- asking ----------------------------------------------------------------------------
    def answer(self, question: str, history=None) -> Answer:
        """Answer one question; `history` is the earlier turns, [{"role", "content"}, ...]."""
        started = time.perf_counter()
        question = check_question(question, self.config.max_question_chars)
        turns = check_history(history)[-2 * self.config.history_turns :]
        out = self.chain.invoke({"question": question, "history": turns})
        return self._finish(out["draft"], out["passages"], started)

    def stream(self, question: str, history=None) -> Iterator[str | Answer]:
        """Yield the answer text as it is produced (str pieces), then the whole `Answer`."""
        started = time.perf_counter()
        question = check_question(question, self.config.max_question_chars)
        turns = check_history(history)[-2 * self.config.history_turns :]
        inputs = {"question": question, "history": turns}
        streamer = getattr(self.generator, "stream_answer", None)
        if streamer is None:
            answer = self.answer(question, history)
            for piece in pieces(answer.text):
                yield piece
            yield answer
            return
        query = search_query(question, turns)
        passages = self.retriever.search(query)
        draft = None
        for item in streamer({**inputs, "query": query, "passages": passages}):
            if isinstance(item, Draft):
                draft = item
            else:
                yield item
        yield self._finish(draft, passages, started)

    def _finish(self, draft: Draft, passages, started: float) -> Answer:
        backend = draft.backend or "offline"
        return Answer(
            text=draft.text,
            refused=draft.refused,
            citations=draft.citations,
            retrieved=passages,
            backend=backend,
            latency_ms=(time.perf_counter() - started) * 1000,
            notice=draft.notice,
            unsupported=draft.unsupported,
            conflict=draft.conflict,
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
