"""Registry credentials: where ``docker login`` and the environment keep them, never argv.

:class:`Credentials` finds the :class:`Credential` for a registry host, in this order:

1. the environment: ``$ASTROCTL_REGISTRY_USERNAME`` with ``$ASTROCTL_REGISTRY_PASSWORD`` (CI),
   for whichever registry asks (a run publishes to one registry);
2. the Docker config (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``):
   ``credHelpers[host]``, then ``credsStore``, each through ``docker-credential-<name> get``
   (the host on stdin, ``{"Username", "Secret"}`` on stdout; a helper that answers
   "credentials not found" means none), then ``auths[host]``: ``auth`` (base64 ``user:pass``),
   ``username``/``password``, or ``identitytoken``.

Docker Hub's key in the config is ``https://index.docker.io/v1/``; other keys are matched as
written or with their scheme and path left off (``https://quay.io/v2/`` is ``quay.io``), as the
Docker CLI does. A credential's secret never appears in its ``repr``/``str`` nor in an error.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astroctl.errors import InputError, OperationError
from astroctl.seams.process import ProcessRunner

USERNAME_VARIABLE = "ASTROCTL_REGISTRY_USERNAME"
PASSWORD_VARIABLE = "ASTROCTL_REGISTRY_PASSWORD"  # noqa: S105 - a variable's name, not a secret
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
HELPER_TIMEOUT = 60.0  # seconds: a keychain helper may wait for an unlock prompt
TOKEN_USERNAME = "<token>"  # noqa: S105 - Docker's marker for an identity token, not a secret
_NOT_FOUND = "credentials not found"


@dataclass(frozen=True)
class Credential:
    """A user name and its secret (a password, an access token or an identity token).

    ``identity_token``: the secret is an OAuth2 refresh token (``docker login`` against a
    registry with an identity provider), traded at the token realm, never sent as a password.
    ``source`` says where it came from, for messages ("the environment", a helper's name).
    """

    username: str
    secret: str = field(repr=False)
    identity_token: bool = False
    source: str = ""

    def __str__(self) -> str:
        where = f" from {self.source}" if self.source else ""
        return f"{self.username} (secret hidden){where}"


def config_key(registry: str) -> str:
    """The key a registry host has in Docker's config (Docker Hub: the v1 index URL)."""
    host = registry.lower()
    return DOCKER_HUB_KEY if host in DOCKER_HUB_HOSTS else registry


def _hostname(key: str) -> str:
    """A config key without its scheme and path: ``https://quay.io/v2/`` -> ``quay.io``."""
    rest = key.partition("://")[2] if "://" in key else key
    return rest.partition("/")[0]


def docker_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    env = os.environ if environ is None else environ
    directory = env.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path.home() / ".docker" / "config.json"


class Credentials:
    """Looks credentials up (once per host: a keychain helper is slow) for the registry client.

    ``environ`` defaults to ``os.environ`` and ``config`` to :func:`docker_config_path`; a test
    hands its own. ``runner`` runs the credential helpers (the process seam).
    """

    def __init__(
        self,
        runner: ProcessRunner,
        *,
        environ: Mapping[str, str] | None = None,
        config: Path | None = None,
    ) -> None:
        self._runner = runner
        self._environ = os.environ if environ is None else environ
        self._config_path = config
        self._found: dict[str, Credential | None] = {}
        self._lock = threading.Lock()

    @property
    def config_path(self) -> Path:
        if self._config_path is not None:
            return self._config_path
        return docker_config_path(self._environ)

    def lookup(self, registry: str) -> Credential | None:
        """The credential for ``registry`` (``host[:port]``), or None when there is none."""
        with self._lock:
            if registry not in self._found:
                self._found[registry] = self._find(registry)
            return self._found[registry]

    def _find(self, registry: str) -> Credential | None:
        from_env = self._from_environment()
        if from_env is not None:
            return from_env
        config = self._config()
        if not config:
            return None
        key = config_key(registry)
        helpers = _mapping(config.get("credHelpers"), "credHelpers", self.config_path)
        helper = _entry(helpers, key)
        if helper is not None:
            found = self._from_helper(str(helper), key)
            if found is not None:
                return found
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            found = self._from_helper(store, key)
            if found is not None:
                return found
        auths = _mapping(config.get("auths"), "auths", self.config_path)
        entry = _entry(auths, key)
        if entry is None:
            return None
        return _from_auths_entry(entry, key, self.config_path)

    def _from_environment(self) -> Credential | None:
        username = self._environ.get(USERNAME_VARIABLE, "")
        password = self._environ.get(PASSWORD_VARIABLE, "")
        if not username and not password:
            return None
        if not username or not password:
            missing = USERNAME_VARIABLE if not username else PASSWORD_VARIABLE
            present = PASSWORD_VARIABLE if not username else USERNAME_VARIABLE
            raise InputError(f"${present} is set but ${missing} is not: set both, or neither")
        return Credential(username, password, source=f"${USERNAME_VARIABLE}")

    def _config(self) -> Mapping[str, Any]:
        path = self.config_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the Docker config: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}: the Docker config is not valid JSON (line {exc.lineno}: {exc.msg})"
            ) from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: the Docker config is not a JSON object")
        return data

    def _from_helper(self, name: str, key: str) -> Credential | None:
        program = f"docker-credential-{name}"
        result = self._runner.run(
            [program, "get"], check=False, input=key, timeout=HELPER_TIMEOUT, read_only=True
        )
        if not result.ok:
            said = (result.stdout + result.stderr).strip()
            if _NOT_FOUND in said.lower():
                return None
            first = said.splitlines()[0] if said else "no output"
            raise OperationError(
                f"{program} get failed for {key} with exit status {result.returncode}: {first}"
            )
        try:
            answer = json.loads(result.stdout)
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise OperationError(f"{program} get for {key}: its answer is not a JSON object")
        username, secret = answer.get("Username"), answer.get("Secret")
        if not isinstance(username, str) or not isinstance(secret, str):
            raise OperationError(f"{program} get for {key}: no Username and Secret strings")
        if not secret:
            return None
        if username == TOKEN_USERNAME:
            return Credential(username, secret, identity_token=True, source=program)
        return Credential(username, secret, source=program)


def _mapping(value: object, name: str, path: Path) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{path}: {name} is not a JSON object")
    return value


def _entry(table: Mapping[str, Any], key: str) -> Any:
    """The value under ``key``, else under the first key whose host part is ``key``'s."""
    if key in table:
        return table[key]
    wanted = _hostname(key)
    for candidate, value in table.items():
        if _hostname(candidate) == wanted:
            return value
    return None


def _from_auths_entry(entry: object, key: str, path: Path) -> Credential | None:
    import base64
    import binascii

    where = f"{path}: auths[{key!r}]"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not a JSON object")
    source = f"{path} (auths)"
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    auth = entry.get("auth")
    if auth:
        try:
            decoded = base64.b64decode(str(auth), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InputError(f"{where}.auth is not base64 of user:password") from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise InputError(f"{where}.auth is not base64 of user:password (no ':')")
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credential(username or TOKEN_USERNAME, token, identity_token=True, source=source)
    if isinstance(username, str) and isinstance(password, str) and username and password:
        return Credential(username, password, source=source)
    return None
