"""The `qa` command: ingest, ask, chat, articles, eval, claims."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qa.config import Config, ConfigError

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _config(args) -> Config:
    overrides = {}
    if getattr(args, "store", None):
        overrides["store_dir"] = Path(args.store)
    if getattr(args, "k", None) is not None:  # --k 0 is an error, not "unset"
        overrides["k"] = args.k
    if getattr(args, "offline", False):
        overrides["offline"] = True
    return Config.from_env(**overrides)


def _assistant(args):
    from qa.assistant import Assistant

    return Assistant(_config(args))


def cmd_ingest(args) -> int:
    from qa.embedding import MiniLMEmbeddings
    from qa.store import ingest

    config = _config(args)
    paths = [Path(p) for p in args.paths] or list(config.corpus_dirs)
    for p in paths:
        if not p.exists():
            print(f"qa ingest: no such file or folder: {p}", file=sys.stderr)
            return EXIT_USAGE
    report = ingest(
        config,
        MiniLMEmbeddings(),
        paths,
        reset=args.reset,
        add_only=args.add,
        on_skip=lambda path, reason: print(f"warning: skipped {path}: {reason}", file=sys.stderr),
    )
    for source in report.kept_sources:
        print(f"warning: kept the earlier chunks of {source}, which could not be read now", file=sys.stderr)
    print(report.summary())
    return 0


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    print(answer.text)
    if answer.notice:
        print(f"\n({answer.notice})")
    for c in answer.citations:
        where = ", ".join(x for x in (c.title, c.date) if x)
        print(f"\n[{c.n}] {c.source}" + (f" — {where}" if where else ""))
        print(f"    “{c.quote}”")
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
                    print(piece, end="", flush=True)
                else:
                    answer = piece
            print()
        except QuestionError as e:
            print(f"\nerror: {e}", file=sys.stderr)
            continue
        if answer.notice:
            print(f"({answer.notice})")
        for c in answer.citations:
            print(f"  [{c.n}] {c.source}: “{c.quote}”")
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

    p = sub.add_parser("ingest", help="build or update the store from article files")
    p.add_argument("paths", nargs="*", help="files or folders of .txt/.md articles (default: seeds/)")
    store_flag(p)
    p.add_argument("--reset", action="store_true", help="empty the store first")
    p.add_argument("--add", action="store_true", help="only add/update these files; remove nothing")
    p.set_defaults(func=cmd_ingest)

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
    p.add_argument("--k", type=int, help="passages to retrieve")
    store_flag(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("claims", help="list the figures the articles report, grouped by what they count")
    p.add_argument("--topic", default=None, help="only claims about this word (e.g. troops)")
    p.add_argument("--json", action="store_true")
    store_flag(p)
    p.set_defaults(func=cmd_claims)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    from qa.assistant import QuestionError
    from qa.store import StoreError

    try:
        return args.func(args)
    except (QuestionError, ConfigError) as e:
        print(f"qa {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, FileNotFoundError) as e:
        print(f"qa {args.command}: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"qa {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
