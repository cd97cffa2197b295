"""Shared fixtures. Nothing in the tests may reach beyond this machine: an autouse fixture refuses
any socket connection to an address outside the loopback range."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QA_LLM_MODEL", "CHROMA_HOST", "CHROMA_PORT", "QA_STORE_DIR"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self, address):
        if not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach {address!r}; only loopback is allowed")
        return real_connect(self, address)

    def guarded_connect_ex(self, address):
        if not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach {address!r}; only loopback is allowed")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield


class BagOfWordsEmbeddings(Embeddings):
    """Deterministic fake vectors: each content word hashed to a dimension of its own, so texts that
    share what they are about are close, as they are for the real model; for tests where the model is
    not the point."""

    size = 384

    def vector(self, text: str) -> list[float]:
        import hashlib
        import math
        import re

        from qa.lexicon import STOPWORDS

        v = [0.0] * self.size
        for word in (w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS):
            v[int(hashlib.sha1(word.encode()).hexdigest()[:8], 16) % self.size] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts):
        return [self.vector(t) for t in texts]

    def embed_query(self, text):
        return self.vector(text)

    def embed_array(self, texts, cache=False):
        import numpy as np

        return np.array([self.vector(t) for t in texts], dtype=np.float32)


@pytest.fixture
def fake_embeddings():
    return BagOfWordsEmbeddings()


@pytest.fixture(scope="session")
def minilm():
    """The real bundled model (loaded once per test session)."""
    from qa.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the seed articles."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for f in SEEDS.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


@pytest.fixture(scope="session")
def seeds_assistant(tmp_path_factory, minilm):
    """One Assistant over a store built from the seeds with the real model, shared by a session."""
    from qa import Assistant, Config

    store = tmp_path_factory.mktemp("seed-store")
    return Assistant(Config.from_env(store_dir=store, corpus_dirs=(SEEDS,)), minilm)
