"""Question answering with cited passages over a folder of news articles.

Example (Python)::

    from qa import answer
    print(answer("Which Russian ambassador did Seoul summon?").text)
"""

import os

# Nothing may phone home or reach a model hub: the model ships in site-packages.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.logs import install_redaction

install_redaction()  # no log line of any library may carry a key or a URL's credentials

# The names below are imported on first use (PEP 562), so `qa --help` or `qa claims` does not pay
# for LangChain and Chroma; `from qa import answer` works as before.
_LAZY = {
    "Assistant": "qa.assistant",
    "QuestionError": "qa.assistant",
    "answer": "qa.assistant",
    "Config": "qa.config",
    "ConfigError": "qa.config",
    "Answer": "qa.types",
    "Chunk": "qa.types",
    "Citation": "qa.types",
    "Passage": "qa.types",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


__all__ = ["Answer", "Assistant", "Chunk", "Citation", "Config", "ConfigError", "Passage", "QuestionError", "answer"]
