"""The URL rules and netrc of :mod:`astroctl.seams.urls`: what pip users set, what is refused,
whose credentials go where."""

from __future__ import annotations

from pathlib import Path

import pytest

from astroctl.errors import EXIT_USAGE, InputError
from astroctl.seams.urls import (
    Netrc,
    has_credentials,
    index_urls_from_environment,
    refuse_credentials,
)
from tests.seams.private_index import basic


def test_index_urls_from_the_environment() -> None:
    assert index_urls_from_environment({}) == (None, ())
    env = {
        "PIP_INDEX_URL": " https://a.test/simple ",
        "PIP_EXTRA_INDEX_URL": "https://b.test/ \n https://c.test/",
    }
    assert index_urls_from_environment(env) == (
        "https://a.test/simple",
        ("https://b.test/", "https://c.test/"),
    )
    assert index_urls_from_environment({"PIP_INDEX_URL": "  "}) == (None, ())


def test_the_netrc_file(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(
        "machine index.example login robot password s3cret\n"
        "machine nopassword.example login someone\n"
        "default login anyone password open\n",
        encoding="utf-8",
    )
    netrc = Netrc({"NETRC": str(path)})
    assert netrc.path == path
    assert netrc.authorization("https://index.example/simple/") == basic("robot", "s3cret")
    assert netrc.authorization("https://INDEX.example:8443/x/") == basic("robot", "s3cret")
    assert netrc.authorization("https://other.example/") == basic("anyone", "open")
    assert netrc.authorization("https://nopassword.example/") == basic("anyone", "open")
    # a URL with credentials of its own (from $PIP_INDEX_URL) keeps them
    assert netrc.authorization("https://me:mine@index.example/simple/") is None
    assert Netrc({"NETRC": str(tmp_path / "missing")}).authorization("https://a.example/") is None
    assert Netrc({}).path == Path.home() / ".netrc"


def test_a_netrc_file_that_cannot_be_read_is_said_once_without_its_contents(
    tmp_path: Path,
) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine a.example login robot password s3cret\nmachine\n", encoding="utf-8")
    notes: list[str] = []
    netrc = Netrc({"NETRC": str(path)}, notify=notes.append)
    assert netrc.authorization("https://a.example/") is None
    assert netrc.authorization("https://b.example/") is None
    assert len(notes) == 1
    assert notes[0].startswith(f"netrc file {path}: line ")
    assert "s3cret" not in notes[0] and "robot" not in notes[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://robot:s3cret@index.example/simple/",
        "https://robot@index.example/simple/",
        "https://:s3cret@index.example/simple/",
    ],
)
def test_credentials_in_a_url_are_refused_pointing_at_netrc(url: str) -> None:
    with pytest.raises(InputError) as caught:
        refuse_credentials(url, "--index-url")
    message = caught.value.message
    assert message.startswith("--index-url 'https://index.example/simple/': credentials in a URL")
    assert "netrc" in message and "machine index.example" in message
    assert "s3cret" not in message and "robot" not in message
    assert caught.value.exit_code == EXIT_USAGE


def test_a_url_without_credentials_is_kept() -> None:
    assert refuse_credentials("https://index.example/simple/", "x") == (
        "https://index.example/simple/"
    )
    assert not has_credentials("https://index.example/simple/")
    assert has_credentials("https://robot:s3cret@index.example/simple/")
