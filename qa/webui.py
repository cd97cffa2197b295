"""What the web chat shows, as text a browser cannot mistake for markup.

Questions and articles are untrusted text: everything here goes through `html.escape` (and, for the
chat bubbles, a Markdown escape) before any markup is built around it, so `<script>` in a question
or an article is displayed, never run. The only markup in a bubble is ours: `[n]` links and list
items. Kept apart from `app.py` so it can be tested without a server.

How an answer and its sources find each other: answer number k (0-based, the k-th assistant bubble)
links its marker `[n]` to `#qa-a{k}-c{n}`, the id of its n-th cited passage in section `#qa-a{k}` of
the sources panel. The panel holds every answer's section; CSS shows the latest, and the page's
script (`SCRIPT`) shows another when its answer or one of its markers is clicked.
"""

from __future__ import annotations

import datetime
import html
import re
import time
from typing import Callable, Iterable, Iterator

from qa.collection import derived_title
from qa.store import StoredArticle
from qa.types import Answer, Citation, Passage

# Markdown punctuation that would otherwise format the text (CommonMark lets any of it be escaped).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")
_MARKER = re.compile(r"\[(\d+)\]")
_FLAG = "\x00"  # marks where an unsupported sentence ends, while the text is still plain

UNSUPPORTED_MARK = "⚠ not supported by the cited passages"
CONFLICT_MARK = "⚠ Sources disagree: the articles report this differently."
REFUSAL_LEAD = "No answer in the articles."
ERROR_LEAD = "⚠ Could not answer:"
EMPTY_QUESTION = "Type a question first, or click one of the examples."
EMPTY_PANEL = "The passages each answer cites show here. Click an answer, or one of its [n], to see its sources."

# Streaming: the offline answerer makes its whole answer at once, so its words arrive together and
# the browser would draw them in one lump. A short pause between words that arrive faster than this
# makes them appear one by one (about 70 words a second, faster than anyone reads), and the pauses
# of one answer add up to at most STREAM_BUDGET_S, so a long answer is never held back for long.
STREAM_GAP_S = 0.014
STREAM_BUDGET_S = 0.5


def escape_html(text: str | None) -> str:
    """HTML-escaped text; `$` too, as the HTML component fills a `${value}` template."""
    return html.escape(text or "", quote=True).replace("$", "&#36;")


