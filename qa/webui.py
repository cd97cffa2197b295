"""What the web chat shows, as text a browser cannot mistake for markup.

Questions and articles are untrusted text: everything here goes through `html.escape` (and, for the
chat bubbles, a Markdown escape) before any markup is built around it, so `<script>` in a question
or an article is displayed, never run. Kept apart from `app.py` so it can be tested without a server.
"""

from __future__ import annotations

import html
import re

from qa.types import Answer, Citation, Passage

# Markdown punctuation that would otherwise format the text (CommonMark lets any of it be escaped).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")

UNSUPPORTED_MARK = "⚠ not supported by the cited passages"
CONFLICT_MARK = "⚠ Sources disagree: the articles report this differently."
REFUSAL_LEAD = "No answer in the articles."
ERROR_LEAD = "⚠ Could not answer:"


def escape_html(text: str | None) -> str:
    """HTML-escaped text; `$` too, as the HTML component fills a `${value}` template."""
    return html.escape(text or "", quote=True).replace("$", "&#36;")


def md_text(text: str | None) -> str:
    """Text for a Markdown chat bubble that shows exactly as typed: no HTML, no formatting.

    >>> md_text("<b>*hi*</b> [1]")
    '&lt;b&gt;\\\\*hi\\\\*&lt;/b&gt; \\\\[1\\\\]'
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text or ""), quote=False)


def chat_answer(answer: Answer) -> str:
    """The assistant's bubble: the answer with its [n] markers, refusal/conflict/notice and backend."""
    body = md_text(answer.text)
    missing = []
    for sentence in answer.unsupported:
        escaped = md_text(sentence)
        if escaped and escaped in body:
            body = body.replace(escaped, f"{escaped} *({UNSUPPORTED_MARK})*", 1)
        else:
            missing.append(escaped)
    lines = []
    if answer.refused:
        lines.append(f"**{REFUSAL_LEAD}** {body}")
    else:
        lines.append(body)
    if answer.conflict:
        lines.insert(0, f"**{md_text(CONFLICT_MARK)}**")
    for escaped in missing:
        lines.append(f"*({UNSUPPORTED_MARK}):* {escaped}")
    if answer.notice:
        lines.append(f"*Note: {md_text(answer.notice)}*")
    lines.append(f"*Answered by {md_text(answer.backend)} in {answer.latency_ms / 1000:.1f} s*")
    return "\n\n".join(lines)


def chat_error(message: str) -> str:
    """A short error bubble (never a traceback)."""
    return f"**{md_text(ERROR_LEAD)}** {md_text(message)}"


def short_error(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, cut short; its class name when it has none."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if not first:
        return type(exc).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _meta(title: str | None, date: str | None, source: str) -> str:
    parts = [f"<strong>{escape_html(title)}</strong>"] if title else []
    if date:
        parts.append(escape_html(date))
    parts.append(f'<code class="qa-file">{escape_html(source)}</code>')
    return " · ".join(parts)


def citation_html(c: Citation) -> str:
    """One cited passage, the quoted span in <mark>, with the article's title, date and file name."""
    start, end = max(0, c.start), min(len(c.text), c.end)
    passage = escape_html(c.text[:start]) + "<mark>" + escape_html(c.text[start:end]) + "</mark>"
    passage += escape_html(c.text[end:])
    return (
        f'<div class="qa-citation" data-source="{escape_html(c.source)}">'
        f'<div class="qa-head"><span class="qa-n">[{c.n}]</span> {_meta(c.title, c.date, c.source)}</div>'
        f'<blockquote class="qa-passage">{passage}</blockquote></div>'
    )


def passage_html(p: Passage) -> str:
    c = p.chunk
    return (
        f'<div class="qa-retrieved" data-source="{escape_html(c.source)}">'
        f'<div class="qa-head">{_meta(c.title, c.date, c.source)} <small>score {p.score:.3f}</small></div>'
        f'<blockquote class="qa-passage">{escape_html(c.text)}</blockquote></div>'
    )


def sources_html(answer: Answer | None) -> str:
    """The sources panel: the cited passages, then the other retrieved passages, collapsed."""
    if answer is None:
        return '<div class="qa-sources"><p class="qa-empty">Sources of the latest answer show here.</p></div>'
    parts = ['<div class="qa-sources">', f'<p class="qa-backend">Answered by <strong>{escape_html(answer.backend)}</strong></p>']
    if answer.conflict:
        parts.append(f'<p class="qa-conflict">{escape_html(CONFLICT_MARK)}</p>')
    if answer.notice:
        parts.append(f'<p class="qa-notice">Note: {escape_html(answer.notice)}</p>')
    if answer.unsupported:
        items = "".join(f"<li>{escape_html(s)}</li>" for s in answer.unsupported)
        parts.append(f'<div class="qa-unsupported">Not supported by the cited passages:<ul>{items}</ul></div>')
    if answer.citations:
        parts.append("<h4>Cited passages</h4>")
        parts.extend(citation_html(c) for c in answer.citations)
    elif answer.refused:
        parts.append('<p class="qa-refused">No passage answers this question.</p>')
    cited = {c.chunk_id for c in answer.citations}
    others = [p for p in answer.retrieved if p.chunk.id not in cited]
    if others:
        parts.append(f'<details class="qa-others"><summary>Other retrieved passages ({len(others)}), not cited</summary>')
        parts.extend(passage_html(p) for p in others)
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def error_sources_html(message: str) -> str:
    return f'<div class="qa-sources"><p class="qa-error">{escape_html(ERROR_LEAD)} {escape_html(message)}</p></div>'


CSS = """
.qa-sources mark { background: #ffe58a; color: inherit; padding: 0 1px; }
.qa-citation, .qa-retrieved { margin: 0 0 0.8em 0; }
.qa-head { font-size: 0.9em; margin-bottom: 0.2em; }
.qa-n { font-weight: bold; }
.qa-passage { margin: 0; padding: 0.3em 0.6em; border-left: 3px solid #ccc; font-size: 0.9em; white-space: pre-wrap; }
.qa-conflict, .qa-unsupported, .qa-error { color: #a33; }
.qa-notice, .qa-backend { font-size: 0.9em; }
"""
