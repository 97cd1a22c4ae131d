"""The registry seam against the real Docker Distribution registry on loopback (round trips,
retag by digest, platforms, pagination), and against a small loopback fake for what the real one
cannot do without certificates (Bearer and Basic auth, refusals, corrupted or odd answers)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from astroctl.errors import InputError, OperationError
from astroctl.seams.credentials import Credentials
from astroctl.seams.http import Http, HttpSettings
from astroctl.seams.process import Runner
from astroctl.seams.registry import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    Reference,
    Registry,
    RegistryDenied,
    parse_challenges,
)
from tests.registry_server import RunningRegistry, registry_binary, registry_server

FAST = HttpSettings(timeout=5.0, connect_timeout=2.0, retries=0, max_retry_time=5.0)
USER, SECRET = "robot", "s3cret-never-shown"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with registry_server(tmp_path_factory.mktemp("registry")) as running:
        yield running


class CountingHttp(Http):
    """The real HTTP seam, remembering the URL of every request it sent."""

    def __init__(self, settings: HttpSettings) -> None:
        super().__init__(settings)
        self.sent: list[str] = []

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response = super().request(method, url, **options)
        self.sent.append(f"{method} {response.request.url}")
        return response


@pytest.fixture
def http() -> Iterator[CountingHttp]:
    client = CountingHttp(FAST)
    try:
        yield client
    finally:
        client.close()


def ref(registry: RunningRegistry, text: str) -> Reference:
    return Reference.parse(f"{registry.host}/{text}")


# -- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("127.0.0.1:5000/astro-runtime:9.2.0", "127.0.0.1:5000", "astro-runtime", "9.2.0", None),
        ("quay.io/a/b@sha256:" + "a" * 64, "quay.io", "a/b", None, "sha256:" + "a" * 64),
        ("localhost/x:1", "localhost", "x", "1", None),
        ("busybox", "registry-1.docker.io", "library/busybox", None, None),
        ("docker.io/busybox:1.36", "registry-1.docker.io", "library/busybox", "1.36", None),
        (
            "astronomer/astro-runtime:9",
            "registry-1.docker.io",
            "astronomer/astro-runtime",
            "9",
            None,
        ),
        ("index.docker.io/a/b:c", "registry-1.docker.io", "a/b", "c", None),
        (
            "r.example:443/a/b/c:t@sha256:" + "0" * 64,
            "r.example:443",
            "a/b/c",
            "t",
            "sha256:" + "0" * 64,
        ),
    ],
)
def test_references_parse_as_docker_reads_them(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    parsed = Reference.parse(text)
    assert parsed == Reference(registry, repository, tag, digest)
    assert Reference.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "a/UPPER", "a/b:", "a//b", "a/b@sha256:123", "a b"])
def test_a_bad_reference_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="is not valid"):
        Reference.parse(text)


def test_with_tag_and_with_digest() -> None:
    base = Reference.parse("quay.io/a/b@sha256:" + "a" * 64)
    assert str(base.with_tag("9.2")) == "quay.io/a/b:9.2"
    assert base.with_tag("9.2").target == "9.2"
    assert Reference.parse("busybox").target == "latest"
    assert str(Reference.parse("busybox")) == "docker.io/library/busybox"
    with pytest.raises(InputError):
        base.with_tag("-bad")
    with pytest.raises(InputError):
        base.with_digest("sha256:12")


def test_plain_http_only_for_loopback_and_insecure_hosts(http: Http) -> None:
    registry = Registry(http, insecure=["registry.lan:5000", "mirror.lan"])
    assert registry.base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert registry.base_url("localhost:5000") == "http://localhost:5000"
    assert registry.base_url("[::1]:5000") == "http://[::1]:5000"
    assert registry.base_url("registry.lan:5000") == "http://registry.lan:5000"
    assert registry.base_url("mirror.lan:8443") == "http://mirror.lan:8443"
    assert registry.base_url("registry.lan:5001") == "https://registry.lan:5001"
    assert registry.base_url("quay.io") == "https://quay.io"


def test_challenges_parse_with_quotes_and_commas() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="reg, one",scope="repository:a:pull"'
    )
    (challenge,) = parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert dict(challenge.params) == {
        "realm": "https://auth.example/token",
        "service": "reg, one",
        "scope": "repository:a:pull",
    }
    both = parse_challenges('Basic realm="x", Bearer realm="https://a/t"')
    assert [c.scheme for c in both] == ["basic", "bearer"]


# -- the real registry ----------------------------------------------------------------------------


def test_an_index_reads_back_with_its_platforms(real: RunningRegistry, http: Http) -> None:
    pushed = real.push_index("runtime-index", "9.2.0")
    manifest = Registry(http).manifest(ref(real, "runtime-index:9.2.0"))
    assert manifest is not None
    assert manifest.is_list
    assert manifest.media_type == OCI_INDEX
    assert manifest.digest == pushed.digest
    assert manifest.raw == pushed.raw
    assert dict(manifest.platforms) == pushed.platforms
    assert set(manifest.platforms) == {"linux/amd64", "linux/arm64/v8"}
    assert dict(manifest.labels) == {}  # a list has no config, so no labels


@pytest.mark.parametrize(("platform", "oci"), [("linux/amd64", False), ("linux/arm64/v8", True)])
def test_a_single_image_has_its_own_platform_from_its_config(
    real: RunningRegistry, http: Http, platform: str, oci: bool
) -> None:
    pushed = real.push_image(
        "runtime-single", f"one-{oci}", platform=platform, oci=oci, label="9.2.0"
    )
    manifest = Registry(http).manifest(ref(real, f"runtime-single:one-{oci}"))
    assert manifest is not None
    assert not manifest.is_list
    assert manifest.media_type == pushed.media_type
    assert dict(manifest.platforms) == {platform: pushed.digest}
    assert dict(manifest.labels) == {"test.label": "9.2.0"}  # from its config blob


def test_digest_by_head_and_a_manifest_by_digest(real: RunningRegistry, http: Http) -> None:
    pushed = real.push_index("runtime-digest", "9.1.0")
    registry = Registry(http)
    assert registry.digest(ref(real, "runtime-digest:9.1.0")) == pushed.digest
    by_digest = ref(real, f"runtime-digest@{pushed.digest}")
    assert registry.digest(by_digest) == pushed.digest
    manifest = registry.manifest(by_digest)
    assert manifest is not None
    assert manifest.digest == pushed.digest
    amd64 = registry.manifest(by_digest.with_digest(pushed.platforms["linux/amd64"]))
    assert amd64 is not None
    assert dict(amd64.platforms) == {"linux/amd64": pushed.platforms["linux/amd64"]}


def test_unknown_tags_digests_and_repositories_are_none(real: RunningRegistry, http: Http) -> None:
    real.push_image("runtime-known", "1")
    registry = Registry(http)
    assert registry.manifest(ref(real, "runtime-known:2")) is None
    assert registry.digest(ref(real, "runtime-known:2")) is None
    assert registry.manifest(ref(real, "runtime-known@sha256:" + "0" * 64)) is None
    assert registry.manifest(ref(real, "never-pushed:1")) is None
    assert registry.digest(ref(real, "never-pushed:1")) is None
    assert registry.tags(ref(real, "never-pushed")) == []


def test_retag_by_digest_puts_the_same_bytes_under_another_tag(
    real: RunningRegistry, http: Http
) -> None:
    real.push_index("runtime-promote", "9.3.0-rc.2")
    registry = Registry(http)
    candidate = registry.manifest(ref(real, "runtime-promote:9.3.0-rc.2"))
    assert candidate is not None
    final = candidate.reference.with_tag("9.3.0")
    assert registry.put_manifest(final, candidate.raw, candidate.media_type) == candidate.digest
    promoted = registry.manifest(final)
    assert promoted is not None
    assert (promoted.digest, promoted.raw) == (candidate.digest, candidate.raw)
    assert registry.digest(final) == candidate.digest
    assert sorted(registry.tags(final)) == ["9.3.0", "9.3.0-rc.2"]


def test_put_manifest_round_trips_and_moves_a_tag(real: RunningRegistry, http: Http) -> None:
    old = real.push_image("runtime-move", "9", label="old")
    new = real.push_image("runtime-move", None, label="new")
    registry = Registry(http)
    floating = ref(real, "runtime-move:9")
    assert registry.digest(floating) == old.digest
    assert registry.put_manifest(floating, new.raw, DOCKER_MANIFEST) == new.digest
    assert registry.digest(floating) == new.digest
    by_digest = ref(real, f"runtime-move@{new.digest}")
    assert registry.put_manifest(by_digest, new.raw, DOCKER_MANIFEST) == new.digest


def test_put_manifest_refuses_bad_input_before_sending(
    real: RunningRegistry, http: CountingHttp
) -> None:
    image = real.push_image("runtime-refuse", "1")
    registry = Registry(http)
    with pytest.raises(InputError, match="of type 'text/plain'"):
        registry.put_manifest(ref(real, "runtime-refuse:2"), image.raw, "text/plain")
    with pytest.raises(InputError, match="not valid JSON"):
        registry.put_manifest(ref(real, "runtime-refuse:2"), b"{nope", DOCKER_MANIFEST)
    wrong = ref(real, "runtime-refuse@sha256:" + "1" * 64)
    with pytest.raises(InputError, match="has the digest"):
        registry.put_manifest(wrong, image.raw, DOCKER_MANIFEST)
    assert http.sent == []


def test_a_registry_error_is_one_plain_line(real: RunningRegistry, http: Http) -> None:
    image = real.push_image("runtime-source", "1")
    other = ref(real, "runtime-elsewhere:1")  # its blobs are not in this repository
    with pytest.raises(OperationError) as caught:
        Registry(http).put_manifest(other, image.raw, DOCKER_MANIFEST)
    message = str(caught.value)
    assert message == (
        f"PUT manifest {other}: HTTP 400 Bad Request "
        "(MANIFEST_BLOB_UNKNOWN: blob unknown to registry)"
    )


def test_tags_of_the_real_registry(real: RunningRegistry, http: CountingHttp) -> None:
    """docker-registry 2.8 ignores ``n=`` on tags/list (one page, no Link): paging is asked
    for and all tags still come back; the Link pages are tested against the fake below."""
    tags = ["9.0.0", "9.1.0", "9.2.0", "9.2", "9", "latest", "9.2.0-base"]
    image = real.push_image("runtime-tags", tags[0])
    for tag in tags[1:]:
        real.push_manifest("runtime-tags", tag, image.raw, image.media_type)
    registry = Registry(http)
    repository = ref(real, "runtime-tags:ignored")
    assert sorted(registry.tags(repository)) == sorted(tags)
    paged = registry.tags(repository, page_size=2)
    assert sorted(paged) == sorted(tags)
    assert len(paged) == len(tags)
    with pytest.raises(ValueError, match="page_size"):
        registry.tags(repository, page_size=0)


# -- a loopback fake for auth and odd answers -----------------------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes


Answer = tuple[int, Mapping[str, str], bytes]


@dataclass
class Fake:
    """A loopback server: ``answer`` decides each response; ``seen`` records each request."""

    answer: Callable[[Seen], Answer]
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def authorizations(self) -> list[str | None]:
        return [request.headers.get("authorization") for request in self.seen]


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Seen], Answer]], Fake]]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(answer: Callable[[Seen], Answer]) -> Fake:
        fake = Fake(answer)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                fake.seen.append(request)
                status, headers, body = fake.answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = handle_one

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((server, thread))
        fake.server = server
        return fake

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "a" * 64,
                "size": 1,
                "platform": {"os": "linux", "architecture": "amd64"},
            },
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "b" * 64,
                "size": 1,
                "platform": {"os": "unknown", "architecture": "unknown"},
            },
        ],
    }
).encode()
INDEX_DIGEST = "sha256:" + hashlib.sha256(INDEX).hexdigest()


def manifest_answer(body: bytes = INDEX, **headers: str) -> Answer:
    sent = {"Content-Type": OCI_INDEX, "Docker-Content-Digest": INDEX_DIGEST}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return 200, sent, body


def credentials(**environ: str) -> Credentials:
    return Credentials(Runner(), environ=environ, config=Path("/nonexistent/config.json"))


def with_secret() -> Credentials:
    return credentials(ASTROCTL_REGISTRY_USERNAME=USER, ASTROCTL_REGISTRY_PASSWORD=SECRET)


Serve = Callable[[Callable[[Seen], Answer]], Fake]


def bearer_pair(serve: Serve, *, token_key: str = "token") -> tuple[Fake, Fake]:  # noqa: S107
    """A token service (tokens for robot only, per scope) and a registry that wants them."""

    def issue(request: Seen) -> Answer:
        if request.headers.get("authorization") != basic(USER, SECRET):
            return 401, {"Content-Type": "application/json"}, b'{"details":"bad login"}'
        scope = request.query["scope"][0]
        return 200, {"Content-Type": "application/json"}, json.dumps({token_key: scope}).encode()

    auth = serve(issue)

    def answer(request: Seen) -> Answer:
        wanted = "repository:app:pull,push" if request.method == "PUT" else "repository:app:pull"
        if request.headers.get("authorization") == f"Bearer {wanted}":
            if request.method == "PUT":
                return 201, {"Docker-Content-Digest": INDEX_DIGEST}, b""
            return manifest_answer()
        challenge = (
            f'Bearer realm="http://{auth.host}/token",service="fake-registry",scope="{wanted}"'
        )
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        return 401, {"WWW-Authenticate": challenge, "Content-Type": "application/json"}, body

    return auth, serve(answer)


@pytest.mark.parametrize("token_key", ["token", "access_token"])
def test_bearer_token_from_the_realm_cached_per_scope(
    serve: Serve, http: Http, token_key: str
) -> None:
    auth, fake = bearer_pair(serve, token_key=token_key)
    registry = Registry(http, with_secret())
    target = Reference.parse(f"{fake.host}/app:1")
    for _ in range(2):
        manifest = registry.manifest(target)
        assert manifest is not None
        assert dict(manifest.platforms) == {"linux/amd64": "sha256:" + "a" * 64}
    assert len(auth.seen) == 1  # the second read used the cached token
    (token_request,) = auth.seen
    assert token_request.query == {
        "scope": ["repository:app:pull"],
        "service": ["fake-registry"],
    }
    assert fake.authorizations() == [
        None,
        "Bearer repository:app:pull",
        "Bearer repository:app:pull",
    ]
    assert registry.put_manifest(target.with_tag("2"), INDEX, OCI_INDEX) == INDEX_DIGEST
    assert auth.seen[-1].query["scope"] == ["repository:app:pull,push"]
    assert fake.seen[-1].headers["authorization"] == "Bearer repository:app:pull,push"
    assert fake.seen[-1].body == INDEX
    # the basic credentials went to the realm only, never to the registry
    assert all(a is None or a.startswith("Bearer ") for a in fake.authorizations())
    assert all(a == basic(USER, SECRET) for a in auth.authorizations())


def test_bearer_with_refused_credentials_names_the_registry_not_the_secret(
    serve: Serve, http: Http
) -> None:
    _, fake = bearer_pair(serve)
    wrong = credentials(
        ASTROCTL_REGISTRY_USERNAME=USER,
        ASTROCTL_REGISTRY_PASSWORD="nope-secret",  # noqa: S106 - a wrong fake secret
    )
    with pytest.raises(RegistryDenied) as caught:
        Registry(http, wrong).manifest(Reference.parse(f"{fake.host}/app:1"))
    message = str(caught.value)
    assert message.startswith(f"{fake.host}: access denied to pull from app: ")
    assert "robot (secret hidden)" in message
    assert "refused" in message
    assert "nope-secret" not in message


def test_bearer_without_credentials_says_they_are_missing(serve: Serve, http: Http) -> None:
    auth, fake = bearer_pair(serve)
    with pytest.raises(RegistryDenied, match="no credentials were found") as caught:
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))
    assert fake.host in str(caught.value)
    assert auth.authorizations() == [None]  # asked anonymously, once


def test_an_expired_token_is_fetched_again_once(serve: Serve, http: Http) -> None:
    issued: list[str] = []

    def issue(request: Seen) -> Answer:
        issued.append(f"t{len(issued)}")
        return 200, {}, json.dumps({"token": issued[-1]}).encode()

    auth = serve(issue)

    def answer(request: Seen) -> Answer:
        current = f"Bearer {issued[-1]}" if issued else "no token yet"
        if request.headers.get("authorization") == current and len(fake.seen) != 3:
            return manifest_answer()
        return 401, {"WWW-Authenticate": f'Bearer realm="http://{auth.host}/t"'}, b""

    fake = serve(answer)
    registry = Registry(http)
    target = Reference.parse(f"{fake.host}/app:1")
    assert registry.manifest(target) is not None  # 401, token t0, 200
    assert registry.manifest(target) is not None  # t0 refused (expired), token t1, 200
    assert issued == ["t0", "t1"]
    assert fake.authorizations() == [None, "Bearer t0", "Bearer t0", "Bearer t1"]


def test_basic_auth_sends_the_credential_and_keeps_it(serve: Serve, http: Http) -> None:
    def answer(request: Seen) -> Answer:
        if request.headers.get("authorization") == basic(USER, SECRET):
            return manifest_answer()
        return 401, {"WWW-Authenticate": 'Basic realm="fake"'}, b""

    fake = serve(answer)
    registry = Registry(http, with_secret())
    target = Reference.parse(f"{fake.host}/app:1")
    assert registry.manifest(target) is not None
    assert registry.digest(target) == INDEX_DIGEST
    assert fake.authorizations() == [None, basic(USER, SECRET), basic(USER, SECRET)]


def test_a_401_that_persists_is_one_denial_without_the_secret(serve: Serve, http: Http) -> None:
    fake = serve(lambda request: (401, {"WWW-Authenticate": 'Basic realm="fake"'}, b""))
    registry = Registry(http, with_secret())
    with pytest.raises(RegistryDenied) as caught:
        registry.put_manifest(Reference.parse(f"{fake.host}/team/app:1"), INDEX, OCI_INDEX)
    message = str(caught.value)
    assert message == (
        f"{fake.host}: access denied to push to team/app: the credentials of robot (secret "
        "hidden) from $ASTROCTL_REGISTRY_USERNAME were refused"
    )
    assert SECRET not in message
    assert len(fake.seen) == 2  # asked, answered once, gave up


def test_a_403_is_a_denial_with_the_registrys_reason(serve: Serve, http: Http) -> None:
    body = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
    fake = serve(lambda request: (403, {"Content-Type": "application/json"}, body))
    with pytest.raises(RegistryDenied) as caught:
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))
    assert str(caught.value).endswith("(DENIED: requested access to the resource is denied)")


def test_a_plain_http_realm_gets_no_credentials(serve: Serve, http: Http) -> None:
    fake = serve(
        lambda request: (401, {"WWW-Authenticate": 'Bearer realm="http://auth.example/token"'}, b"")
    )
    with pytest.raises(OperationError, match="plain http; credentials are only sent over https"):
        Registry(http, with_secret()).manifest(Reference.parse(f"{fake.host}/app:1"))


def test_a_digest_mismatch_is_refused(serve: Serve, http: Http) -> None:
    wrong = "sha256:" + "c" * 64
    fake = serve(lambda request: manifest_answer(Docker_Content_Digest=wrong))
    registry = Registry(http)
    with pytest.raises(OperationError, match="changed or corrupted") as caught:
        registry.manifest(Reference.parse(f"{fake.host}/app:1"))
    assert wrong in str(caught.value)
    asked = Reference.parse(f"{fake.host}/app@{wrong}")
    fake.answer = lambda request: manifest_answer(Docker_Content_Digest=INDEX_DIGEST)
    with pytest.raises(OperationError, match=r"\(asked for\)"):
        registry.manifest(asked)


def test_a_put_whose_stored_digest_differs_is_refused(serve: Serve, http: Http) -> None:
    fake = serve(lambda request: (201, {"Docker-Content-Digest": "sha256:" + "d" * 64}, b""))
    with pytest.raises(OperationError, match="the registry stored sha256:dddd"):
        Registry(http).put_manifest(Reference.parse(f"{fake.host}/app:1"), INDEX, OCI_INDEX)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            (500, {"Content-Type": "text/html"}, b"<html><body>oops\n</body></html>"),
            "GET manifest {ref}: HTTP 500 Internal Server Error",
        ),
        (
            (400, {"Content-Type": "application/json"}, b'{"errors":[{"code":"X"}]} trailing'),
            "GET manifest {ref}: HTTP 400 Bad Request",
        ),
        (
            (
                400,
                {"Content-Type": "application/json"},
                b'{"errors":[{"code":"TAG_INVALID","message":"manifest tag did not\\nmatch"},'
                b'{"code":"NAME_INVALID","message":"invalid repository name"}]}',
            ),
            "GET manifest {ref}: HTTP 400 Bad Request (TAG_INVALID: manifest tag did not match; "
            "NAME_INVALID: invalid repository name)",
        ),
        (
            (200, {"Content-Type": OCI_INDEX}, b"{not json"),
            "the manifest of {ref} is not valid JSON",
        ),
        (
            (200, {"Content-Type": "text/html"}, b"{}"),
            "the manifest of {ref} is of type 'text/html', not an image manifest, manifest list "
            "or OCI index",
        ),
        (
            (200, {"Content-Type": "application/vnd.docker.distribution.manifest.v1+json"}, b"{}"),
            "the manifest of {ref} is of type 'application/vnd.docker.distribution.manifest.v1"
            "+json', not an image manifest, manifest list or OCI index",
        ),
    ],
)
def test_bad_answers_are_one_clear_error_naming_the_reference(
    serve: Serve, http: Http, answer: Answer, expected: str
) -> None:
    fake = serve(lambda request: answer)
    target = Reference.parse(f"{fake.host}/app:1")
    with pytest.raises(OperationError) as caught:
        Registry(http).manifest(target)
    assert str(caught.value) == expected.format(ref=target)


def test_a_generic_content_type_falls_back_to_the_media_type_field(
    serve: Serve, http: Http
) -> None:
    fake = serve(lambda request: manifest_answer(Content_Type="application/json"))
    manifest = Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))
    assert manifest is not None
    assert manifest.media_type == OCI_INDEX


def test_a_next_page_on_another_server_is_refused(serve: Serve, http: Http) -> None:
    link = '<http://elsewhere.example/v2/app/tags/list?last=a>; rel="next"'
    fake = serve(lambda request: (200, {"Link": link}, b'{"name":"app","tags":["a"]}'))
    with pytest.raises(OperationError, match="next page is on another server"):
        Registry(http).tags(Reference.parse(f"{fake.host}/app"))


def test_a_tag_list_that_loops_is_refused(serve: Serve, http: Http) -> None:
    link = '</v2/app/tags/list?n=1&last=a>; rel="next"'
    fake = serve(lambda request: (200, {"Link": link}, b'{"name":"app","tags":["a"]}'))
    with pytest.raises(OperationError, match="pages loop back"):
        Registry(http).tags(Reference.parse(f"{fake.host}/app"), page_size=1)
    assert len(fake.seen) == 2


def test_tags_follow_the_link_header_page_by_page(serve: Serve, http: CountingHttp) -> None:
    tags = [f"9.{minor}.0" for minor in range(7)]

    def page(request: Seen) -> Answer:
        size = int(request.query.get("n", ["100"])[0])
        last = request.query.get("last", [""])[0]
        start = tags.index(last) + 1 if last else 0
        chunk = tags[start : start + size]
        headers = {"Content-Type": "application/json"}
        if start + size < len(tags):
            headers["Link"] = f'</v2/team/app/tags/list?n={size}&last={chunk[-1]}>; rel="next"'
        return 200, headers, json.dumps({"name": "team/app", "tags": chunk}).encode()

    fake = serve(page)
    repository = Reference.parse(f"{fake.host}/team/app")
    assert Registry(http).tags(repository, page_size=2) == tags
    assert [request.query for request in fake.seen] == [
        {"n": ["2"]},
        {"n": ["2"], "last": ["9.1.0"]},
        {"n": ["2"], "last": ["9.3.0"]},
        {"n": ["2"], "last": ["9.5.0"]},
    ]
    fake.answer = lambda request: (200, {}, b'{"name": "team/app", "tags": null}')
    assert Registry(http).tags(repository) == []
    fake.answer = lambda request: (200, {}, b'{"name": "team/app", "tags": [1]}')
    with pytest.raises(OperationError, match="not a list of strings"):
        Registry(http).tags(repository)


def test_an_identity_token_is_traded_at_the_realm_by_a_refresh_grant(
    serve: Serve, http: Http, tmp_path: Path
) -> None:
    def issue(request: Seen) -> Answer:
        form = parse_qs(request.body.decode())
        if request.method != "POST" or form.get("refresh_token") != [SECRET]:
            return 401, {}, b""
        assert form["grant_type"] == ["refresh_token"]
        assert form["client_id"] == ["astroctl"]
        return 200, {}, json.dumps({"access_token": form["scope"][0]}).encode()

    auth = serve(issue)

    def answer(request: Seen) -> Answer:
        if request.headers.get("authorization") == "Bearer repository:app:pull":
            return manifest_answer()
        return 401, {"WWW-Authenticate": f'Bearer realm="http://{auth.host}/oauth"'}, b""

    fake = serve(answer)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {fake.host: {"identitytoken": SECRET}}}))
    registry = Registry(http, Credentials(Runner(), environ={}, config=config))
    assert registry.manifest(Reference.parse(f"{fake.host}/app:1")) is not None
    assert [request.method for request in auth.seen] == ["POST"]
    assert auth.authorizations() == [None]  # the token travels in the form, not as a password
    assert SECRET.encode() not in b"".join(request.body for request in fake.seen)


def test_a_head_without_a_digest_header_reads_the_manifest(serve: Serve, http: Http) -> None:
    fake = serve(lambda request: manifest_answer(Docker_Content_Digest=""))  # empty: absent
    assert Registry(http).digest(Reference.parse(f"{fake.host}/app:1")) == INDEX_DIGEST
    assert [request.method for request in fake.seen] == ["HEAD", "GET"]
    fake.answer = lambda request: (200, {"Docker-Content-Digest": "md5:nope"}, b"")
    with pytest.raises(OperationError, match="sent a bad digest 'md5:nope'"):
        Registry(http).digest(Reference.parse(f"{fake.host}/app:1"))


@pytest.mark.parametrize(
    ("challenge", "token_answer", "message"),
    [
        ('Negotiate realm="x"', b"", "asks for Negotiate authentication"),
        ("Bearer service=x", b"", "its token realm '' is not a URL"),
        ('Bearer realm="http://{auth}/t"', b'{"expires_in": 60}', "has no token"),
        ('Bearer realm="http://{auth}/t"', b"<html>", "is not valid JSON"),
    ],
)
def test_challenges_that_cannot_be_answered(
    serve: Serve, http: Http, challenge: str, token_answer: bytes, message: str
) -> None:
    auth = serve(lambda request: (200, {}, token_answer))
    header = challenge.format(auth=auth.host)
    fake = serve(lambda request: (401, {"WWW-Authenticate": header}, b""))
    with pytest.raises(OperationError, match=message) as caught:
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))
    assert str(caught.value).startswith(f"{fake.host}") or "token answer" in str(caught.value)


def test_manifest_json_is_the_raw_object(serve: Serve, http: Http) -> None:
    fake = serve(lambda request: manifest_answer())
    manifest = Registry(http).manifest(Reference.parse(f"{fake.host}/app@{INDEX_DIGEST}"))
    assert manifest is not None
    assert manifest.json()["mediaType"] == OCI_INDEX
    assert manifest.reference.digest == manifest.digest == INDEX_DIGEST


def image_manifest(config: object) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": config}).encode()


CONFIG = json.dumps({"os": "linux", "architecture": "arm", "variant": "v7"}).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
DOCKER_CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"


@pytest.mark.parametrize(
    ("manifest", "blob", "expected"),
    [
        ({"mediaType": DOCKER_CONFIG_TYPE, "digest": CONFIG_DIGEST}, CONFIG, "linux/arm/v7"),
        ({"mediaType": "application/vnd.example.sbom", "digest": CONFIG_DIGEST}, b"", None),
        ({"mediaType": DOCKER_CONFIG_TYPE, "digest": CONFIG_DIGEST}, b"{}", "does not match"),
        (None, b"", "has no config descriptor"),
        ({"mediaType": DOCKER_CONFIG_TYPE, "digest": "sha256:" + "e" * 64}, None, "HTTP 404"),
    ],
)
def test_the_platform_of_a_single_image_comes_from_its_verified_config(
    serve: Serve, http: Http, manifest: object, blob: bytes | None, expected: str | None
) -> None:
    raw = image_manifest(manifest)

    def answer(request: Seen) -> Answer:
        if "/blobs/" in request.path:
            return (404, {}, b"") if blob is None else (200, {}, blob)
        return 200, {"Content-Type": DOCKER_MANIFEST}, raw

    fake = serve(answer)
    target = Reference.parse(f"{fake.host}/app:1")
    if expected is None or "/" in expected:
        found = Registry(http).manifest(target)
        assert found is not None
        assert dict(found.platforms) == ({} if expected is None else {expected: found.digest})
    else:
        with pytest.raises(OperationError, match=expected):
            Registry(http).manifest(target)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({"mediaType": OCI_INDEX}, "has no manifests array"),
        ({"mediaType": OCI_INDEX, "manifests": [{"platform": {}}]}, "an entry without a digest"),
        ([], "is not a JSON object"),
    ],
)
def test_a_malformed_index_is_refused(
    serve: Serve, http: Http, index: object, message: str
) -> None:
    fake = serve(lambda request: (200, {"Content-Type": OCI_INDEX}, json.dumps(index).encode()))
    with pytest.raises(OperationError, match=message):
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))


def test_basic_without_credentials_and_a_failing_token_service(serve: Serve, http: Http) -> None:
    fake = serve(lambda request: (401, {"WWW-Authenticate": 'Basic realm="x"'}, b""))
    with pytest.raises(RegistryDenied, match="no credentials were found"):
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))
    auth = serve(lambda request: (502, {}, b"bad gateway"))
    fake.answer = lambda request: (
        401,
        {"WWW-Authenticate": f'Bearer realm="http://{auth.host}/t"'},
        b"",
    )
    with pytest.raises(OperationError, match=rf"GET token http://{auth.host}/t: HTTP 502"):
        Registry(http).manifest(Reference.parse(f"{fake.host}/app:1"))


def test_a_missing_registry_binary_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="docker-registry is not installed"):
        registry_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but docker-registry"):
        registry_binary()
