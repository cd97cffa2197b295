"""The web chat: `python app.py [--host H] [--port P] [--auth user:password]`.

A Gradio page over the same `Assistant` as the Python API: answers stream in, follow-ups use the
conversation, and a panel beside the chat shows the passages each answer cites. Gradio's API has an
`ask` endpoint (question, optional history JSON) that returns `Answer.to_dict()`.
Nothing phones home: Gradio analytics are off and the theme's fonts are served locally.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402

from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

from qa import webui  # noqa: E402
from qa.assistant import Assistant, QuestionError  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.store import StoredArticle  # noqa: E402
from qa.types import Answer  # noqa: E402

log = logging.getLogger("qa.app")

DEFAULT_EXAMPLES = (
    "Which Russian ambassador did Seoul summon?",
    "How many North Korean troops were reported to be in Russia?",
    "To which country has Seoul sold tanks, howitzers and rocket launchers?",
    "What did Putin sign with Kim Jong Un in Pyongyang?",
)
CONCURRENCY = 4  # questions answered at once; the Assistant is thread-safe for reads
# The `ask` API's history, as JSON text: 200 k characters is 50 turns of 4,000 characters (twice the
# question limit), far more than the last turns the answerer reads; a longer one is refused at once.
MAX_HISTORY_CHARS = 200_000
LOGIN_ATTEMPTS = 5  # failed logins allowed from one address in LOGIN_WINDOW_S, then 429 until it passes
LOGIN_WINDOW_S = 60.0
# Gradio serves these two without asking for the login (checked in gradio 6.31's routes.py); with a
# login set, LoginGuard asks for it.
NEEDS_LOGIN = ("/gradio_api/cancel", "/gradio_api/reset")


@dataclass(frozen=True)
class WebSettings:
    """Where the page listens and who may use it."""

    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[str, str] | None = None


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); empty -> no login.

    >>> parse_auth("ann:s3:cret")
    ('ann', 's3:cret')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("the login must be given as user:password")
    return user, password


def parse_settings(argv: list[str] | None = None, env: dict | None = None) -> WebSettings:
    """Flags first, then QA_HOST / QA_PORT / QA_AUTH, then the defaults (127.0.0.1:7860, no login)."""
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(prog="python app.py", description="The news Q&A web chat.")
    parser.add_argument("--host", default=env.get("QA_HOST") or WebSettings.host)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--auth", default=env.get("QA_AUTH"), help="user:password to require a login")
    args = parser.parse_args(argv)
    if not args.host.strip():
        # Gradio reads an empty server name as "use GRADIO_SERVER_NAME", which may be 0.0.0.0.
        parser.error("--host is empty; give an address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0")
    port = args.port
    if port is None:
        raw = env.get("QA_PORT") or str(WebSettings.port)
        try:
            port = int(raw)
        except ValueError:
            parser.error(f"QA_PORT must be a whole number, got {raw!r}")
    try:
        auth = parse_auth(args.auth)
    except ValueError as exc:
        parser.error(str(exc))
    return WebSettings(host=args.host.strip(), port=port, auth=auth)


def examples(env: dict | None = None) -> list[str]:
    """The example questions: QA_EXAMPLES ('|'-separated) or the defaults."""
    env = os.environ if env is None else env
    raw = env.get("QA_EXAMPLES")
    if raw and raw.strip():
        return [q.strip() for q in raw.split("|") if q.strip()]
    return list(DEFAULT_EXAMPLES)


@dataclass
class ChatSession:
    """Per-browser-tab state (a Gradio State copies it for each tab)."""

    turns: list[dict] = field(default_factory=list)  # the raw {"role", "content"} turns, for follow-ups
    shown: list[dict] = field(default_factory=list)  # the chat bubbles as rendered
    sources: list[str] = field(default_factory=list)  # answer k's section of the sources panel, in order


def parse_history(history) -> list:
    """The `ask` endpoint's history: a JSON list of turns as text (or empty), else a QuestionError.

    >>> parse_history('[{"role": "user", "content": "Who?"}]')
    [{'role': 'user', 'content': 'Who?'}]
    >>> parse_history(7)
    Traceback (most recent call last):
    qa.assistant.QuestionError: the history must be JSON text (a list of turns), not int
    """
    if history is None:
        return []
    if not isinstance(history, str):
        raise QuestionError(f"the history must be JSON text (a list of turns), not {type(history).__name__}")
    if len(history) > MAX_HISTORY_CHARS:
        raise QuestionError(f"the history is {len(history):,} characters; the limit is {MAX_HISTORY_CHARS:,}")
    if not history.strip():
        return []
    try:
        return json.loads(history)
    except json.JSONDecodeError as exc:
        raise QuestionError(f"the history is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise QuestionError("the history is not valid JSON: it is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise QuestionError(f"the history is not valid JSON: {webui.short_error(exc, 80)}") from None


@dataclass
class WebChat:
    """The page's handlers over one Assistant (a class so tests can call them without a server)."""

    assistant: Assistant

    def articles(self) -> list[StoredArticle]:
        return self.assistant.store.articles()

    def titles(self) -> dict[str, str]:
        """file name -> title to show (derived from the first sentence where the article has none)."""
        return webui.titles_of(self.articles())

    def collection(self) -> str:
        """The header line naming the collection, with its article list (built on each page load)."""
        return webui.collection_html(self.articles(), self.assistant.config.collection, self.assistant.backend)

    def chat(self, question: str, session: ChatSession | None):
        """Stream one answer into the chat; yields (textbox, chatbot, session, sources panel)."""
        session = session or ChatSession()
        if not isinstance(question, str) or not question.strip():
            gr.Warning(webui.EMPTY_QUESTION, duration=5)
            yield gr.skip(), session.shown, session, gr.skip()
            return
        k = len(session.sources)
        shown = session.shown + [{"role": "user", "content": webui.md_text(question)}]
        reply = {"role": "assistant", "content": ""}
        yield "", shown + [reply], session, webui.sources_panel(session.sources, webui.loading_section(k, question))
        text, answer = "", None
        try:
            for item in webui.paced(self.assistant.stream(question, session.turns)):
                if isinstance(item, Answer):
                    answer = item
                else:
                    text += item
                    yield "", shown + [{**reply, "content": webui.answer_markdown(text)}], session, gr.skip()
        except QAError as exc:
            message = webui.short_error(exc)
        except Exception as exc:  # shown as one short line; the traceback goes to the server log
            log.exception("answering failed")
            message = webui.short_error(exc)
        else:
            message = None if answer is not None else "no answer was produced"
        turns = session.turns
        if message is not None:
            bubble, section = webui.chat_error(message), webui.error_section(k, question, message)
        else:
            bubble = webui.chat_answer(answer, k)
            section = webui.sources_section(answer, k, question, self.titles())
            turns = turns + [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        shown = shown + [{**reply, "content": bubble}]
        sources = session.sources + [section]
        yield "", shown, ChatSession(turns, shown, sources), webui.sources_panel(sources)

    def ask_example(self, example: list, session: ChatSession | None):
        """A click on an example asks it at once."""
        yield from self.chat(example[0] if example else "", session)

    def clear(self):
        return "", [], ChatSession(), webui.sources_panel([])

    def ask(self, question: str, history: str = "") -> dict:
        """Answer one question; `history` is a JSON list of {"role", "content"} turns (or empty).
        Returns the answer with its citations as Answer.to_dict()."""
        try:
            return self.assistant.answer(question, parse_history(history)).to_dict()
        except QAError as exc:
            raise gr.Error(webui.short_error(exc)) from None
        except Exception as exc:
            log.exception("answering failed")
            raise gr.Error(webui.short_error(exc)) from None


def build_app(assistant: Assistant, example_questions: list[str] | None = None) -> gr.Blocks:
    """The page and its `ask` API endpoint, over `assistant`."""
    web = WebChat(assistant)

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news articles", elem_id="qa-title")
        gr.HTML(web.collection, elem_id="qa-collection")  # a function: read again on each page load
        session = gr.State(ChatSession())
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="qa-chat",
                    height=None,
                    min_height=140,  # an empty chat is small (a phone shows the examples too) ...
                    max_height=560,  # ... and grows with the conversation up to this, then scrolls
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=[],  # a copy would hold the Markdown escapes, not the text
                    allow_tags=False,
                    placeholder="Answers quote the articles and cite them as [n]: click one to see its passage.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask about the articles…",
                        show_label=False,
                        elem_id="qa-question",
                        scale=5,
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
            # After the chat: on a narrow screen this column wraps below it, so the cited passages
            # follow the answer they belong to (and come before the examples).
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(webui.sources_panel([]), elem_id="qa-sources")
        example_list = gr.Dataset(
            components=[box],
            samples=[[q] for q in (example_questions or examples())],
            label="Examples (click one to ask it)",
            elem_id="qa-examples",
        )
        clear_btn = gr.Button("Clear conversation", elem_id="qa-clear", size="sm")
        chat_outputs = [box, chatbot, session, sources]
        io = dict(fn=web.chat, inputs=[box, session], outputs=chat_outputs, api_visibility="undocumented")
        box.submit(**io)
        send.click(**io)
        example_list.click(web.ask_example, inputs=[example_list, session], outputs=chat_outputs, api_visibility="undocumented")
        clear_btn.click(web.clear, outputs=chat_outputs, api_visibility="undocumented")
        chatbot.clear(web.clear, outputs=chat_outputs, api_visibility="undocumented")
        gr.api(web.ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


class LoginGuard:
    """ASGI middleware for a page with a login (`auth`): refuses Gradio's cancel and reset routes to
    anyone not logged in, and answers 429 to an address after LOGIN_ATTEMPTS failed logins within
    LOGIN_WINDOW_S seconds. Without a login it lets everything through.

    It reads Gradio's own login record (the App's `auth`, `tokens` and `cookie_id`, as its
    `get_current_user` does); tests/test_app.py checks both routes against a running server.
    """

    def __init__(self, app, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW_S, clock=time.monotonic):
        self.app, self.attempts, self.window, self.clock = app, attempts, window, clock
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        gradio_app = scope.get("app")
        if scope["type"] != "http" or gradio_app is None or gradio_app.auth is None:
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path.endswith(NEEDS_LOGIN) and not self.logged_in(Request(scope), gradio_app):
            return await JSONResponse({"detail": "Not authenticated"}, status_code=401)(scope, receive, send)
        if path.endswith("/login") and scope["method"] == "POST":
            address = (scope.get("client") or ("?",))[0]
            wait = self.wait_for(address)
            if wait > 0:
                message = f"too many failed logins; try again in {wait:.0f} s"
                return await JSONResponse({"detail": message}, status_code=429)(scope, receive, send)

            async def watching(message):
                if message["type"] == "http.response.start":
                    self.record(address, ok=message["status"] < 400)
                await send(message)

            return await self.app(scope, receive, watching)
        return await self.app(scope, receive, send)

    @staticmethod
    def logged_in(request: Request, gradio_app) -> bool:
        cookies = request.cookies
        token = cookies.get(f"access-token-{gradio_app.cookie_id}") or cookies.get(
            f"access-token-unsecure-{gradio_app.cookie_id}"
        )
        return token is not None and token in gradio_app.tokens

    def wait_for(self, address: str) -> float:
        """Seconds until `address` may try to log in again (0: now)."""
        now = self.clock()
        with self.lock:
            recent = [t for t in self.failures.get(address, []) if now - t < self.window]
            self.failures[address] = recent
            return recent[0] + self.window - now if len(recent) >= self.attempts else 0.0

    def record(self, address: str, ok: bool) -> None:
        with self.lock:
            if ok:
                self.failures.pop(address, None)
            else:
                self.failures.setdefault(address, []).append(self.clock())


def launch_options(settings: WebSettings) -> dict:
    """Keyword arguments for `demo.launch`."""
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=settings.auth,
        theme=gr.themes.Default(font=webui.FONT, font_mono=webui.FONT),
        css=webui.CSS,
        head=webui.SCRIPT,
        app_kwargs={"middleware": [Middleware(LoginGuard)]},
        show_error=False,
        enable_monitoring=False,
        run_history=False,
        footer_links=["api"],
        ssr_mode=False,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = parse_settings(argv)
    from qa.config import ConfigError
    from qa.store import StoreError

    try:
        assistant = Assistant()
    except (StoreError, ConfigError) as exc:
        print(f"app: {webui.short_error(exc)}", file=sys.stderr)
        return 1
    demo = build_app(assistant)
    demo.launch(**launch_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
