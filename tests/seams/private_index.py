"""Private indexes for tests: one that is down (a closed loopback port) and one that asks for
HTTP Basic credentials (the loopback index of tests/index_server.py behind a 401).

    with closed_port() as down, AuthIndexServer("robot", "s3cret") as private:
        down.url       # http://127.0.0.1:<port>/simple/: nothing listens, connections refused
        private.url    # answers 401 unless the request carries robot:s3cret
        write_netrc(tmp_path / "netrc", private, "robot", "s3cret")
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.index_server import IndexServer


@dataclass(frozen=True)
class ClosedPort:
    """A loopback port held bound but not listening: a connection to it is refused at once."""

    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"


@contextmanager
def closed_port() -> Iterator[ClosedPort]:
    """A port nothing listens on, kept bound (so no other test can take it) while in use."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        yield ClosedPort(holder.getsockname()[1])
    finally:
        holder.close()


def basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class AuthIndexServer(IndexServer):
    """The loopback index, answering 401 (``WWW-Authenticate: Basic``) to any request without
    these credentials; :attr:`refused` counts those answers and :attr:`refused_agents` names
    the clients (the first word of their User-Agent: uv asks without credentials first, and
    sends netrc's after a 401)."""

    def __init__(self, user: str, password: str, **options: bool) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.expected = basic(user, password)
        self.refused = 0
        self.refused_agents: set[str] = set()
        self.authorized = 0

    def __enter__(self) -> AuthIndexServer:
        self.start()
        return self

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("Authorization") != self.expected:
            agent = (handler.headers.get("User-Agent") or "").split("/")[0]
            with self._lock:
                self.refused += 1
                self.refused_agents.add(agent)
            body = b"Unauthorized"
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="private"')
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(body)
            return
        with self._lock:
            self.authorized += 1
        super()._handle(handler)


def write_netrc(path: Path, host: str, user: str, password: str) -> Path:
    """A netrc file naming ``host`` (no port: netrc has none), owner-only as netrc should be."""
    path.write_text(f"machine {host}\n  login {user}\n  password {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path
