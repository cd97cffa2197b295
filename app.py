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
from dataclasses import dataclass

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402

from qa import webui  # noqa: E402
from qa.assistant import Assistant, QuestionError  # noqa: E402
from qa.types import Answer  # noqa: E402

log = logging.getLogger("qa.app")

DEFAULT_EXAMPLES = (
    "Which Russian ambassador did Seoul summon?",
    "How many North Korean troops were reported to be in Russia?",
    "To which country has Seoul sold tanks, howitzers and rocket launchers?",
    "What did Putin sign with Kim Jong Un in Pyongyang?",
)
CONCURRENCY = 4  # questions answered at once; the Assistant is thread-safe for reads


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
    if not args.host.strip():  # Gradio would read "" as "unset" and fall back to GRADIO_SERVER_NAME / 0.0.0.0
        parser.error("--host (or QA_HOST) must name an address, e.g. 127.0.0.1; it is empty")
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
    return WebSettings(host=args.host, port=port, auth=auth)


def examples(env: dict | None = None) -> list[str]:
    """The example questions: QA_EXAMPLES ('|'-separated) or the defaults."""
    env = os.environ if env is None else env
    raw = env.get("QA_EXAMPLES")
    if raw and raw.strip():
        return [q.strip() for q in raw.split("|") if q.strip()]
    return list(DEFAULT_EXAMPLES)


def new_session() -> dict:
    """Per-browser-tab state: the raw turns (for follow-ups) and the rendered bubbles."""
    return {"turns": [], "shown": []}


@dataclass
class WebChat:
    """The page's handlers over one Assistant (a class so tests can call them without a server)."""

    assistant: Assistant

    def chat(self, question: str, session: dict | None):
        """Stream one answer into the chat; yields (textbox, chatbot, session, sources)."""
        session = session or new_session()
        if not (question or "").strip():
            yield "", session["shown"], session, gr.skip()
            return
        shown = session["shown"] + [{"role": "user", "content": webui.md_text(question)}]
        reply = {"role": "assistant", "content": ""}
        yield "", shown + [reply], session, gr.skip()
        text, answer = "", None
        try:
            for item in self.assistant.stream(question, session["turns"]):
                if isinstance(item, Answer):
                    answer = item
                else:
                    text += item
                    yield "", shown + [{**reply, "content": webui.md_text(text)}], session, gr.skip()
        except QuestionError as exc:
            message = str(exc)
        except Exception as exc:  # shown as one short line; the traceback goes to the server log
            log.exception("answering failed")
            message = webui.short_error(exc)
        else:
            message = None if answer is not None else "no answer was produced"
        if message is not None:
            shown = shown + [{**reply, "content": webui.chat_error(message)}]
            yield "", shown, {**session, "shown": shown}, webui.error_sources_html(message)
            return
        shown = shown + [{**reply, "content": webui.chat_answer(answer)}]
        turns = session["turns"] + [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        yield "", shown, {"turns": turns, "shown": shown}, webui.sources_html(answer)

    def clear(self):
        return "", [], new_session(), webui.sources_html(None)

    def ask(self, question: str, history: str = "") -> dict:
        """Answer one question; `history` is a JSON list of {"role", "content"} turns (or empty).
        Returns the answer with its citations as Answer.to_dict()."""
        try:
            turns = json.loads(history) if history and history.strip() else []
        except json.JSONDecodeError as exc:
            raise gr.Error(f"history is not valid JSON: {exc.msg}") from None
        try:
            return self.assistant.answer(question, turns).to_dict()
        except QuestionError as exc:
            raise gr.Error(str(exc)) from None
        except Exception as exc:
            log.exception("answering failed")
            raise gr.Error(webui.short_error(exc)) from None


def build_app(assistant: Assistant, example_questions: list[str] | None = None) -> gr.Blocks:
    """The page and its `ask` API endpoint, over `assistant`."""
    web = WebChat(assistant)

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Ask the news articles\n"
            f"Answers quote the articles and cite them as [n]; the panel shows each cited passage. "
            f"Backend: **{webui.md_text(assistant.backend)}**."
        )
        session = gr.State(new_session())
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="qa-chat",
                    height=480,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=[],  # a copy would hold the Markdown escapes, not the text
                    allow_tags=False,
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask about the articles…",
                        show_label=False,
                        elem_id="qa-question",
                        scale=5,
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1)
                clear_btn = gr.Button("Clear conversation", elem_id="qa-clear", size="sm")
                gr.Examples(examples=[[q] for q in (example_questions or examples())], inputs=[box], label="Examples")
            with gr.Column(scale=2):
                sources = gr.HTML(webui.sources_html(None), elem_id="qa-sources", js_on_load=None, label="Sources")
        io = dict(fn=web.chat, inputs=[box, session], outputs=[box, chatbot, session, sources], api_visibility="undocumented")
        box.submit(**io)
        send.click(**io)
        clear_btn.click(web.clear, outputs=[box, chatbot, session, sources], api_visibility="undocumented")
        chatbot.clear(web.clear, outputs=[box, chatbot, session, sources], api_visibility="undocumented")
        gr.api(web.ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def launch_options(settings: WebSettings) -> dict:
    """Keyword arguments for `demo.launch`."""
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=settings.auth,
        css=webui.CSS,
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