def md_text(text: str | None) -> str:
    """Text for a Markdown chat bubble that shows exactly as typed: no HTML, no formatting.

    >>> md_text("<b>*hi*</b> [1]")
    '&lt;b&gt;\\\\*hi\\\\*&lt;/b&gt; \\\\[1\\\\]'
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text or ""), quote=False)


def marker_link(k: int, n: int) -> str:
    """The clickable `[n]` of answer k: a link to its passage in the sources panel.

    >>> marker_link(0, 2)
    '<a class="qa-ref" href="#qa-a0-c2">[2]</a>'
    """
    return f'<a class="qa-ref" href="#qa-a{k}-c{n}">[{n}]</a>'


def answer_markdown(text: str, k: int | None = None) -> str:
    """An answer's text as safe Markdown: lines starting with "- " become list items, and (when the
    answer's number `k` is known) each `[n]` becomes a link to its passage.

    >>> answer_markdown("Timeline:\\n- 2024: a. [1]", k=3)
    'Timeline\\\\:\\n- 2024\\\\: a\\\\. <a class="qa-ref" href="#qa-a3-c1">[1]</a>'
    >>> answer_markdown("*Not* a list [1]")
    '\\\\*Not\\\\* a list \\\\[1\\\\]'
    """
    lines = []
    for line in text.split("\n"):
        bullet = line.startswith("- ")
        body = line[2:] if bullet else line
        parts, pos = [], 0
        for m in _MARKER.finditer(body):
            parts.append(md_text(body[pos : m.start()]))
            parts.append(marker_link(k, int(m[1])) if k is not None else md_text(m[0]))
            pos = m.end()
        parts.append(md_text(body[pos:]))
        lines.append(("- " if bullet else "") + "".join(parts))
    return "\n".join(lines)


def bold_spans(markdown: str, answer: Answer) -> str:
    """The answer's Markdown with the words that answer the question (its spans) in bold, once each.

    >>> from qa.types import Span
    >>> bold_spans("It cost 5 dollars", Answer("", False, spans=[Span(1, 8, 9, "5")]))
    'It cost **5** dollars'
    """
    for span in answer.spans:
        escaped = md_text(span.text)
        if escaped.strip() and escaped in markdown:
            markdown = markdown.replace(escaped, f"**{escaped}**", 1)
    return markdown


def chat_answer(answer: Answer, k: int | None = None) -> str:
    """The assistant's bubble: the answer with its [n] links (when `k`, its number, is given), the
    refusal/conflict/notice marks and the backend."""
    text = answer.text.replace(_FLAG, "")
    missing = []
    for sentence in answer.unsupported:
        if sentence and sentence in text:
            text = text.replace(sentence, sentence + _FLAG, 1)
        else:
            missing.append(md_text(sentence))
    body = bold_spans(answer_markdown(text, k), answer).replace(_FLAG, f" *({UNSUPPORTED_MARK})*")
    lines = [f"**{REFUSAL_LEAD}** {body}" if answer.refused else body]
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


def paced(
    items: Iterable,
    gap: float = STREAM_GAP_S,
    budget: float = STREAM_BUDGET_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator:
    """The stream's items with each str piece split into words, waiting so that words arriving
    together are at least `gap` apart, `budget` seconds of waiting at most; other items pass as they are.

    >>> naps = []
    >>> list(paced(["one two ", "three", 42], sleep=naps.append, clock=lambda: 0.0))
    ['one ', 'two ', 'three', 42]
    >>> naps
    [0.014, 0.014]
    """
    waited, last = 0.0, None
    for item in items:
        if not isinstance(item, str):
            yield item
            continue
        for word in re.findall(r"\s*\S+\s*|\s+", item):
            if last is not None and waited < budget:
                pause = min(gap - (clock() - last), budget - waited)
                if pause > 0:
                    sleep(pause)
                    waited += pause
            yield word
            last = clock()


# --- articles and the collection ----------------------------------------------------------
def article_title(article: StoredArticle) -> str:
    """The title to show: the stored one, else the one its citations show (`qa.collection.derived_title`,
    from the first sentence), else the file name."""
    if article.title:
        return article.title
    return derived_title(article.opening) if article.opening.strip() else article.source


def titles_of(articles: Iterable[StoredArticle]) -> dict[str, str]:
    """file name -> the title to show for it."""
    return {a.source: article_title(a) for a in articles}


def day(iso: str | None) -> datetime.date | None:
    """An ISO date as a date; None for a missing or impossible one ("2024-02-30")."""
    try:
        return datetime.date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def nice_date(d: datetime.date) -> str:
    """A date as people write it.

    >>> nice_date(datetime.date(2024, 10, 29))
    '29 Oct 2024'
    """
    return f"{d.day} {d:%b %Y}"


def collection_summary(articles: list[StoredArticle]) -> str:
    """One line saying what is loaded: how many articles and the span of their dates.

    >>> a = StoredArticle("a.txt", None, "2024-10-29", None, "")
    >>> b = StoredArticle("b.txt", None, "2024-11-02", None, "")
    >>> collection_summary([a, b, StoredArticle("c.txt", None, None, None, "")])
    '3 articles, 29 Oct 2024 – 2 Nov 2024 (1 undated)'
    """
    n = len(articles)
    line = f"{n} article{'s' if n != 1 else ''}"
    dates = sorted(d for d in (day(a.date) for a in articles) if d)
    if dates:
        span = nice_date(dates[0]) if dates[0] == dates[-1] else f"{nice_date(dates[0])} – {nice_date(dates[-1])}"
        line += f", {span}"
        if len(dates) < n:
            line += f" ({n - len(dates)} undated)"
    elif n:
        line += ", undated"
    return line


def collection_html(articles: list[StoredArticle], collection: str, backend: str) -> str:
    """The header line naming the collection, with the article list one click away."""
    rows = "".join(
        "<tr>"
        f"<td>{escape_html(article_title(a))}</td>"
        f"<td>{escape_html(nice_date(d) if (d := day(a.date)) else '—')}</td>"
        f"<td>{escape_html(a.publisher or '—')}</td>"
        f'<td class="qa-file">{escape_html(a.source)}</td>'
        "</tr>"
        for a in articles
    )
    return (
        '<div class="qa-collection">'
        f'<p class="qa-summary"><strong>{escape_html(collection_summary(articles))}</strong>'
        f" in the collection “{escape_html(collection)}” · answers by {escape_html(backend)}</p>"
        f'<details class="qa-articles"><summary>List the articles</summary>'
        "<table><thead><tr><th>Title</th><th>Date</th><th>Publisher</th><th>File</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details></div>"
    )


# --- the sources panel --------------------------------------------------------------------
def _meta(title: str | None, date: str | None, source: str) -> str:
    parts = [f"<strong>{escape_html(title)}</strong>"] if title else []
    if date:
        parts.append(escape_html(date))
    parts.append(f'<span class="qa-file">{escape_html(source)}</span>')
    return " · ".join(parts)


def citation_html(c: Citation, k: int = 0, titles: dict[str, str] | None = None) -> str:
    """Cited passage n of answer k, the quoted span in <mark>, with the article's title, date and file."""
    start, end = max(0, c.start), min(len(c.text), c.end)
    passage = escape_html(c.text[:start]) + "<mark>" + escape_html(c.text[start:end]) + "</mark>"
    passage += escape_html(c.text[end:])
    title = c.title or (titles or {}).get(c.source)
    return (
        f'<div class="qa-citation" id="qa-a{k}-c{c.n}">'
        f'<div class="qa-head"><span class="qa-n">[{c.n}]</span> {_meta(title, c.date, c.source)}</div>'
        f'<blockquote class="qa-passage">{passage}</blockquote></div>'
    )


