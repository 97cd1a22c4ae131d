"""Registry credentials: the environment, the Docker config's auths, and real credential helpers
(a tiny ``docker-credential-test`` script on PATH) run through the process seam; the secret is
never in a repr, a str or an error message."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import InputError, OperationError
from astroctl.seams.credentials import (
    DOCKER_HUB_KEY,
    Credential,
    Credentials,
    config_key,
    docker_config_path,
)
from astroctl.seams.process import Runner

SECRET = "pa55-w0rd-never-shown"  # noqa: S105 - the tests' own fake secret
ENV = {"ASTROCTL_REGISTRY_USERNAME": "ci-bot", "ASTROCTL_REGISTRY_PASSWORD": SECRET}

# A credential helper as the Docker CLI runs one: `get`, the server on stdin, JSON out; it
# knows registry.example.com and ghcr.example (an identity token), records every call, and fails
# for broken.example.
HELPER = r"""#!/bin/sh
[ "$1" = get ] || { echo "unknown action $1" >&2; exit 2; }
read -r server
echo "$server" >> "$(dirname "$0")/calls.log"
case "$server" in
  registry.example.com) user=helper-user; secret="$HELPER_SECRET" ;;
  ghcr.example) user="<token>"; secret="refresh-$HELPER_SECRET" ;;
  garbled.example) echo "not json"; exit 0 ;;
  broken.example) echo "keychain is locked" >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$server" "$user" "$secret"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Docker config directory of the test's own, and a helper on PATH."""
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-test"
    helper.write_text(HELPER, encoding="utf-8")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HELPER_SECRET", SECRET)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return config_dir


def write_config(home: Path, config: dict[str, Any]) -> Path:
    path = home / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def lookup(registry: str, environ: dict[str, str] | None = None) -> Credential | None:
    env = dict(os.environ) if environ is None else {**os.environ, **environ}
    return Credentials(Runner(), environ=env).lookup(registry)


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "bin" / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_secret_is_never_shown() -> None:
    credential = Credential("robot", SECRET, source="$ASTROCTL_REGISTRY_USERNAME")
    assert SECRET not in repr(credential)
    assert SECRET not in str(credential)
    assert str(credential) == "robot (secret hidden) from $ASTROCTL_REGISTRY_USERNAME"


def test_the_environment_comes_first(home: Path) -> None:
    write_config(home, {"auths": {"127.0.0.1:5000": {"auth": auth("config-user", "x")}}})
    found = lookup("127.0.0.1:5000", ENV)
    assert found == Credential("ci-bot", SECRET, source="$ASTROCTL_REGISTRY_USERNAME")


@pytest.mark.parametrize("present", list(ENV))
def test_half_the_environment_is_an_input_error(home: Path, present: str) -> None:
    with pytest.raises(InputError, match="set both, or neither") as caught:
        lookup("quay.io", {present: ENV[present]})
    assert SECRET not in str(caught.value)


def test_nothing_anywhere_is_none(home: Path) -> None:
    assert lookup("quay.io") is None
    write_config(home, {"auths": {"other.example": {"auth": auth("u", "p")}}})
    assert lookup("quay.io") is None


def test_config_auths_by_host_url_and_docker_hub_key(home: Path) -> None:
    write_config(
        home,
        {
            "auths": {
                "127.0.0.1:5000": {"auth": auth("local", "pw:with:colons")},
                "https://quay.io/v2/": {"auth": auth("quay-user", "quay-pw")},
                DOCKER_HUB_KEY: {"auth": auth("hub-user", "hub-pw")},
                "id.example": {"identitytoken": "refresh-token"},
                "split.example": {"username": "split", "password": "split-pw"},
            }
        },
    )
    assert lookup("127.0.0.1:5000") == Credential(
        "local", "pw:with:colons", source=f"{home / 'config.json'} (auths)"
    )
    quay = lookup("quay.io")
    assert quay is not None
    assert (quay.username, quay.secret) == ("quay-user", "quay-pw")
    hub = lookup("registry-1.docker.io")
    assert hub is not None
    assert (hub.username, hub.secret) == ("hub-user", "hub-pw")
    token = lookup("id.example")
    assert token is not None
    assert (token.username, token.secret, token.identity_token) == (
        "<token>",
        "refresh-token",
        True,
    )
    split = lookup("split.example")
    assert split is not None
    assert (split.username, split.secret) == ("split", "split-pw")


