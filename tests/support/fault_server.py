"""A fake OpenAI chat-completions server that fails on purpose, for tests.

It serves ``POST /v1/chat/completions`` (also ``/chat/completions``) and
``GET /v1/models`` on 127.0.0.1 from a thread, and answers according to a mode:

========== ==================================================================
mode       answer to a chat completion request
========== ==================================================================
"ok"       200, a valid completion whose content is ``content``
"empty"    200, a valid completion with empty content ("")
"flaky"    500 for the first ``fail_first`` requests, then like "ok"
           (with ``fail_first=0`` it is just "ok")
"500"      always 500 with an OpenAI-style JSON error body
"429"      always 429 with ``Retry-After: <retry_after>`` ("0" by default)
           and a JSON error body
"garbage"  200 with a body that is not JSON (``garbage_content_type``,
           "application/json" by default, i.e. a lying server); a
           streaming request gets an SSE event whose data is not JSON
"hang"     reads the request and never answers, until the server stops
"trickle"  200, but slowly: a plain completion one byte every
           ``trickle_interval`` seconds; a stream one content event every
           ``trickle_interval`` seconds, without end (``content`` repeated),
           until the client goes away or the server stops
========== ==================================================================

Every valid completion honours ``"stream": true`` with SSE chunks
(``data: {...}`` lines, then ``data: [DONE]``), including the usage chunk
when ``stream_options.include_usage`` is set. ``FaultServer.requests``
counts chat completion requests received (a retrying client makes several);
``FaultServer.bodies`` keeps their parsed JSON bodies. ``mode``, ``content``
and ``fail_first`` may be changed while the server runs.

    with run_fault_server("500") as fs:
        client = openai.OpenAI(base_url=fs.base_url, api_key="sk-test", max_retries=2)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=[...])
        assert fs.requests == 3
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

MODES = ("ok", "empty", "flaky", "500", "429", "garbage", "hang", "trickle")
DEFAULT_CONTENT = "This is a canned answer from the fault server."
DEFAULT_MODEL = "fault-model"
GARBAGE_BODY = b"<html><body>502 Bad Gateway</body></html> {not json"

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MODELS_PATHS = ("/v1/models", "/models")


class FaultServer:
    """State of a running fault server; see the module docstring."""

    def __init__(
        self,
        mode: str,
        content: str = DEFAULT_CONTENT,
        fail_first: int = 0,
        *,
        model: str = DEFAULT_MODEL,
        garbage_content_type: str = "application/json",
        retry_after: str = "0",
        trickle_interval: float = 0.05,
    ) -> None:
        _check_mode(mode, fail_first)
        self.retry_after = retry_after
        self.trickle_interval = trickle_interval
        self.mode = mode
        self.content = content
        self.fail_first = fail_first
        self.model = model
        self.garbage_content_type = garbage_content_type
        self.requests = 0  # chat completion requests received
        self.bodies: list[Any] = []  # their parsed JSON bodies (None if unparsable)
        self.base_url = ""  # "http://127.0.0.1:PORT/v1", set once listening
        self.stopping = threading.Event()  # releases "hang" handlers
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    def reset(self) -> None:
        """Forget the requests seen so far (the "flaky" countdown starts over)."""
        with self._lock:
            self.requests = 0
            self.bodies.clear()

    def _record(self, body: Any) -> int:
        with self._lock:
            self.requests += 1
            self.bodies.append(body)
            return self.requests


def _check_mode(mode: str, fail_first: int) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; expected one of {MODES}")
    if fail_first < 0:
        raise ValueError("fail_first must be >= 0")


def _completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def _rough_tokens(text: str) -> int:
    return max(1, len(text.split())) if text else 0


def _prompt_text(body: Any) -> str:
    try:
        return " ".join(
            m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
            for m in body.get("messages", [])
        )
    except (AttributeError, TypeError, KeyError):
        return ""


def _split_for_stream(content: str) -> list[str]:
    """Split into word-ish pieces that join back to exactly ``content``."""
    pieces: list[str] = []
    current = ""
    for ch in content:
        if ch == " " and current.strip():
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


class _Handler(BaseHTTPRequestHandler):
    server_version = "FaultServer/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection; the body ends at close

    @property
    def state(self) -> FaultServer:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    # -- helpers -----------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _send_json(self, status: int, obj: Any, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _send_error(self, status: int, message: str, err_type: str, code: str | None, headers: dict | None = None) -> None:
        self._send_json(
            status,
            {"error": {"message": message, "type": err_type, "param": None, "code": code}},
            headers,
        )

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    # -- routes ------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path in MODELS_PATHS:
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": self.state.model, "object": "model", "created": 0, "owned_by": "fault-server"}],
                },
            )
        elif path in ("/health", "/v1/health"):
            self._send_json(200, {"status": "ok"})
        else:
            self._send_error(404, f"no route for GET {path}", "invalid_request_error", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        if path not in CHAT_PATHS:
            self._send_error(404, f"no route for POST {path}", "invalid_request_error", "not_found")
            return
        state = self.state
        number = state._record(body)
        mode = state.mode

        if mode == "hang":
            # Never answer; let go (closing the connection unanswered) when the server stops.
            state.stopping.wait()
            self.close_connection = True
            return
        if mode == "500" or (mode == "flaky" and number <= state.fail_first):
            self._send_error(500, "The fault server failed on purpose (500).", "server_error", None)
            return
        if mode == "429":
            self._send_error(
                429,
                "Rate limit reached (fault server).",
                "rate_limit_error",
                "rate_limit_exceeded",
                headers={"Retry-After": state.retry_after},
            )
            return
        if mode == "garbage":
            if isinstance(body, dict) and body.get("stream"):
                # A stream whose events are not JSON.
                self._send(200, b"data: " + GARBAGE_BODY + b"\n\n", "text/event-stream")
            else:
                self._send(200, GARBAGE_BODY, state.garbage_content_type)
            return

        content = "" if mode == "empty" else state.content
        model = (body.get("model") if isinstance(body, dict) else None) or state.model
        if mode == "trickle":
            self._trickle(model, content, _prompt_text(body), bool(isinstance(body, dict) and body.get("stream")))
            return
        if isinstance(body, dict) and body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream_completion(model, content, _prompt_text(body), include_usage)
        else:
            self._send_json(200, self._completion(model, content, _prompt_text(body)))

    # -- completions -------------------------------------------------------

    def _trickle(self, model: str, content: str, prompt: str, stream: bool) -> None:
        state = self.state
        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = _split_for_stream(content) or ["."]
            n = 0
            while not state.stopping.wait(state.trickle_interval):
                delta = {"content": pieces[n % len(pieces)]}
                event = {"id": "chatcmpl-trickle", "object": "chat.completion.chunk", "created": 0, "model": model,
                         "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
                try:
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    break
                n += 1
        else:
            body = json.dumps(self._completion(model, content, prompt)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(len(body)):
                if state.stopping.wait(state.trickle_interval):
                    break
                try:
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    break
        self.close_connection = True

    @staticmethod
    def _usage(prompt: str, content: str) -> dict:
        p, c = _rough_tokens(prompt), _rough_tokens(content)
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}

    def _completion(self, model: str, content: str, prompt: str) -> dict:
        return {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": self._usage(prompt, content),
        }

    def _stream_completion(self, model: str, content: str, prompt: str, include_usage: bool) -> None:
        cid, created = _completion_id(), int(time.time())

        def chunk(delta: dict, finish: str | None) -> dict:
            out: dict = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if include_usage:
                out["usage"] = None
            return out

        events: list[dict] = [chunk({"role": "assistant", "content": ""}, None)]
        events += [chunk({"content": piece}, None) for piece in _split_for_stream(content)]
        events.append(chunk({}, "stop"))
        if include_usage:
            events.append(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": self._usage(prompt, content),
                }
            )

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for event in events:
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # never join handler threads on close
    allow_reuse_address = True
    state: FaultServer


@contextlib.contextmanager
def run_fault_server(
    mode: str,
    content: str = DEFAULT_CONTENT,
    fail_first: int = 0,
    *,
    port: int = 0,
    model: str = DEFAULT_MODEL,
    garbage_content_type: str = "application/json",
    retry_after: str = "0",
    trickle_interval: float = 0.05,
) -> Iterator[FaultServer]:
    """Serve the fault server on 127.0.0.1 (a free port unless ``port`` is given)."""
    state = FaultServer(
        mode,
        content,
        fail_first,
        model=model,
        garbage_content_type=garbage_content_type,
        retry_after=retry_after,
        trickle_interval=trickle_interval,
    )
    httpd = _HTTPServer(("127.0.0.1", port), _Handler)
    httpd.state = state
    state._httpd = httpd
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()  # release "hang" handlers first
        httpd.shutdown()  # stops serve_forever (does not wait for handlers)
        httpd.server_close()
        thread.join(timeout=5)