def passage_html(p: Passage, titles: dict[str, str] | None = None) -> str:
    c = p.chunk
    title = c.title or (titles or {}).get(c.source)
    return (
        '<div class="qa-retrieved">'
        f'<div class="qa-head">{_meta(title, c.date, c.source)} <small>score {p.score:.3f}</small></div>'
        f'<blockquote class="qa-passage">{escape_html(c.text)}</blockquote></div>'
    )


def _section(k: int, question: str, body: list[str], extra_class: str = "") -> str:
    return (
        f'<section class="qa-answer-sources{extra_class}" id="qa-a{k}">'
        f'<p class="qa-for">Sources of answer {k + 1}: <q>{escape_html(question)}</q></p>'
        + "".join(body)
        + "</section>"
    )


def sources_section(answer: Answer, k: int, question: str, titles: dict[str, str] | None = None) -> str:
    """Answer k's part of the panel: its cited passages, then the other retrieved passages, collapsed."""
    parts = []
    if answer.conflict:
        parts.append(f'<p class="qa-conflict">{escape_html(CONFLICT_MARK)}</p>')
    if answer.notice:
        parts.append(f'<p class="qa-notice">Note: {escape_html(answer.notice)}</p>')
    if answer.unsupported:
        items = "".join(f"<li>{escape_html(s)}</li>" for s in answer.unsupported)
        parts.append(f'<div class="qa-unsupported">Not supported by the cited passages:<ul>{items}</ul></div>')
    if answer.citations:
        parts.append("<h4>Cited passages</h4>")
        parts.extend(citation_html(c, k, titles) for c in answer.citations)
    elif answer.refused:
        parts.append('<p class="qa-refused">No passage answers this question.</p>')
    cited = {c.chunk_id for c in answer.citations}
    others = [p for p in answer.retrieved if p.chunk.id not in cited]
    if others:
        parts.append(f'<details class="qa-others"><summary>Other retrieved passages ({len(others)}), not cited</summary>')
        parts.extend(passage_html(p, titles) for p in others)
        parts.append("</details>")
    parts.append(f'<p class="qa-backend">Answered by {escape_html(answer.backend)}</p>')
    return _section(k, question, parts)


def error_section(k: int, question: str, message: str) -> str:
    return _section(k, question, [f'<p class="qa-error">{escape_html(ERROR_LEAD)} {escape_html(message)}</p>'])


def loading_section(k: int, question: str) -> str:
    """What the panel shows while answer k is being made: not the previous answer's sources."""
    return _section(k, question, ['<p class="qa-wait">Finding the passages…</p>'], " qa-loading")


def sources_panel(sections: list[str], loading: str | None = None) -> str:
    """Every answer's section (the latest shown, or `loading` while a new one is made)."""
    body = "".join(sections) + (loading or "")
    if not body:
        body = f'<p class="qa-empty">{escape_html(EMPTY_PANEL)}</p>'
    return f'<div class="qa-panel">{body}</div>'


# --- the page's look and behaviour --------------------------------------------------------
# One font family everywhere: the system's sans-serif (no web font to load, none missing a glyph).
FONT = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")

