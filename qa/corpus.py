"""Corpus loading: read a folder of .txt/.md news articles, clean away site chrome, keep metadata.

Anything that cannot be read as an article (binary, empty, not UTF-8, too large, a link that leads
outside the corpus folder, a copy of another file, a name that is not UTF-8) is skipped with a
reason, never fatal. Markdown is turned into plain text first.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from qa.errors import QAError

ARTICLE_SUFFIXES = {".txt", ".md"}
MAX_FILE_BYTES = 5_000_000  # a news article is tens of kilobytes; 5 MB is something else

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}

# Lines that belong to the web page around the article, not to the article.
CHROME_LINE = re.compile(
    r"""^(?:
        spot_img\S* | (?:spot_img)+
      | see\ also\b.* | follow\ us\ on\b.* | leave\ a\ reply\b.* | subscribe\ to\ get\b.*
      | get\ in\ touch | latest\ posts | related\ (?:posts|articles|stories|news) | read\ more\b.*
      | discover\ more\ from\b.* | your\ email\ address\ will\ not\ be\ published\b.*
      | share\ (?:this|on)\b.* | advertisement | sponsored | click\ here\b.* | sign\ up\b.*
      | (?:also\ )?read\ (?:also|next)\b.* | tags?:.* | comments? | print | email | share
      | all\ rights\ reserved\b.* | copyright\b.* | ©.* | previous\ article | next\ article
      | (?:published|modified|updated|posted)(?:\ date|\ on)?\s*:.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
PUBLISHED_LINE = re.compile(r"^\W*(?:published|posted|date)(?: date| on)?\s*:?\s*(.+)$", re.IGNORECASE)
# A page's line saying when the article was last changed: "Modified Date: 07:40 | 29 October 2024",
# "Updated June 16, 2026, 11:14 a.m. ET", "Dec. 2, 2022 Updated Dec. 5, 2022, 8:34 a.m. ET" (the date
# before "Updated" is the publication's). It counts only when both sides are date stamps (`is_date_stamp`):
# "Updated guidance was issued on May 5." is the article's own sentence.
UPDATED_LINE = re.compile(r"^(.{0,30}?)\b(?:last\s+)?(?:updated|modified)(?:\s+date|\s+on)?\s*:?\s*(.+)$", re.IGNORECASE)
# A time of day as date lines write it: "07:38", "11:14 a.m. ET", "8:34 p.m. EDT", "14:05 GMT".
TIME_OF_DAY = re.compile(r"\b[012]?\d:[0-5]\d(?:\s*(?i:[ap]\.?m\.?))?(?:\s+[A-Z]{2,4}\b)?")
# The shapes of a written date ("2024-10-29", "29 October 2024", "Oct. 29, 2024"), whether or not it
# names a real day: `parse_date` reads the same three.
DATE_SHAPE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}\b"
                        r"|\b[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b")
PUBLISHER_PATTERNS = [
    re.compile(r"^discover more from\s+(.+?)(?:\s+\|.*)?$", re.IGNORECASE),
    re.compile(r"^(?:source|publisher|published by)\s*:\s*(.+)$", re.IGNORECASE),
]
# A wire agency named on its own in the header block (e.g. "- AFP").
AGENCY_LINE = re.compile(r"^(?:AFP|AP|Reuters|Yonhap|Xinhua|TASS|UPI|dpa|Bloomberg|Kyodo)$")
SHORT_WORDS = {
    "a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "and", "or", "but", "is", "was",
    "are", "be", "as", "it", "its", "he", "she", "we", "us", "so", "no", "not", "if", "do", "up",
    "has", "had", "his", "her", "who", "how", "why", "all", "any", "one", "two", "new", "can",
    "may", "did", "our", "out", "own", "off", "per", "via", "yet", "too", "nor",
}


