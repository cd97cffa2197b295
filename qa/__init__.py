"""Question answering with cited passages over a folder of news articles.

Example (Python)::

    from qa import answer
    print(answer("Which Russian ambassador did Seoul summon?").text)
"""

import os

# Nothing may phone home or reach a model hub: the model ships in site-packages.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.assistant import Assistant, QuestionError, answer
from qa.config import Config, ConfigError
from qa.types import Answer, Chunk, Citation, Passage

__all__ = ["Answer", "Assistant", "Chunk", "Citation", "Config", "ConfigError", "Passage", "QuestionError", "answer"]