CSS = """
.gradio-container, .gradio-container * { font-family: var(--font); }
#qa-title h2 { margin: 0 0 0.2em 0; font-weight: 700; }
.qa-summary { margin: 0; font-size: var(--text-md); line-height: 1.5; }
.qa-summary strong { font-size: inherit; }
.qa-articles summary { cursor: pointer; color: var(--link-text-color); font-size: var(--text-md); }
.qa-articles table { font-size: var(--text-sm); margin-top: 0.4em; }
.qa-articles td, .qa-articles th { padding: 0.2em 0.6em 0.2em 0; vertical-align: top; text-align: left; }
.qa-file { color: var(--body-text-color-subdued); word-break: break-all; }
.qa-panel mark { background: #ffe58a; color: inherit; padding: 0 1px; }
.qa-panel h4 { margin: 0.4em 0; }
.qa-for { font-size: var(--text-sm); color: var(--body-text-color-subdued); margin: 0 0 0.4em 0; }
.qa-citation, .qa-retrieved { margin: 0 0 0.8em 0; padding: 0.2em 0.3em; border-radius: 4px; }
.qa-head { font-size: var(--text-sm); margin-bottom: 0.2em; }
.qa-n { font-weight: bold; }
.qa-passage { margin: 0; padding: 0.3em 0.6em; border-left: 3px solid #ccc; font-size: var(--text-sm); white-space: pre-wrap; }
.qa-conflict, .qa-unsupported, .qa-error { color: #a33; }
.qa-notice, .qa-backend { font-size: var(--text-sm); }
/* Only one answer's sources at a time: the latest, or the one picked by a click. */
.qa-answer-sources { display: none; }
.qa-panel:not(.qa-picked) > .qa-answer-sources:last-child,
.qa-panel.qa-picked > .qa-answer-sources.qa-current { display: block; }
.qa-wait::before { content: ""; display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.5em;
  border: 2px solid #ccc; border-top-color: var(--color-accent); border-radius: 50%;
  animation: qa-spin 0.8s linear infinite; vertical-align: -0.1em; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
.qa-target { outline: 2px solid var(--color-accent); animation: qa-flash 1.5s ease-out; }
@keyframes qa-flash { from { background: rgba(249, 115, 22, 0.25); } to { background: transparent; } }
a.qa-ref { text-decoration: none; font-weight: 600; color: var(--link-text-color); cursor: pointer; }
a.qa-ref:hover { text-decoration: underline; }
#qa-chat [data-testid="bot"] { cursor: pointer; }
#qa-chat .qa-selected { box-shadow: 0 0 0 2px var(--color-accent); border-radius: 4px; }
/* Beside the chat (wide screens) the panel scrolls on its own; on a phone it simply follows the chat. */
@media (min-width: 768px) { #qa-sources { max-height: 640px; overflow-y: auto !important; } }
"""

# Event delegation on the document: the chat and the panel are re-rendered by Gradio on every
# update, so listeners on their elements would be lost.
SCRIPT = """
<script>
(() => {
  const bots = () => [...document.querySelectorAll('#qa-chat [data-testid="bot"]')];
  function show(k, n) {
    const panel = document.querySelector('#qa-sources .qa-panel');
    const section = panel && panel.querySelector('#qa-a' + k);
    if (!section) return;
    panel.classList.add('qa-picked');
    panel.querySelectorAll('.qa-answer-sources').forEach(s => s.classList.toggle('qa-current', s === section));
    bots().forEach((b, i) => b.classList.toggle('qa-selected', i === k));
    panel.querySelectorAll('.qa-target').forEach(e => e.classList.remove('qa-target'));
    const target = n === undefined ? section : section.querySelector('#qa-a' + k + '-c' + n);
    if (!target) return;
    if (n !== undefined) target.classList.add('qa-target');
    target.scrollIntoView({block: n === undefined ? 'nearest' : 'center', behavior: 'smooth'});
  }
  document.addEventListener('click', (e) => {
    const ref = e.target.closest('a.qa-ref');
    if (ref) {
      e.preventDefault();
      e.stopPropagation();
      const m = /^#qa-a(\\d+)-c(\\d+)$/.exec(ref.getAttribute('href') || '');
      if (m) show(+m[1], +m[2]);
      return;
    }
    const bot = e.target.closest('#qa-chat [data-testid="bot"]');
    if (bot) show(bots().indexOf(bot));
  }, true);
})();
</script>
"""