def test_config_keys() -> None:
    assert config_key("registry-1.docker.io") == DOCKER_HUB_KEY
    assert config_key("docker.io") == DOCKER_HUB_KEY
    assert config_key("quay.io") == "quay.io"
    assert docker_config_path({"DOCKER_CONFIG": "/x"}) == Path("/x/config.json")
    assert docker_config_path({}) == Path.home() / ".docker" / "config.json"


def test_cred_helpers_then_creds_store_then_auths(home: Path, tmp_path: Path) -> None:
    write_config(
        home,
        {
            "credHelpers": {"registry.example.com": "test", "ghcr.example": "test"},
            "credsStore": "test",
            "auths": {"fallback.example": {"auth": auth("auths-user", "auths-pw")}},
        },
    )
    helped = lookup("registry.example.com")
    assert helped == Credential("helper-user", SECRET, source="docker-credential-test")
    token = lookup("ghcr.example")
    assert token is not None
    assert token.identity_token
    assert token.secret == f"refresh-{SECRET}"
    fallback = lookup("fallback.example")  # credsStore says not found: auths answers
    assert fallback is not None
    assert fallback.username == "auths-user"
    assert calls(tmp_path) == ["registry.example.com", "ghcr.example", "fallback.example"]


def test_docker_hub_is_asked_under_its_index_url(home: Path, tmp_path: Path) -> None:
    write_config(home, {"credsStore": "test"})
    assert lookup("registry-1.docker.io") is None
    assert calls(tmp_path) == [DOCKER_HUB_KEY]


def test_a_lookup_runs_the_helper_once_per_host(home: Path, tmp_path: Path) -> None:
    write_config(home, {"credsStore": "test"})
    credentials = Credentials(Runner())
    first = credentials.lookup("registry.example.com")
    assert first is not None
    assert credentials.lookup("registry.example.com") == first
    assert credentials.lookup("unknown.example") is None
    assert credentials.lookup("unknown.example") is None
    assert calls(tmp_path) == ["registry.example.com", "unknown.example"]


def test_a_failing_helper_names_itself_not_a_secret(home: Path) -> None:
    write_config(home, {"credsStore": "test"})
    with pytest.raises(OperationError) as caught:
        lookup("broken.example")
    assert str(caught.value) == (
        "docker-credential-test get failed for broken.example with exit status 3: "
        "keychain is locked"
    )
    with pytest.raises(OperationError, match="its answer is not a JSON object"):
        lookup("garbled.example")


def test_a_missing_helper_says_so(home: Path) -> None:
    write_config(home, {"credHelpers": {"quay.io": "absent"}})
    with pytest.raises(OperationError, match="docker-credential-absent: command not found"):
        lookup("quay.io")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "the Docker config is not valid JSON (line 1"),
        ("[]", "the Docker config is not a JSON object"),
        ('{"auths": []}', "auths is not a JSON object"),
        ('{"auths": {"quay.io": {"auth": "!!!' + SECRET + '"}}}', "is not base64 of user:password"),
        (
            '{"auths": {"quay.io": {"auth": "'
            + base64.b64encode(SECRET.encode()).decode()
            + '"}}}',
            "is not base64 of user:password (no ':')",
        ),
    ],
)
def test_a_malformed_config_names_the_file_and_never_the_value(
    home: Path, config: str, message: str
) -> None:
    path = home / "config.json"
    path.write_text(config, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        lookup("quay.io")
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)
