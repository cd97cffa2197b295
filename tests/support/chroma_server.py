"""Run a real Chroma server as a subprocess for tests.

Usage::

    with run_chroma_server(tmp_path / "chroma") as server:
        client = server.client()
        ...
        server.stop()    # simulate the server going away mid-run
        server.start()   # bring it back on the same path and port

The server is the one shipped with the installed ``chromadb`` package
(``chroma run``; in chromadb 1.x this is the Rust frontend running in-process
inside the ``chroma`` Python entry point). It never downloads anything and has
no product telemetry of its own; ``ANONYMIZED_TELEMETRY=False`` is still set in
its environment, and every client made here passes
``Settings(anonymized_telemetry=False)``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, List, Optional

__all__ = ["ChromaServer", "ChromaServerError", "find_free_port", "run_chroma_server"]

HOST = "127.0.0.1"
DEFAULT_START_TIMEOUT = 30.0
DEFAULT_STOP_TIMEOUT = 10.0


class ChromaServerError(RuntimeError):
    """The Chroma server subprocess could not be started."""


def find_free_port(host: str = HOST) -> int:
    """Ask the OS for a currently free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _chroma_command() -> List[str]:
    """The command that runs the Chroma CLI of the current interpreter's env."""
    exe_dir = Path(sys.executable).parent
    for name in ("chroma", "chroma.exe"):
        candidate = exe_dir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    found = shutil.which("chroma", path=str(exe_dir))
    if found:
        return [found]
    # ``python -m chromadb.cli.cli`` does nothing (the module has no __main__
    # block), so call its entry point directly, as the console script does.
    return [
        sys.executable,
        "-c",
        "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; sys.exit(app())",
    ]


def _die_with_parent() -> None:
    """In the child, before exec: have Linux send SIGTERM to the server when the
    process that started it dies (e.g. pytest killed with SIGKILL), so no
    orphaned server keeps running."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except Exception:
        pass


def _settings():  # type: ignore[no-untyped-def]
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


class ChromaServer:
    """A ``chroma run`` subprocess bound to ``host:port`` and persisting to ``path``."""

    def __init__(
        self,
        path: Path,
        port: Optional[int] = None,
        host: str = HOST,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        self.host = host
        self.port = int(port) if port is not None else find_free_port(host)
        self.start_timeout = start_timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.last_start_seconds: Optional[float] = None
        # The server logs to stdout; stdout and stderr both go to this file
        # (a file, not a pipe, so a chatty server can never block on output;
        # append mode, so reading the tail never moves where the server writes).
        self._log: IO[bytes] = tempfile.TemporaryFile(
            mode="a+b", prefix="chroma-server-", suffix=".log"
        )

    # -- information -----------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> List[str]:
        return _chroma_command() + [
            "run",
            "--path",
            str(self.path),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]

    def output_tail(self, max_chars: int = 4000) -> str:
        """The last ``max_chars`` characters the server printed (stdout + stderr)."""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - max_chars))
        data = self._log.read()
        self._log.seek(0, os.SEEK_END)
        return data.decode("utf-8", errors="replace")

    def client(self):  # type: ignore[no-untyped-def]
        """A ``chromadb.HttpClient`` for this server, with telemetry disabled.

        chromadb caches one System (and so one HTTP session) per host:port, so
        clients made for the same server share their connection pool.
        """
        import chromadb

        return chromadb.HttpClient(host=self.host, port=self.port, settings=_settings())

    def heartbeat(self) -> int:
        return int(self.client().heartbeat())

    # -- lifecycle -------------------------------------------------------

    def start(self, timeout: Optional[float] = None) -> "ChromaServer":
        """Start the server (same path and port as before) and wait for its heartbeat."""
        if self.is_running:
            return self
        timeout = self.start_timeout if timeout is None else timeout
        self.path.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.setdefault("ANONYMIZED_TELEMETRY", "False")  # Python-side product telemetry
        env.setdefault("NO_COLOR", "1")  # plain log lines in error messages
        self._log.write(f"\n=== starting: {' '.join(self.command())}\n".encode())
        self._log.flush()
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in the test run is not sent to it twice
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        try:
            self._wait_until_ready(began + timeout, timeout)
        except BaseException:
            self._terminate()
            raise
        self.last_start_seconds = time.monotonic() - began
        return self

    def _wait_until_ready(self, deadline: float, timeout: float) -> None:
        import chromadb
        import httpx

        last_error: Optional[BaseException] = None
        while True:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                raise ChromaServerError(
                    f"Chroma server exited with code {code} before answering its "
                    f"heartbeat ({self.url}, path {self.path}).\n"
                    f"Command: {' '.join(self.command())}\n"
                    f"--- server output (tail) ---\n{self.output_tail()}"
                )
            try:
                # chromadb's HTTP client has no timeout (httpx timeout=None), so
                # probe with a bounded request first: something that accepts
                # the connection but never answers must not hang this loop.
                httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2.0).raise_for_status()
                chromadb.HttpClient(
                    host=self.host, port=self.port, settings=_settings()
                ).heartbeat()
                return
            except Exception as exc:  # not up yet: connection refused etc.
                last_error = exc
            if time.monotonic() >= deadline:
                raise ChromaServerError(
                    f"Chroma server at {self.url} (path {self.path}) did not answer its "
                    f"heartbeat within {timeout:g} s; last error: "
                    f"{type(last_error).__name__}: {last_error}\n"
                    f"Command: {' '.join(self.command())}\n"
                    f"--- server output (tail) ---\n{self.output_tail()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` s). Idempotent."""
        self._terminate(timeout)

    def _terminate(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        self.process = None

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"ChromaServer({self.url}, path={str(self.path)!r}, {state})"


@contextmanager
def run_chroma_server(
    path: Path,
    port: Optional[int] = None,
    *,
    host: str = HOST,
    start_timeout: float = DEFAULT_START_TIMEOUT,
) -> Iterator[ChromaServer]:
    """Start ``chroma run --path PATH --host 127.0.0.1 --port PORT`` and yield it.

    ``port=None`` picks a free port. The server is stopped on exit (terminate,
    then kill), even if the test stopped/restarted it in between.
    """
    server = ChromaServer(path, port=port, host=host, start_timeout=start_timeout)
    try:
        server.start()
        yield server
    finally:
        server.close()
