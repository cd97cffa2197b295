"""All configuration in one place: defaults, overridden by environment, checked when built."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import QAError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(QAError, ValueError):
    """A setting has a value the assistant cannot work with."""


def _env_int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _env_float(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _env_bool(env: dict, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Config:
    """Every setting of the assistant.

    Build it with `Config.from_env()`; override single fields with `config.with_(k=8)`.
    """

    corpus_dirs: tuple[Path, ...] = (PROJECT_ROOT / "seeds",)
    store_dir: Path = PROJECT_ROOT / "vectorstore"
    collection: str = "news"
    chroma_host: str | None = None
    chroma_port: int = 8000
    # Seconds one call to a Chroma server may take. A local server answers an upsert of 256 chunks
    # in well under a second; 30 s leaves room for a loaded machine and still ends a hang.
    chroma_timeout: float = 30.0

    # Chunking: sentence-aware chunks of at most this many characters.
    chunk_chars: int = 700
    chunk_overlap_sentences: int = 1

    # Retrieval.
    k: int = 8
    fetch_k: int = 24
    per_source_cap: int = 2
    rrf_k: int = 60

    # Answering.
    max_question_chars: int = 2000
    max_answer_sentences: int = 3
    history_turns: int = 4

    # Optional generator (OpenAI or any OpenAI-compatible server).
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    offline: bool = False
    llm_timeout: float = 60.0  # seconds for the whole call, retries included (QA_LLM_TIMEOUT)
    llm_retries: int = 2
    llm_max_tokens: int = 400

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Config":
        env = dict(os.environ if env is None else env)
        corpus = env.get("QA_CORPUS")
        values = dict(
            corpus_dirs=tuple(Path(p) for p in corpus.split(os.pathsep) if p)
            if corpus
            else cls.corpus_dirs,
            store_dir=Path(env["QA_STORE_DIR"]) if env.get("QA_STORE_DIR") else cls.store_dir,
            collection=env.get("QA_COLLECTION") or cls.collection,
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=_env_int(env, "CHROMA_PORT", cls.chroma_port),
            chroma_timeout=_env_float(env, "QA_CHROMA_TIMEOUT", cls.chroma_timeout),
            chunk_chars=_env_int(env, "QA_CHUNK_CHARS", cls.chunk_chars),
            k=_env_int(env, "QA_K", cls.k),
            fetch_k=_env_int(env, "QA_FETCH_K", cls.fetch_k),
            per_source_cap=_env_int(env, "QA_PER_SOURCE_CAP", cls.per_source_cap),
            max_question_chars=_env_int(env, "QA_MAX_QUESTION_CHARS", cls.max_question_chars),
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            llm_model=env.get("QA_LLM_MODEL") or cls.llm_model,
            offline=_env_bool(env, "QA_OFFLINE", cls.offline),
            llm_timeout=_env_float(env, "QA_LLM_TIMEOUT", cls.llm_timeout),
            llm_retries=_env_int(env, "QA_LLM_RETRIES", cls.llm_retries),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).checked()

    def with_(self, **changes) -> "Config":
        return replace(self, **changes).checked()

    def checked(self) -> "Config":
        object.__setattr__(self, "store_dir", Path(self.store_dir))
        object.__setattr__(self, "corpus_dirs", tuple(Path(p) for p in self.corpus_dirs))
        if not self.collection or not self.collection.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"collection name must be letters, digits, - or _, got {self.collection!r}")
        if not 1 <= self.chroma_port <= 65535:
            raise ConfigError(f"CHROMA_PORT must be 1-65535, got {self.chroma_port}")
        if not 0 < self.chroma_timeout < float("inf"):  # also refuses nan
            raise ConfigError(f"QA_CHROMA_TIMEOUT must be a number of seconds above 0, got {self.chroma_timeout}")
        if self.chunk_chars < 100:
            raise ConfigError(f"chunk size must be at least 100 characters, got {self.chunk_chars}")
        if self.k < 1 or self.k > 50:
            raise ConfigError(f"k must be between 1 and 50, got {self.k}")
        if self.fetch_k < self.k:
            object.__setattr__(self, "fetch_k", self.k)
        if self.per_source_cap < 1:
            raise ConfigError(f"per-source cap must be at least 1, got {self.per_source_cap}")
        if self.max_question_chars < 10:
            raise ConfigError("the question limit must be at least 10 characters")
        if self.llm_retries < 0:
            raise ConfigError(f"QA_LLM_RETRIES must be 0 or more, got {self.llm_retries}")
        # nan compares false with everything and inf is no deadline: both would let a call hang.
        if not (isinstance(self.llm_timeout, (int, float)) and math.isfinite(self.llm_timeout) and self.llm_timeout > 0):
            raise ConfigError(f"QA_LLM_TIMEOUT must be a number of seconds above 0, got {self.llm_timeout!r}")
        if self.llm_max_tokens < 1:
            raise ConfigError(f"the LLM token limit must be at least 1, got {self.llm_max_tokens}")
        return self

    @property
    def use_llm(self) -> bool:
        """An LLM answers when a key or a base URL is configured and offline is not forced."""
        return not self.offline and bool(self.openai_api_key or self.openai_base_url)

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def records_path(self) -> Path:
        return self.store_dir / "records.sqlite"

    @property
    def keywords_path(self) -> Path:
        """One keyword index per collection (the default collection keeps the original name)."""
        if self.collection == Config.collection:
            return self.store_dir / "keywords.sqlite"
        return self.store_dir / f"keywords-{self.collection}.sqlite"

    def describe(self) -> dict:
        """The settings worth recording beside results (never the API key)."""
        return {
            "store": self.chroma_host and f"{self.chroma_host}:{self.chroma_port}" or str(self.store_dir),
            "collection": self.collection,
            "chunk_chars": self.chunk_chars,
            "k": self.k,
            "fetch_k": self.fetch_k,
            "per_source_cap": self.per_source_cap,
            "llm": self.llm_model if self.use_llm else None,
        }
