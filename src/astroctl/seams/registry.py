"""The registry seam: the Registry HTTP API v2 (Docker Distribution, OCI distribution) over httpx.

What ``publish`` and ``release promote`` need and nothing more: read a manifest (an image
manifest, a Docker manifest list or an OCI index) and the platforms it serves, its digest by
``HEAD``, put a manifest's exact bytes under another tag (a retag by digest, no rebuild), and list
a repository's tags across pages.

* **References** are Docker's grammar (:func:`astroctl.seams.docker.check_reference`); a name
  without a registry host is Docker Hub's (``registry-1.docker.io``, ``library/`` for a single
  component), as ``docker pull`` reads it.
* **Scheme**: https, except plain http for a loopback registry (``localhost``, ``127.0.0.0/8``,
  ``[::1]``) and the hosts in ``insecure``, as the Docker engine treats them.
* **Auth**: a 401 is answered once, from its ``WWW-Authenticate`` challenge: ``Bearer`` fetches a
  token from the realm (for ``repository:NAME:pull`` or ``:pull,push``; basic credentials, or an
  identity token's refresh grant, go to the realm only, never to the registry) and caches it per
  registry and scope; ``Basic`` sends the credential. A 401 or 403 that persists is one
  :class:`RegistryDenied` naming the registry and whether credentials were missing or refused.
  No secret is ever in a message.
* **Trust**: every manifest and config blob read is checked against its digest (the one asked
  for, and the registry's ``Docker-Content-Digest``); a mismatch is an OperationError.
* **Errors**: a registry's JSON error body (``{"errors": [{"code", "message"}]}``) becomes one
  plain line; a 404 of a manifest or a repository is ``None`` (or ``[]`` for tags).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from astroctl.errors import InputError, OperationError
from astroctl.seams.credentials import DOCKER_HUB_HOSTS, Credential, Credentials
from astroctl.seams.docker import check_reference
from astroctl.seams.http import Http, shown_url

if TYPE_CHECKING:
    import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LIST_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
MANIFEST_TYPES = LIST_TYPES | IMAGE_TYPES
ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, OCI_MANIFEST))
CONFIG_TYPES = frozenset(
    {"application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"}
)
DOCKER_HUB = "registry-1.docker.io"
DOCKER_HUB_SHOWN = "docker.io"
DEFAULT_TAG = "latest"
MAX_TAG_PAGES = 1000  # a tag listing that never ends is refused, not followed forever
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # an image config is a few kB; more is not a config
CLIENT_ID = "astroctl"

_DIGEST = re.compile(r"(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[a-fA-F0-9]{32,})")
_HASHES: Mapping[str, str] = MappingProxyType(
    {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
)
_LINK = re.compile(r'<(?P<url>[^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)
_CHALLENGE_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')
_SHOWN_DETAIL = 300


# -- references -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """An image reference split into the parts the API needs.

    ``registry`` is ``host[:port]`` (Docker Hub's is ``registry-1.docker.io``); ``tag`` and
    ``digest`` may both be None (then the tag is ``latest``, as Docker reads it).
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """``127.0.0.1:5000/astro-runtime:9.2.0``, ``quay.io/a/b@sha256:...``; InputError if bad."""
        check_reference(text)
        rest, _, digest = text.partition("@")
        name, tag = _split_tag(rest)
        first, slash, path = name.partition("/")
        if slash and (
            "." in first or ":" in first or first == "localhost" or first.lower() != first
        ):
            registry, repository = first, path
        else:
            registry, repository = DOCKER_HUB, name
        if registry.lower() in DOCKER_HUB_HOSTS:
            registry = DOCKER_HUB
            if "/" not in repository:
                repository = f"library/{repository}"
        return cls(registry, repository, tag, digest or None)

    @property
    def name(self) -> str:
        """``registry/repository`` as a user writes it (``docker.io/library/busybox``)."""
        shown = DOCKER_HUB_SHOWN if self.registry == DOCKER_HUB else self.registry
        return f"{shown}/{self.repository}"

    @property
    def target(self) -> str:
        """What the manifest URL names: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        """The same repository under ``tag`` (and no digest); InputError for a bad tag."""
        check_reference(f"{self.name}:{tag}")
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to ``digest`` (and no tag); InputError for a bad digest."""
        check_reference(f"{self.name}@{digest}")
        return replace(self, tag=None, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _split_tag(text: str) -> tuple[str, str | None]:
    slash, colon = text.rfind("/"), text.rfind(":")
    if colon > slash:
        return text[:colon], text[colon + 1 :]
    return text, None


# -- manifests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry holds it: its exact bytes, verified digest and platforms.

    ``platforms`` maps ``os/arch[/variant]`` (``linux/amd64``, ``linux/arm64/v8``) to the digest
    of that platform's image manifest: a list's entries (attestations, ``unknown/unknown``, left
    out), or a single image's own platform (from its config blob) mapped to its own digest.
    ``labels`` are a single image's labels (its config's ``config.Labels``); a list has none.
    """

    reference: Reference
    digest: str
    media_type: str
    raw: bytes
    platforms: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_list(self) -> bool:
        """A Docker manifest list or an OCI index (a multi-platform tag)."""
        return self.media_type in LIST_TYPES

    def json(self) -> Mapping[str, Any]:
        """The manifest's JSON object (already checked to be one)."""
        data: Mapping[str, Any] = json.loads(self.raw)
        return data


def digest_of(raw: bytes, algorithm: str = "sha256") -> str:
    """``algorithm:hex`` of ``raw`` (sha256, sha384 or sha512)."""
    name = _HASHES.get(algorithm)
    if name is None:
        raise OperationError(f"digest algorithm {algorithm!r} is not supported")
    return f"{algorithm}:{hashlib.new(name, raw).hexdigest()}"


def _matches(raw: bytes, digest: str) -> bool:
    match = _DIGEST.fullmatch(digest)
    if match is None:
        return False
    return digest_of(raw, match["algorithm"]) == f"{match['algorithm']}:{match['hex'].lower()}"


# -- errors ---------------------------------------------------------------------------------------


class RegistryDenied(OperationError):
    """The registry refused access after authentication was tried (exit 1)."""


def error_detail(response: httpx.Response) -> str:
    """The registry's error body as one plain line (``MANIFEST_UNKNOWN: manifest unknown``)."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
        parts.append(f"{code}: {message}" if code and message else code or message)
    line = " ".join("; ".join(dict.fromkeys(p for p in parts if p)).split())
    return line if len(line) <= _SHOWN_DETAIL else line[: _SHOWN_DETAIL - 1] + "…"


def _failure(method: str, ref: Reference | str, response: httpx.Response) -> OperationError:
    detail = error_detail(response)
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return OperationError(f"{method} {ref}: {status}" + (f" ({detail})" if detail else ""))


# -- authentication -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: its scheme (lowercase) and parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenges(header: str) -> list[Challenge]:
    """The challenges of a ``WWW-Authenticate`` value (``Bearer realm="...",service="..."``)."""
    found: list[Challenge] = []
    rest = header.strip()
    while rest:
        scheme, _, rest = rest.partition(" ")
        scheme = scheme.strip(", ")
        params: dict[str, str] = {}
        while True:
            match = _CHALLENGE_PARAM.match(rest)
            if match is None or not match.group(0).strip():
                break
            value = match[2]
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[match[1].lower()] = value
            rest = rest[match.end() :]
        if scheme:
            found.append(Challenge(scheme.lower(), MappingProxyType(params)))
        rest = rest.strip(", ")
    return found


def is_local(host: str) -> bool:
    """A loopback registry host (``localhost``, ``127.x.x.x``, ``[::1]``, with or without port)."""
    name = host
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _basic(credential: Credential) -> str:
    import base64

    pair = f"{credential.username}:{credential.secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


# -- the client -----------------------------------------------------------------------------------


class Registry:
    """A Registry API v2 client over the HTTP seam; one per run, shared by threads.

    ``insecure`` lists registry hosts (``host`` or ``host:port``) spoken to over plain http, as
    the Docker engine's ``insecure-registries``; loopback hosts always are.
    """

    def __init__(
        self, http: Http, credentials: Credentials | None = None, *, insecure: Iterable[str] = ()
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._insecure = frozenset(host.lower() for host in insecure)
        self._authorization: dict[tuple[str, str], str] = {}  # (registry, scope) -> header
        self._lock = threading.Lock()

    # -- the API ---------------------------------------------------------------------------------

    def manifest(self, ref: Reference) -> Manifest | None:
        """The manifest ``ref`` names, verified; None when it or its repository is unknown."""
        response = self._send("GET", ref, f"manifests/{ref.target}", accept=True)
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise _failure("GET manifest", ref, response)
        raw = response.content
        digest = self._verified(ref, raw, response.headers.get("Docker-Content-Digest") or None)
        data = _json_object(raw, f"the manifest of {ref}")
        media_type = _media_type(ref, response.headers.get("Content-Type"), data)
        labels: dict[str, str] = {}
        if media_type in LIST_TYPES:
            platforms = _list_platforms(ref, data)
        else:
            platforms, labels = self._image_platform(ref, data, digest)
        return Manifest(
            ref, digest, media_type, raw, MappingProxyType(platforms), MappingProxyType(labels)
        )

    def digest(self, ref: Reference) -> str | None:
        """The digest of the manifest ``ref`` names (``HEAD``); None when it is unknown."""
        response = self._send("HEAD", ref, f"manifests/{ref.target}", accept=True)
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise _failure("HEAD manifest", ref, response)
        digest: str | None = response.headers.get("Docker-Content-Digest") or None
        if digest is None:  # a registry that does not say: read and hash the manifest
            manifest = self.manifest(ref)
            return None if manifest is None else manifest.digest
        if not _DIGEST.fullmatch(digest):
            raise OperationError(f"HEAD manifest {ref}: the registry sent a bad digest {digest!r}")
        if ref.digest is not None and digest != ref.digest:
            raise OperationError(f"HEAD manifest {ref}: the registry answered for {digest}")
        return digest

    def put_manifest(self, ref: Reference, raw: bytes, media_type: str) -> str:
        """Store ``raw`` (exactly these bytes) under ``ref``'s tag; return its digest.

        Putting the raw bytes of one tag's manifest under another tag is a retag by digest:
        the new tag has the same digest, nothing is rebuilt or re-pushed. The blobs and
        manifests it refers to must be in the same repository already.
        """
        if media_type not in MANIFEST_TYPES:
            raise InputError(f"cannot put a manifest of type {media_type!r} at {ref}")
        _json_object(raw, f"the manifest to put at {ref}", error=InputError)
        digest = digest_of(raw)
        if ref.tag is None and ref.digest is not None and not _matches(raw, ref.digest):
            raise InputError(f"the manifest to put at {ref} has the digest {digest}")
        response = self._send(
            "PUT",
            ref,
            f"manifests/{ref.target}",
            push=True,
            headers={"Content-Type": media_type},
            content=raw,
        )
        if not response.is_success:
            raise _failure("PUT manifest", ref, response)
        stored = response.headers.get("Docker-Content-Digest") or None
        if stored is not None and not _matches(raw, stored):
            raise OperationError(
                f"PUT manifest {ref}: the registry stored {stored}, not the {digest} sent"
            )
        return digest

    def tags(self, repository: Reference, *, page_size: int | None = None) -> list[str]:
        """Every tag of ``repository`` (its tag and digest ignored), across ``Link`` pages.

        ``page_size`` asks for pages of that many tags (``n=``); [] when the repository is
        unknown.
        """
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be positive, not {page_size!r}")
        url: str | None = (
            f"{self.base_url(repository.registry)}/v2/{repository.repository}/tags/list"
        )
        params = None if page_size is None else {"n": str(page_size)}
        found: list[str] = []
        seen: set[str] = set()
        for _ in range(MAX_TAG_PAGES):
            if url is None:
                return found
            response = self._send("GET", repository, "", url=url, params=params)
            if response.status_code == 404 and not seen:
                return []
            if not response.is_success:
                raise _failure("GET tags", repository.name, response)
            seen.add(str(response.request.url))
            found.extend(_page_tags(repository, response.content))
            url, params = self._next_page(repository, response, seen), None
        raise OperationError(f"GET tags {repository.name}: more than {MAX_TAG_PAGES} pages")

    def base_url(self, registry: str) -> str:
        """``https://host[:port]``, or ``http://`` for a loopback or insecure registry."""
        return f"{'http' if self.plain_http(registry) else 'https'}://{registry}"

    def plain_http(self, registry: str) -> bool:
        host = registry.lower()
        bare = host.rpartition(":")[0] if host.count(":") == 1 else host
        return is_local(host) or host in self._insecure or bare in self._insecure

    # -- requests and auth -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        ref: Reference,
        path: str,
        *,
        url: str | None = None,
        accept: bool = False,
        push: bool = False,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One request for ``ref``'s repository, authenticated once on a 401 if it must be."""
        target = url or f"{self.base_url(ref.registry)}/v2/{ref.repository}/{path}"
        scope = f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"
        sent = dict(headers or {})
        if accept:
            sent["Accept"] = ACCEPT
        key = (ref.registry, scope)
        with self._lock:
            cached = self._authorization.get(key)
        if cached is not None:
            sent["Authorization"] = cached
        response = self._http.request(method, target, headers=sent, params=params, content=content)
        if response.status_code == 403:  # authenticated (or not) and still refused
            raise self._denied(ref, scope, response)
        if response.status_code != 401:
            return response
        challenge = response.headers.get("WWW-Authenticate", "")
        response.close()
        sent["Authorization"] = self._authorize(ref, scope, challenge)
        response = self._http.request(method, target, headers=sent, params=params, content=content)
        if response.status_code in (401, 403):
            raise self._denied(ref, scope, response)
        with self._lock:
            self._authorization[key] = sent["Authorization"]
        return response

    def _credential(self, registry: str) -> Credential | None:
        return None if self._credentials is None else self._credentials.lookup(registry)

    def _authorize(self, ref: Reference, scope: str, header: str) -> str:
        """The ``Authorization`` value that answers the challenge, or a RegistryDenied."""
        challenges = {c.scheme: c for c in reversed(parse_challenges(header))}
        credential = self._credential(ref.registry)
        if "bearer" in challenges:
            return "Bearer " + self._token(ref, scope, challenges["bearer"], credential)
        if "basic" in challenges:
            if credential is None or credential.identity_token:
                raise self._denied(ref, scope, None)
            return _basic(credential)
        shown = header.split(" ", 1)[0] or "an empty"
        raise OperationError(
            f"{ref.registry}: asks for {shown} authentication, which astroctl does not speak"
        )

    def _token(
        self, ref: Reference, scope: str, challenge: Challenge, credential: Credential | None
    ) -> str:
        realm = challenge.params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OperationError(f"{ref.registry}: its token realm {realm!r} is not a URL")
        if credential is not None and parts.scheme == "http" and not self.plain_http(parts.netloc):
            raise OperationError(
                f"{ref.registry}: its token realm {shown_url(realm)} is plain http; "
                "credentials are only sent over https"
            )
        query = {"scope": scope}
        service = challenge.params.get("service")
        if service:
            query["service"] = service
        if credential is not None and credential.identity_token:
            response = self._refresh_grant(realm, query, credential)
        else:
            headers = {} if credential is None else {"Authorization": _basic(credential)}
            response = self._http.request("GET", realm, headers=headers, params=query)
        if response.status_code in (401, 403):
            raise self._denied(ref, scope, response)
        if not response.is_success:
            raise _failure("GET token", shown_url(realm), response)
        return _token_of(ref, realm, response.content)

    def _refresh_grant(
        self, realm: str, query: Mapping[str, str], credential: Credential
    ) -> httpx.Response:
        from urllib.parse import urlencode

        form = {
            **query,
            "grant_type": "refresh_token",
            "refresh_token": credential.secret,
            "client_id": CLIENT_ID,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._http.request("POST", realm, headers=headers, content=urlencode(form).encode())

    def _denied(
        self, ref: Reference, scope: str, response: httpx.Response | None
    ) -> RegistryDenied:
        action = "push to" if scope.endswith(",push") else "pull from"
        credential = self._credential(ref.registry)
        if credential is None:
            why = (
                "no credentials were found for it (set $ASTROCTL_REGISTRY_USERNAME and "
                "$ASTROCTL_REGISTRY_PASSWORD, or docker login)"
            )
        else:
            why = f"the credentials of {credential} were refused"
        detail = "" if response is None else error_detail(response)
        detail = f" ({detail})" if detail else ""
        return RegistryDenied(
            f"{ref.registry}: access denied to {action} {ref.repository}: {why}{detail}"
        )

    # -- reading answers ---------------------------------------------------------------------------

    def _verified(self, ref: Reference, raw: bytes, header: str | None) -> str:
        """The digest of ``raw``, checked against the one asked for and the registry's."""
        for expected, who in ((ref.digest, "asked for"), (header, "the registry named")):
            if expected is not None and not _matches(raw, expected):
                raise OperationError(
                    f"GET manifest {ref}: the body's digest {digest_of(raw)} is not "
                    f"{expected} ({who}): the manifest was changed or corrupted on the way"
                )
        return ref.digest or header or digest_of(raw)

    def _image_platform(
        self, ref: Reference, data: Mapping[str, Any], digest: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The image's platform (mapped to its digest) and labels, from its config blob."""
        config = data.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise OperationError(f"the manifest of {ref} has no config descriptor")
        if config.get("mediaType") not in CONFIG_TYPES:
            return {}, {}  # an artifact, not an image: it has no platform
        blob = config["digest"]
        response = self._send("GET", ref, f"blobs/{blob}")
        if not response.is_success:
            raise _failure("GET config blob", f"{ref.name}@{blob}", response)
        raw = response.content
        if len(raw) > MAX_CONFIG_BYTES or not _matches(raw, blob):
            raise OperationError(
                f"GET config blob {ref.name}@{blob}: its content does not match its digest"
            )
        image = _json_object(raw, f"the image config of {ref}")
        platform = _platform(image)
        return ({} if platform is None else {platform: digest}), _labels(image)

    def _next_page(
        self, repository: Reference, response: httpx.Response, seen: set[str]
    ) -> str | None:
        match = _LINK.search(response.headers.get("Link", ""))
        if match is None:
            return None
        current = str(response.request.url)
        following = urljoin(current, str(match["url"]))
        if urlsplit(following)[:2] != urlsplit(current)[:2]:
            raise OperationError(
                f"GET tags {repository.name}: the next page is on another server "
                f"({shown_url(following)})"
            )
        if following in seen:
            raise OperationError(f"GET tags {repository.name}: the pages loop back")
        return following


def _json_object(
    raw: bytes, what: str, *, error: type[OperationError | InputError] = OperationError
) -> Mapping[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise error(f"{what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise error(f"{what} is not a JSON object")
    return data


def _media_type(ref: Reference, content_type: str | None, data: Mapping[str, Any]) -> str:
    """The manifest's media type: the Content-Type, or its ``mediaType`` under a generic one."""
    header = (content_type or "").partition(";")[0].strip().lower()
    if header in MANIFEST_TYPES:
        return header
    declared = data.get("mediaType")
    if header in ("", "application/json", "application/octet-stream") and (
        declared in MANIFEST_TYPES
    ):
        return str(declared)
    shown = header or "no content type"
    raise OperationError(
        f"the manifest of {ref} is of type {shown!r}, not an image manifest, "
        "manifest list or OCI index"
    )


def _platform(entry: Mapping[str, Any]) -> str | None:
    system, architecture = entry.get("os"), entry.get("architecture")
    if not isinstance(system, str) or not isinstance(architecture, str):
        return None
    if not system or not architecture or "unknown" in (system, architecture):
        return None
    variant = entry.get("variant")
    return "/".join(
        [system, architecture, *([variant] if isinstance(variant, str) and variant else [])]
    )


def _labels(image: Mapping[str, Any]) -> dict[str, str]:
    """An image config's labels (``config.Labels``), the string ones."""
    config = image.get("config")
    labels = config.get("Labels") if isinstance(config, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}


def _list_platforms(ref: Reference, data: Mapping[str, Any]) -> dict[str, str]:
    entries = data.get("manifests")
    if not isinstance(entries, list):
        raise OperationError(f"the manifest list of {ref} has no manifests array")
    platforms: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            raise OperationError(f"the manifest list of {ref} has an entry without a digest")
        described = entry.get("platform")
        platform = _platform(described) if isinstance(described, dict) else None
        if platform is not None:
            platforms.setdefault(platform, entry["digest"])
    return platforms


def _page_tags(repository: Reference, raw: bytes) -> list[str]:
    data = _json_object(raw, f"the tag list of {repository.name}")
    tags = data.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise OperationError(f"the tag list of {repository.name} is not a list of strings")
    return list(tags)


def _token_of(ref: Reference, realm: str, raw: bytes) -> str:
    data = _json_object(raw, f"the token answer of {shown_url(realm)} for {ref.registry}")
    token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise OperationError(f"{ref.registry}: the token answer of {shown_url(realm)} has no token")
    return token
