"""No credential in any log line: API keys, bearer tokens and credentials in URLs are redacted.

`install_redaction()` (called once, when `qa` is imported) wraps logging's record factory, so every
record of every logger (the HTTP client's "HTTP Request: POST http://user:key@host/v1/...?api-key=..."
included) is redacted when it is made, whichever handler later writes it.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Sequence

REDACTED = "[redacted]"
_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), REDACTED),  # OpenAI-style keys
    (re.compile(r"(?i)(?<=\bbearer\s)[A-Za-z0-9._~+/=\-]{6,}"), REDACTED),
    # user:password@ in a URL (anchored on "://" so a run of letters is never re-scanned: linear time)
    (re.compile(r"://[^\s/@]+@"), f"://{REDACTED}@"),
    # a key in a query string: ?api-key=..., &token=..., ?sig=...
    (
        re.compile(r"(?i)([?&](?:api[-_]?key|key|token|access[-_]?token|sig|signature|password|secret)=)[^&\s#\"']+"),
        rf"\g<1>{REDACTED}",
    ),
)


def scrub(text: str, secrets: Sequence[str | None] = ()) -> str:
    """`text` with API keys and URL credentials blanked out, so no log line, error, notice or answer
    can leak one.

    >>> scrub("bad key sk-abc123456789 (Bearer xyz), Bearer abcdefgh", ["xyz"])
    'bad key [redacted] (Bearer [redacted]), Bearer [redacted]'
    >>> scrub("POST http://me:k3y@llm.local/v1/chat/completions?api-key=k3y&x=1")
    'POST http://[redacted]@llm.local/v1/chat/completions?api-key=[redacted]&x=1'
    """
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, REDACTED)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


_installed = False


def install_redaction() -> None:
    """Make every log record redacted (message, and traceback text) from now on; idempotent."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def redacted_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        secrets = [os.environ.get("OPENAI_API_KEY")]
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself when the record is written
            return record
        clean = scrub(message, secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(formatter.formatException(record.exc_info), secrets)
        return record

    logging.setLogRecordFactory(redacted_record)
    _installed = True
