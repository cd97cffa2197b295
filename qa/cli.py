"""The `qa` command: ingest, ask, chat, articles, eval, claims."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from pathlib import Path

from qa.config import Config
from qa.errors import QAError
from qa.text import for_terminal

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _config(args) -> Config:
    overrides = {}
    if getattr(args, "store", None):
        overrides["store_dir"] = Path(args.store)
    if getattr(args, "collection", None):
        overrides["collection"] = args.collection
    if getattr(args, "k", None) is not None:  # --k 0 is an error, not "unset"
        overrides["k"] = args.k
    if getattr(args, "offline", False):
        overrides["offline"] = True
    return Config.from_env(**overrides)


def _assistant(args):
    """The Assistant, with the model loaded in a thread while LangChain and Chroma are imported
    (the two are most of a cold `qa ask`; on 2 cores, side by side saves about 0.3 s)."""
    from concurrent.futures import ThreadPoolExecutor

    config = _config(args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        model = pool.submit(_load_model)
        from qa.assistant import Assistant

        return Assistant(config, model.result())


def _load_model():
    from qa.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings()


def _announce(removals) -> None:
    """Say what is about to be removed, before it is."""
    chunks = sum(r.chunks for r in removals)
    print(f"removing {len(removals)} articles ({chunks} chunks) from the collection:", file=sys.stderr)
    for r in removals:
        print(f"  - {r.source} ({r.chunks} chunks)", file=sys.stderr)


def cmd_ingest(args) -> int:
    from qa.embedding import MiniLMEmbeddings
    from qa.ingest import ingest

    config = _config(args)
    paths = [Path(p) for p in args.paths] or list(config.corpus_dirs)
    for p in paths:
        if not p.exists():
            print(f"qa ingest: no such file or folder: {for_terminal(str(p))}", file=sys.stderr)
            return EXIT_USAGE
    report = ingest(
        config,
        MiniLMEmbeddings(),
        paths,
        replace=args.replace,
        reset=args.reset,
        on_warning=lambda message: print(f"warning: {for_terminal(message)}", file=sys.stderr),
        on_remove=_announce,
    )
    for source in report.kept_sources:
        print(f"warning: kept the earlier chunks of {for_terminal(source)}, which could not be read now", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_remove(args) -> int:
    from qa.embedding import MiniLMEmbeddings
    from qa.ingest import remove_sources

    removed = remove_sources(_config(args), MiniLMEmbeddings(), args.sources, on_remove=_announce)
    print(f"removed {len(args.sources)} articles ({removed} chunks)")
    return 0
def _source_line(c) -> str:
    """`[n] file — title, date` on one line, whatever the file name or title holds."""
    where = ", ".join(x for x in (c.title, c.date) if x)
    return for_terminal(f"[{c.n}] {c.source}" + (f" — {where}" if where else ""))


def _unsupported_lines(answer) -> list[str]:
    """The sentences no cited passage supports (LLM answers), marked, for plain output."""
    if not answer.unsupported:
        return []
    return ["Unsupported (no cited passage says this):"] + [f"  ! {for_terminal(s)}" for s in answer.unsupported]


BOLD, PLAIN = "\033[1m", "\033[0m"


def bold_spans(text: str, answer, terminal: bool) -> str:
    """On a terminal, the words that answer the question (the answer's spans) in bold, once each.

    >>> from qa.types import Answer, Span
    >>> bold_spans("It cost 5 dollars.", Answer("", False, spans=[Span(1, 8, 9, "5")]), True).split()[2]
    '\\x1b[1m5\\x1b[0m'
    >>> bold_spans("It cost 5 dollars.", Answer("", False, spans=[Span(1, 8, 9, "5")]), False)
    'It cost 5 dollars.'
    """
    if not terminal:
        return text
    for span in answer.spans:
        shown = for_terminal(span.text)
        if shown.strip() and shown in text:
            text = text.replace(shown, f"{BOLD}{shown}{PLAIN}", 1)
    return text


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    print(bold_spans(for_terminal(answer.text, newlines=True), answer, sys.stdout.isatty()))
    if answer.unsupported:
        print("\n" + "\n".join(_unsupported_lines(answer)))
    if answer.notice:
        print(f"\n({for_terminal(answer.notice)})")
    for c in answer.citations:
        print("\n" + _source_line(c))
        if c.quote.strip():  # an answer about the article itself (its date, publisher) quotes nothing
            print(f"    “{for_terminal(' '.join(c.quote.split()))}”")
    print(f"\n{answer.backend}, {answer.latency_ms:.0f} ms", file=sys.stderr)


def cmd_ask(args) -> int:
    question = " ".join(args.question)
    assistant = _assistant(args)
    _print_answer(assistant.answer(question), args.json)
    return 0


def cmd_chat(args) -> int:
    from qa.assistant import QuestionError

    assistant = _assistant(args)
    history: list[dict] = []
    print("Ask about the articles; an empty line or Ctrl-D ends the chat.", file=sys.stderr)
    while True:
        try:
            question = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not question.strip():
            return 0
        try:
            answer = None
            print("qa> ", end="", flush=True)
            for piece in assistant.stream(question, history):
                if isinstance(piece, str):
                    print(for_terminal(piece, newlines=True), end="", flush=True)
                else:
                    answer = piece
            print()
        except QuestionError as e:
            print(f"\nerror: {for_terminal(str(e))}", file=sys.stderr)
            continue
        for line in _unsupported_lines(answer):
            print(line)
        if answer.notice:
            print(f"({for_terminal(answer.notice)})")
        # The sources only: the answer was just printed, and its sentences are the quotes.
        for c in answer.citations:
            print("  " + _source_line(c))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def cmd_articles(args) -> int:
    """`qa articles`: what is loaded, one line per article (title, date, publisher, chunks)."""
    from qa.collection import collection_summary, long_date

    assistant = _assistant(args)
    collection = assistant.retriever.collection()
    if args.json:
        rows = [{"source": a.source, "title": a.title, "headline": a.headline, "date": a.date,
                 "publisher": a.publisher, "chunks": a.chunks} for a in collection.articles]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{collection_summary(collection)}.")
    for a in collection.articles:
        by = f" — {a.publisher}" if a.publisher else ""
        print(f"{long_date(a.date):>17}  “{a.title}”{by} ({a.chunks} chunk{'s' if a.chunks != 1 else ''}) [{a.source}]")
    return 0


def cmd_eval(args) -> int:
    from qa.eval.run import main as eval_main

    return eval_main(args, _config(args))


def cmd_claims(args) -> int:
    from qa.claims import main as claims_main

    return claims_main(args, _config(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions about a folder of news articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    def store_flag(p):
        p.add_argument("--store", metavar="DIR", help="store folder (default: vectorstore/, or QA_STORE_DIR)")
        p.add_argument("--collection", metavar="NAME",
                       help="a named collection, for a separate corpus (default: news, or QA_COLLECTION)")

    p = sub.add_parser("ingest", help="add article files to the collection (articles already there stay)")
    p.add_argument("paths", nargs="*", help="files or folders of .txt/.md articles (default: seeds/)")
    store_flag(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true",
                      help="make the collection hold exactly these articles: others are removed (listed first)")
    mode.add_argument("--reset", action="store_true", help="empty the collection first (what goes is listed)")
    mode.add_argument("--add", action="store_true", help="add and update only, remove nothing (the default)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("remove", help="remove articles from the collection by source name")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="an article's source name, as cited (e.g. 001_x.txt)")
    store_flag(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.add_argument("--offline", action="store_true", help="never call a language model")
    store_flag(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal")
    p.add_argument("--offline", action="store_true", help="never call a language model")
    store_flag(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("articles", help="list the loaded articles (title, date, publisher, chunks)")
    p.add_argument("--json", action="store_true")
    store_flag(p)
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser("eval", help="evaluate answers against a question set")
    p.add_argument("--questions", default=None, help="JSONL question set (default: qa/eval/questions.jsonl)")
    p.add_argument("--output", default=None, help="write results JSON here")
    p.add_argument("--report", default=None, metavar="DIR", help="also write a Markdown report and PNG chart")
    p.add_argument("--baseline", action="store_true", help="also run the LangChain tutorial pipeline")
    p.add_argument("--backend", choices=["offline", "llm"], default="offline")
    p.add_argument("--gate", action="store_true", help="exit 1 if a metric is under its threshold")
    p.add_argument("--held-back", action="store_true",
                   help="only the questions the reader's model was never fitted on (30%% of each set, by id)")
    p.add_argument("--k", type=int, help="passages to retrieve")
    store_flag(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("claims", help="list the figures the articles report, grouped by what they count")
    p.add_argument(
        "--topic",
        default=None,
        metavar="WORD",
        help="only the figures whose group, counted thing or sentence has this word (e.g. troops, soldiers, "
        "dollars, people); the groups of the seed articles are troops, dollars and people, and `qa claims` "
        "alone lists the groups of yours",
    )
    p.add_argument("--json", action="store_true")
    store_flag(p)
    p.set_defaults(func=cmd_claims)
    return parser


def _tolerant_streams() -> None:
    """Under the C locale, or with a pipe in an odd encoding, a byte or character the encoding lacks
    must not crash the command: undecodable input bytes become lone surrogates (which the question
    check drops), and characters the terminal cannot show are replaced."""
    for stream, errors in ((sys.stdin, "surrogateescape"), (sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    # Every expected failure derives from QAError: one line here, in one place, never a traceback.
    try:
        return args.func(args)
    except QAError as e:
        print(f"qa {args.command}: {for_terminal(str(e))}", file=sys.stderr)
        return e.exit_code
    except FileNotFoundError as e:
        print(f"qa {args.command}: {for_terminal(str(e))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"qa {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
