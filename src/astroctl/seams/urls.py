"""Index URLs and their credentials: the ones pip users set, the ones refused, netrc.

``$PIP_INDEX_URL`` and ``$PIP_EXTRA_INDEX_URL`` are read as pip reads them. A URL with a user
name or password given as an argument or written in the matrix is refused (shell history,
process listings and git would keep it): :func:`refuse_credentials` names the host and points at
netrc. :class:`Netrc` reads the netrc file (``$NETRC``, else ``~/.netrc``) on first use, as pip
and uv read it, and gives the ``Authorization`` header of a host.

Light on purpose: a command that only needs to know which index to ask (or to refuse one) does
not import the index client (:mod:`astroctl.seams.index`) for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from astroctl.errors import InputError
from astroctl.seams.http import shown_url

Notify = Callable[[str], None]


def index_urls_from_environment(
    environ: Mapping[str, str] | None = None,
) -> tuple[str | None, tuple[str, ...]]:
    """``$PIP_INDEX_URL`` (None when unset or blank) and ``$PIP_EXTRA_INDEX_URL`` (split on
    whitespace), as pip reads them."""
    env = os.environ if environ is None else environ
    primary = env.get("PIP_INDEX_URL", "").strip() or None
    return primary, tuple(env.get("PIP_EXTRA_INDEX_URL", "").split())


def index_url(url: str) -> str:
    """The index URL checked (http or https, with a host) and ending in a slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise InputError(f"index URL {shown_url(url)!r}: not a URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"index URL {shown_url(url)!r}: not an http(s) URL")
    text = url.strip().split("#", 1)[0]
    return text if text.endswith("/") else text + "/"


NETRC_HINT = "put them in a netrc file (~/.netrc, or the file $NETRC names)"


def has_credentials(url: str) -> bool:
    """Whether a URL carries a user name or a password."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "@" in url
    return parts.username is not None or parts.password is not None


def refuse_credentials(url: str, where: str) -> str:
    """``url`` itself, or an InputError when it carries credentials: an argument lands in shell
    history and process listings, a matrix entry in git. The message names the host, never the
    user name or the password."""
    if not has_credentials(url):
        return url
    try:
        host = urlsplit(url.strip()).hostname or "HOST"
    except ValueError:
        host = "HOST"
    raise InputError(
        f"{where} {shown_url(url.strip())!r}: credentials in a URL are refused; {NETRC_HINT}: "
        f"'machine {host} login USER password PASSWORD'"
    )


class Netrc:
    """The credentials of a netrc file: ``$NETRC``, else ``~/.netrc``; read on first use.

    A missing file gives none; a file that cannot be parsed gives none and ``notify`` is told
    once, naming the file and line, never its contents (as uv warns and goes on).
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, notify: Notify | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        named = env.get("NETRC", "").strip()
        self.path = Path(named) if named else Path.home() / ".netrc"
        self._notify = notify
        self._lock = threading.Lock()
        self._hosts: dict[str, tuple[str, str]] | None = None

    def _load(self) -> dict[str, tuple[str, str]]:
        import netrc

        with self._lock:
            if self._hosts is not None:
                return self._hosts
            hosts: dict[str, tuple[str, str]] = {}
            try:
                if self.path.is_file():
                    parsed = netrc.netrc(os.fspath(self.path))
                    hosts = {
                        host.lower(): (login, password)
                        for host, (login, _account, password) in parsed.hosts.items()
                        if password
                    }
            except netrc.NetrcParseError as exc:
                if self._notify is not None:
                    self._notify(
                        f"netrc file {self.path}: line {exc.lineno} cannot be read; "
                        f"no credentials are taken from it"
                    )
            except OSError as exc:
                if self._notify is not None:
                    self._notify(f"netrc file {self.path}: cannot be read ({exc.strerror or exc})")
            self._hosts = hosts
            return hosts

    def authorization(self, url: str) -> str | None:
        """The ``Authorization`` header for ``url``'s host, or None (no entry, or the URL
        brings its own credentials)."""
        import base64

        if has_credentials(url):
            return None
        host = (urlsplit(url).hostname or "").lower()
        hosts = self._load()
        found = (hosts.get(host) or hosts.get("default")) if host else None
        if found is None:
            return None
        token = base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode("ascii")
        return f"Basic {token}"