@dataclass(frozen=True)
class Article:
    source: str  # file name, unique within the corpus
    text: str  # the cleaned article
    title: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    time: str | None = None  # the time of day it was published, as the page writes it ("07:38")
    updated: str | None = None  # when it was last changed: the ISO date and the time as written
    publisher: str | None = None
    path: str | None = None
    warnings: tuple[str, ...] = ()  # what was dropped while reading it (an impossible date)


@dataclass
class CorpusLoad:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, shown safely; reason)
    # Sources of files that are there but could not be read now (empty while an editor saves,
    # permission denied, ...), and folders that could not be listed ("" is a whole root): an
    # ingest keeps what it stored of them rather than treat them as removed.
    unreadable: set[str] = field(default_factory=set)
    unreadable_folders: list[str] = field(default_factory=list)

    def is_unreadable(self, source: str) -> bool:
        return source in self.unreadable or any(source.startswith(f) for f in self.unreadable_folders)


def shown(path: str | Path) -> str:
    """A path as text safe to print: bytes that are not UTF-8 and control characters escaped.

    >>> shown(os.fsdecode(b"caf\\xe9\\x1b[2J.txt"))
    'caf\\\\xe9\\\\x1b[2J.txt'
    """
    text = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def parse_date(text: str) -> str | None:
    """The first calendar date written in `text`, as ISO.

    >>> parse_date("07:38 | 29 October 2024")
    '2024-10-29'
    >>> parse_date("Oct. 3, 2017") , parse_date("2024-06-19") , parse_date("no date")
    ('2017-10-03', '2024-06-19', None)
    """
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text)
    if m:
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b", text)
    if m and m[2].lower() in MONTHS:
        return _iso(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    m = re.search(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", text)
    if m and m[1].lower() in MONTHS:
        return _iso(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
    return None


def time_of_day(text: str) -> str | None:
    """The first time of day written in `text`, as written.

    >>> time_of_day("07:38 | 29 October 2024"), time_of_day("June 16, 2026, 11:14 a.m. ET")
    ('07:38', '11:14 a.m. ET')
    >>> time_of_day("29 October 2024") is None
    True
    """
    m = TIME_OF_DAY.search(text)
    return m[0] if m else None


def is_date_stamp(text: str) -> bool:
    """Whether `text` is nothing but a date, with a time of day and its zone at most.

    >>> is_date_stamp("June 16, 2026, 11:14 a.m. ET"), is_date_stamp("07:40 | 29 October 2024")
    (True, True)
    >>> is_date_stamp("guidance on May 5, 2025"), is_date_stamp("11:14 a.m.")
    (False, False)
    """
    if not parse_date(text):
        return False
    return not re.search(r"[A-Za-z]", DATE_SHAPE.sub(" ", TIME_OF_DAY.sub(" ", text)))


def date_stamp(text: str) -> str | None:
    """The ISO date of a date stamp, with its time of day as written after it, if it has one.

    >>> date_stamp("Dec. 5, 2022, 8:34 a.m. ET"), date_stamp("29 October 2024")
    ('2022-12-05 8:34 a.m. ET', '2024-10-29')
    """
    day = parse_date(text)
    time = time_of_day(text)
    return f"{day} {time}" if day and time else day


def _iso(year: int, month: int, day: int) -> str | None:
    """The ISO date, or None when there is no such day (2024-02-30) or the year is implausible."""
    if not 1900 <= year <= 2100:
        return None
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def impossible_date(raw: str) -> str | None:
    """A publication line's date that has the shape of a date but names no real day.

    >>> impossible_date("Title\\nPublished: 2024-02-30\\nText."), impossible_date("Published: 2024-02-29")
    ('2024-02-30', None)
    """
    for line in raw.splitlines()[:40]:
        published = PUBLISHED_LINE.match(line.strip().lstrip("-•* ").strip())
        if not published or parse_date(published[1]):
            continue
        m = DATE_SHAPE.search(published[1])
        if m:
            return m[0]
    return None


def join_broken_words(lines: list[str]) -> list[str]:
    """Re-join a word that a stray line break split in two.

    >>> join_broken_words(["beyond mere arms tr", "ade to include troops."])
    ['beyond mere arms trade to include troops.']
    >>> join_broken_words(["ties have notably", "strengthened recently."])
    ['ties have notably strengthened recently.']
    >>> join_broken_words(["A heading", "Next paragraph."])
    ['A heading', 'Next paragraph.']
    """
    out: list[str] = []
    for line in lines:
        if out and out[-1] and line:
            prev = out[-1]
            tail = re.search(r"([a-z]+)$", prev)
            head = re.match(r"([a-z]+)", line)
            if tail and head and not prev.endswith(" "):
                t, h = tail[1], head[1]
                fragment = (len(t) <= 3 and t not in SHORT_WORDS) or (len(h) <= 3 and h not in SHORT_WORDS)
                out[-1] = prev + ("" if fragment else " ") + line
                continue
        out.append(line)
    return out


# A sentence glued to the next without a space, as pages scraped paragraph by paragraph and passages
# joined from two sources come ("…in Chicago, Illinois.Tall Timber was…", "…in 1851.The…",
# "…(with John Oates).Steven…"): a full stop after a lowercase word, a figure, a bracket or a quote,
# then a capitalised word. Found in 616 of the 1,000 halueval passages and 24 of the 600 realtimeqa
# articles; unsplit, a sentence pair reads as one sentence and an excerpt cuts it blind. Two lowercase
# letters, so that "e.g.The" stays whole.
GLUED_SENTENCE = re.compile(r"(?:(?<=[a-z]{2}[.!?])|(?<=[0-9)\"”][.!?]))(?=[A-Z][a-z])")
# ... but not inside a web or mail address ("www.ExampleSite.org", "@writer.Read" stays whole).
ADDRESS = re.compile(r"\S*(?:www\.|@|/)\S*|\S+\.[A-Z]\w*\.[a-z]{2,}\S*")


def split_glued_sentences(line: str) -> str:
    """`line` with a space put back between sentences scraped without one.

    >>> split_glued_sentences("It is based in Chicago, Illinois.Tall Timber was a magazine.")
    'It is based in Chicago, Illinois. Tall Timber was a magazine.'
    >>> split_glued_sentences('It opened in 1851.The band (with Oates).Steven sang "Dream On".Then')
    'It opened in 1851. The band (with Oates). Steven sang "Dream On". Then'
    >>> split_glued_sentences("See www.ExampleSite.org or the U.S. Navy.")
    'See www.ExampleSite.org or the U.S. Navy.'
    """
    kept = [m.span() for m in ADDRESS.finditer(line)]
    cuts = [m.start() for m in GLUED_SENTENCE.finditer(line) if not any(a <= m.start() < b for a, b in kept)]
    for cut in reversed(cuts):
        line = line[:cut] + " " + line[cut:]
    return line


def clean_article(raw: str) -> tuple[str, dict]:
    """Strip page chrome; return the article text and what the page said about it.

    >>> text, meta = clean_article("Big news\\n- AFP\\n- Published Date: 07:38 | 29 October 2024\\nIt happened.\\nFollow us on X")
    >>> text, meta["date"], meta["time"], meta["publisher"], meta["title"]
    ('Big news\\nIt happened.', '2024-10-29', '07:38', 'AFP', 'Big news')
    >>> text, meta = clean_article("Big news\\nDec. 2, 2022 Updated Dec. 5, 2022, 8:34 a.m. ET\\nIt happened.")
    >>> text, meta["date"], meta["updated"]
    ('Big news\\nIt happened.', '2022-12-02', '2022-12-05 8:34 a.m. ET')
    """
    meta: dict = {"title": None, "date": None, "time": None, "updated": None, "publisher": None}
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    raw = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", raw)
    kept: list[str] = []
    for index, line in enumerate(raw.split("\n")):
        stripped = line.strip()
        bullet = stripped.lstrip("-•* ").strip()
        published = PUBLISHED_LINE.match(bullet)
        if published and meta["date"] is None:
            meta["date"] = parse_date(published[1])
            meta["time"] = meta["date"] and time_of_day(published[1])
        updated = UPDATED_LINE.match(bullet)
        if updated and is_date_stamp(updated[2]) and (not re.search(r"\w", updated[1]) or is_date_stamp(updated[1])):
            meta["updated"] = meta["updated"] or date_stamp(updated[2])
            if meta["date"] is None and is_date_stamp(updated[1]):
                meta["date"], meta["time"] = parse_date(updated[1]), time_of_day(updated[1])
            kept.append("")
            continue
        for pattern in PUBLISHER_PATTERNS:
            m = pattern.match(bullet)
            if m and meta["publisher"] is None:
                meta["publisher"] = m[1].strip()
        if AGENCY_LINE.match(bullet) and meta["publisher"] is None:
            meta["publisher"] = bullet
        if not stripped or CHROME_LINE.match(bullet) or CHROME_LINE.match(stripped):
            kept.append("")
            continue
        if AGENCY_LINE.match(bullet):
            kept.append("")
            continue
        # Short bullet lines near the top are the page's section/tag list, not the article.
        if stripped[:1] in "-•" and len(bullet) < 40 and index < 12 and not bullet.endswith("."):
            kept.append("")
            continue
        kept.append(split_glued_sentences(re.sub(r"\s+", " ", stripped)))
    # Blank lines only separate paragraphs; a broken word never spans a blank line.
    paragraphs: list[str] = []
    block: list[str] = []
    for line in kept + [""]:
        if line:
            block.append(line)
        elif block:
            paragraphs.extend(join_broken_words(block))
            block = []
    text = "\n".join(paragraphs).strip()
    first = paragraphs[0] if paragraphs else ""
    if first and len(first) <= 200 and not re.search(r"[.!]['\"”’]?$", first) and len(paragraphs) > 1:
        meta["title"] = first
    if meta["date"] is None:
        dateline = re.search(r"^\W*(?:published|posted|updated)\b[^\n]{0,40}", raw, re.I | re.M)
        if dateline:
            meta["date"] = parse_date(dateline[0])
    return text, meta


def read_article(path: Path, source: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> Article:
    """Read and clean one file; raises `UnreadableFile` with the reason when it is not an article."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise UnreadableFile(f"cannot read it ({e.strerror or e})") from None
    if size == 0:
        raise UnreadableFile("it is empty")
    if size > max_bytes:
        raise UnreadableFile(f"it is {size:,} bytes, over the {max_bytes:,}-byte limit for one article")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UnreadableFile(f"cannot read it ({e.strerror or e})") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("it is binary, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"it is not UTF-8 text (byte {e.start})") from None
    if path.suffix.lower() == ".md":
        raw = markdown_to_text(raw)
    text, meta = clean_article(raw)
    if len(text) < 20:
        raise UnreadableFile("it holds no article text")
    warnings = ()
    if meta["date"] is None and (bad := impossible_date(raw)):
        warnings = (f"dropped its date {bad!r}, which is not a real day",)
    return Article(source=source or path.name, text=text, path=str(path), warnings=warnings, **meta)


def markdown_to_text(raw: str) -> str:
    """Markdown as the plain text of its blocks, one paragraph each: headings keep their words (the
    first becomes the title), links keep their text, emphasis and code marks go, a paragraph's line
    breaks are spaces (so no sentence is cut at a line break inside a link), code blocks, images
    and HTML go. A front-matter `title:` and `date:` become the title and a "Published:" line.

    >>> print(markdown_to_text("# City *council* approves\\n\\nSee [the council's\\npress release](https://x.org/a). **Done**."))
    City council approves
    <BLANKLINE>
    See the council's press release. Done.
    """
    from markdown_it import MarkdownIt

    header: list[str] = []
    front = re.match(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", raw.replace("\r\n", "\n"), re.S)
    if front:
        raw = raw.replace("\r\n", "\n")[front.end():]
        fields = dict(re.findall(r"^(title|date)\s*:\s*['\"]?(.*?)['\"]?\s*$", front[1], re.M | re.I))
        fields = {k.lower(): v for k, v in fields.items()}
        header = [v for v in (fields.get("title"), fields.get("date") and f"Published: {fields['date']}") if v]
    blocks: list[str] = []
    bullet = ""
    for token in MarkdownIt("commonmark").parse(raw):
        if token.type == "list_item_open":
            bullet = "- "
        elif token.type == "inline":
            words = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type == "softbreak":
                    words.append(" ")
                elif child.type == "hardbreak":
                    words.append("\n")
            text = "".join(words).strip()
            if text:
                blocks.append(bullet + text)
            bullet = ""
    return "\n\n".join(header + blocks)


class UnreadableFile(QAError, ValueError):
    """This file is not an article that can be read (the reason is the message); it is skipped."""


def iter_article_paths(root: Path, unreadable_folders: list[str] | None = None) -> Iterator[tuple[Path, str]]:
    """(path, source) for every article file under root, sorted. Linked folders are not walked.

    The walk keeps its own stack rather than recursing, so no folder depth is too deep; a folder
    that cannot be listed is added to `unreadable_folders` (as the source prefix of its files).
    """
    root = root.resolve()
    if root.is_file():
        yield root, root.name
        return
    found: list[Path] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    elif Path(entry.name).suffix.lower() in ARTICLE_SUFFIXES and not entry.name.startswith("."):
                        found.append(Path(entry.path))
        except OSError:
            if unreadable_folders is not None:
                prefix = folder.relative_to(root).as_posix()
                unreadable_folders.append("" if prefix == "." else prefix + "/")
    for path in sorted(found):
        yield path, path.relative_to(root).as_posix()


def load_corpus(paths: Iterable[Path], max_bytes: int = MAX_FILE_BYTES, prefer: Iterable[str] = ()) -> CorpusLoad:
    """Load every article under `paths`; what cannot be loaded is listed in `skipped` with why.

    Of files with the same article text, one is kept: the one whose source is in `prefer` (already
    stored), else the first; the others are skipped as copies of it.
    """
    result = CorpusLoad()
    prefer = set(prefer)
    seen_sources: set[str] = set()
    by_content: dict[str, list[Article]] = {}
    candidates: list[tuple[str, Article]] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"corpus path does not exist: {root}")
        resolved_root = root.resolve()
        for path, source in iter_article_paths(root, result.unreadable_folders):
            try:
                source.encode("utf-8")
            except UnicodeEncodeError:
                result.skipped.append((shown(path), "its name is not valid UTF-8; rename it to read it"))
                continue
            if root.is_dir() and not path.resolve().is_relative_to(resolved_root):
                result.skipped.append((shown(path), "it is a link to a file outside the corpus folder"))
                continue
            if not path.is_file():
                continue
            if source in seen_sources:
                result.skipped.append((shown(path), f"another file is already named {source}"))
                continue
            seen_sources.add(source)
            try:
                article = read_article(path, source, max_bytes)
            except UnreadableFile as e:
                result.skipped.append((shown(path), str(e)))
                result.unreadable.add(source)
                continue
            digest = hashlib.sha256(article.text.encode()).hexdigest()
            by_content.setdefault(digest, []).append(article)
            candidates.append((digest, article))
    for digest, article in candidates:
        same = by_content[digest]
        kept = next((a for a in same if a.source in prefer), same[0])
        if article is kept:
            result.articles.append(article)
        else:
            result.skipped.append((shown(article.path), f"it is a copy of {kept.source}"))
    return result
