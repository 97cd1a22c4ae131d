"""The Docker seam: the docker CLI as typed calls over the process runner.

Every command is an argv list (never a shell) built by one ``*_argv`` method and run by one
:meth:`Docker.run`; a plan (``images/plan.py``) keeps the :class:`Invocation` it was given and
runs exactly that later, so the argv a ``--dry-run`` shows is the argv that runs. Every image
reference, platform, build argument and label is checked *while the argv is built*, before
anything runs: a reference outside the OCI/Docker reference grammar is an :class:`InputError`
naming it (:func:`reference_problem` says why).

Two build paths, both first-class (SPEC 6):

- the classic ``docker build --force-rm --platform linux/ARCH`` per architecture, with
  ``DOCKER_BUILDKIT=0`` (the legacy builder) or ``DOCKER_BUILDKIT=1`` (the engine's own BuildKit,
  which a client older than 23 drives without buildx; :meth:`Docker.supports_buildkit`), then
  ``docker push`` and ``docker manifest create/push`` for the multi-arch tags;
- ``docker buildx build`` (one platform, ``--load`` or ``--push``) and ``docker buildx bake``,
  when :meth:`Docker.has_buildx` finds the plugin.

A failed build is a :class:`DockerFailed` naming the image, the step that failed (``Step 5/9 :
RUN ...`` from the classic builder, ``[builder 2/3] RUN ...`` from BuildKit) and the tail of
docker's output; any other failed command names its image and the tail. Queries
(``version``, ``buildx version``, ``image inspect``) are read-only: they run in dry-run mode too,
where everything else is only recorded by the runner.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from astroctl.errors import InputError, OperationError
from astroctl.seams.process import (
    Environment,
    ProcessFailed,
    ProcessResult,
    ProcessRunner,
    tail_lines,
)

DOCKER = "docker"
BUILD_TIMEOUT = 3 * 3600.0  # seconds: an Airflow image under arm64 emulation takes long
PUSH_TIMEOUT = 3600.0
QUERY_TIMEOUT = 60.0
BUILDKIT_WITHOUT_BUILDX_BEFORE = 23  # from client 23 on, DOCKER_BUILDKIT=1 needs buildx

# -- the reference grammar (github.com/distribution/reference, which Docker uses) ---------------

_NAME_MAX = 255
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(
    r"(?P<algorithm>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):(?P<hex>.+)"
)
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_DIGEST_LENGTHS: Mapping[str, int] = MappingProxyType({"sha256": 64, "sha384": 96, "sha512": 128})
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")
_PLATFORM = re.compile(r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?")
_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHOWN = 80

# -- what docker prints about the step it is on ---------------------------------------------------

_CLASSIC_STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")
_CLASSIC_COMMAND = re.compile(r"^The command '(.*)' returned a non-zero code: (\d+)$")
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[([^\]]+)\] (.+)$")
_BUILDKIT_ERROR = re.compile(r"^#(\d+) ERROR[: ]")
_BUILDKIT_SUMMARY = re.compile(r"^ ?> \[([^\]]+)\] (.+?):?$")
_BUILDKIT_PROCESS = re.compile(r'process "(.*)" did not complete successfully')


def reference_problem(text: str) -> str | None:
    """Why ``text`` is not an image reference ``[host[:port]/]path[:tag][@digest]``, or None.

    The grammar is distribution/reference's, as Docker applies it: lowercase path components
    joined by ``.``, ``_``, ``__`` or runs of ``-``; a first component that has a ``.`` or a
    ``:``, is ``localhost`` or has an uppercase letter is a registry host; tags of at most 128
    word characters, ``.`` and ``-`` not first; digests ``algorithm:hex`` (64 hex for sha256);
    at most 255 characters of name; and not 64 hex digits alone (Docker reads that as an ID).
    """
    if not text:
        return "it is empty"
    if text != text.strip() or any(c.isspace() or not c.isprintable() for c in text):
        return "it contains whitespace or control characters"
    rest, at, digest = text.partition("@")
    if at:
        problem = _digest_problem(digest)
        if problem is not None:
            return problem
    name, tag = _split_tag(rest)
    if tag is not None and not _TAG.fullmatch(tag):
        return (
            f"tag {tag[:_SHOWN]!r} is not a valid tag (letters, digits, '_', '.' and '-', "
            "at most 128, not starting with '.' or '-')"
        )
    return _name_problem(name)


def _split_tag(text: str) -> tuple[str, str | None]:
    """``name`` and ``tag`` of ``name[:tag]``: a ':' after the last '/' starts the tag."""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        return text[:colon], text[colon + 1 :]
    return text, None


def _digest_problem(digest: str) -> str | None:
    match = _DIGEST.fullmatch(digest)
    if match is None or not _HEX.fullmatch(match["hex"]):
        return f"digest {digest[:_SHOWN]!r} is not algorithm:hex (sha256:<64 hex digits>)"
    wanted = _DIGEST_LENGTHS.get(match["algorithm"])
    if wanted is not None and len(match["hex"]) != wanted:
        return f"a {match['algorithm']} digest has {wanted} hex digits, not {len(match['hex'])}"
    return None


def _name_problem(name: str) -> str | None:
    if not name:
        return "it has no repository name"
    if len(name) > _NAME_MAX:
        return f"its name is {len(name)} characters long, more than {_NAME_MAX}"
    if _IMAGE_ID.fullmatch(name):
        return "64 hexadecimal digits name an image ID, not a repository"
    first, slash, rest = name.partition("/")
    path = name
    if slash and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        if not _HOST.fullmatch(first):
            return f"{first[:_SHOWN]!r} is not a registry host[:port]"
        path = rest
    for component in path.split("/"):
        if not component:
            return "it has an empty path component ('//', or a '/' at an end)"
        if not _PATH_COMPONENT.fullmatch(component):
            return (
                f"path component {component[:_SHOWN]!r} must be lowercase letters and digits "
                "joined by '.', '_', '__' or '-'"
            )
    return None


def check_reference(text: str, what: str = "image reference") -> str:
    """``text`` when it is a valid image reference; else an :class:`InputError` naming it."""
    problem = reference_problem(text)
    if problem is not None:
        raise InputError(f"{what} {_shown(text)} is not valid: {problem}")
    return text


def check_platform(text: str) -> str:
    """``text`` when it is ``os/arch[/variant]`` (``linux/arm64``); else an InputError."""
    if not _PLATFORM.fullmatch(text):
        raise InputError(f"platform {_shown(text)} is not os/arch[/variant] (linux/arm64)")
    return text


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


# -- invocations ----------------------------------------------------------------------------------


class Action(StrEnum):
    """What a docker command does (a failure is reported in these words)."""

    BUILD = "build"
    BUILDX_BUILD = "buildx build"
    BAKE = "buildx bake"
    PUSH = "push"
    TAG = "tag"
    MANIFEST_CREATE = "manifest create"
    MANIFEST_PUSH = "manifest push"

    @property
    def builds(self) -> bool:
        return self in (Action.BUILD, Action.BUILDX_BUILD, Action.BAKE)


@dataclass(frozen=True)
class Invocation:
    """One docker command, ready to run: its argv, the variables it adds to the environment,
    what it does and the image (or bake group) it is about."""

    action: Action
    argv: tuple[str, ...]
    subject: str  # the image reference it makes or pushes, or the bake group
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "subject": self.subject,
            "argv": list(self.argv),
            "env": dict(self.env),
        }


@dataclass(frozen=True)
class DockerVersion:
    """What ``docker version`` says: the client's version, and the engine's (None: no engine
    answered)."""

    client: str
    server: str | None
    client_api: str = ""

    @property
    def client_major(self) -> int | None:
        head = self.client.split(".", 1)[0]
        return int(head) if head.isdigit() else None


class DockerFailed(OperationError):
    """A docker command failed (exit 1): the image, the step when it was a build, the tail."""

    def __init__(
        self,
        invocation: Invocation,
        returncode: int,
        tail: Sequence[str],
        step: str | None = None,
    ) -> None:
        self.invocation = invocation
        self.returncode = returncode
        self.tail = tuple(tail)
        self.step = step
        action = invocation.action.value
        where = f" at {step}" if step else ""
        how = f"exit status {returncode}" if returncode >= 0 else f"signal {-returncode}"
        lines = [f"docker {action} of {invocation.subject} failed{where} ({how})"]
        if self.tail:
            lines.append("last lines of docker's output:")
            lines.extend(f"  {line}" for line in self.tail)
        else:
            lines.append("docker wrote no output")
        super().__init__("\n".join(lines))


def failed_step(lines: Iterable[str]) -> str | None:
    """The step a build failed at, read from docker's output (None when it does not say).

    The classic builder announces ``Step 5/9 : RUN ...`` before each step and ends a failed
    ``RUN`` with ``The command '/bin/sh -c ...' returned a non-zero code: 1``; BuildKit's plain
    progress numbers its vertices (``#8 [builder 2/3] RUN ...``, ``#8 ERROR: ...``) and repeats
    the failed one in its summary (`` > [builder 2/3] RUN ...:``).
    """
    reader = _StepReader()
    for line in lines:
        reader.feed(line.rstrip())
    return reader.step()


class _StepReader:
    """What a build's output said about its steps, line by line."""

    def __init__(self) -> None:
        self.classic: str | None = None
        self.command: str | None = None
        self.vertices: dict[str, str] = {}
        self.failed: str | None = None
        self.summary: str | None = None
        self.process: str | None = None

    def feed_raw(self, line: str) -> None:
        self.feed(line.rstrip())

    def feed(self, line: str) -> None:
        if match := _CLASSIC_STEP.match(line):
            self.classic = f"Step {match[1]} : {match[2]}"
        elif match := _CLASSIC_COMMAND.match(line):
            self.command = match[1]
        elif match := _BUILDKIT_STEP.match(line):
            self.vertices[match[1]] = f"[{match[2]}] {match[3]}"
        elif match := _BUILDKIT_ERROR.match(line):
            self.failed = self.vertices.get(match[1], self.failed)
        elif match := _BUILDKIT_SUMMARY.match(line):
            self.summary = f"[{match[1]}] {match[2]}"
        elif match := _BUILDKIT_PROCESS.search(line):
            self.process = match[1]

    def step(self) -> str | None:
        if self.classic is not None:
            return self.classic
        if self.failed is not None or self.summary is not None:
            return self.failed or self.summary
        shell = self.command if self.command is not None else self.process
        return f"RUN {_strip_shell(shell)}" if shell is not None else None


def _strip_shell(command: str) -> str:
    return command.removeprefix("/bin/sh -c ")


# -- the seam -------------------------------------------------------------------------------------


class Docker:
    """The docker commands astroctl runs.

    ``env`` is added to every command's environment (``DOCKER_HOST``, ``DOCKER_CONFIG``; a None
    value removes a variable). ``stream`` hands the output of builds and pushes to the runner's
    ``echo`` as it comes (a runner made without one must be used with ``stream=False``).
    """

    def __init__(
        self,
        runner: ProcessRunner,
        binary: str | os.PathLike[str] = DOCKER,
        *,
        env: Environment | None = None,
        stream: bool = True,
        build_timeout: float = BUILD_TIMEOUT,
        push_timeout: float = PUSH_TIMEOUT,
    ) -> None:
        self.runner = runner
        self.binary = os.fspath(binary)
        self.env: Environment = MappingProxyType(dict(env or {}))
        self.stream = stream
        self.build_timeout = build_timeout
        self.push_timeout = push_timeout

    # -- queries (read-only: they run in dry-run mode too) --------------------------------------

    def version(self) -> DockerVersion:
        """The client's version and the engine's (None when no engine answers)."""
        result = self._query("version", "--format", "{{json .}}")
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise self._query_failed(result, "docker version printed no JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("Client"), dict):
            raise self._query_failed(result, "docker version printed no client version")
        client = data["Client"]
        server = data.get("Server")
        return DockerVersion(
            client=str(client.get("Version", "")),
            server=str(server.get("Version", "")) if isinstance(server, dict) else None,
            client_api=str(client.get("ApiVersion", "")),
        )

    def has_buildx(self) -> bool:
        """Whether the buildx plugin is there (``docker buildx version`` answers)."""
        return self._query("buildx", "version").ok

    def supports_buildkit(self) -> bool:
        """Whether ``DOCKER_BUILDKIT=1 docker build`` works: with buildx, or with a client
        older than 23 (which drives the engine's BuildKit itself)."""
        if self.has_buildx():
            return True
        major = self.version().client_major
        return major is not None and major < BUILDKIT_WITHOUT_BUILDX_BEFORE

    def inspect(self, ref: str) -> Mapping[str, Any] | None:
        """``docker image inspect``'s record of a local image, or None when there is none."""
        check_reference(ref)
        result = self._query("image", "inspect", ref)
        if not result.ok:
            if "no such image" in (result.stderr + result.stdout).lower():
                return None
            raise self._query_failed(result, f"cannot inspect {ref}")
        try:
            records = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise self._query_failed(
                result, f"docker image inspect {ref} printed no JSON"
            ) from None
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            return None
        return MappingProxyType(records[0])

    def _query(self, *args: str) -> ProcessResult:
        return self.runner.run(
            [self.binary, *args],
            check=False,
            env=self.env or None,
            timeout=QUERY_TIMEOUT,
            read_only=True,
        )

    def _query_failed(self, result: ProcessResult, what: str) -> OperationError:
        tail = tail_lines(result.stderr) or tail_lines(result.stdout)
        return ProcessFailed(result.argv, result.returncode or 1, [what, *tail])

    # -- argv ---------------------------------------------------------------------------------

    def build_argv(
        self,
        context_dir: str | os.PathLike[str],
        *,
        tags: Sequence[str],
        platform: str,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        file: str | os.PathLike[str] | None = None,
        network: str | None = "host",
        buildkit: bool = False,
    ) -> Invocation:
        """The classic ``docker build --platform P``: one platform, loaded into the engine.

        ``--force-rm``: the legacy builder removes the intermediate container of a failed step
        too (by default it keeps it, stopped, after a failure); BuildKit, which a client older
        than 23 drives through this same command, accepts the flag and has no such containers.
        """
        argv = [self.binary, "build", "--force-rm"]
        argv += self._build_options(tags, build_args, labels, file)
        argv += ["--platform", check_platform(platform)]
        if network:
            argv += ["--network", network]
        argv.append(os.fspath(context_dir))
        env = MappingProxyType({"DOCKER_BUILDKIT": "1" if buildkit else "0"})
        return Invocation(Action.BUILD, tuple(argv), tags[0], env)

    def buildx_build_argv(
        self,
        context_dir: str | os.PathLike[str],
        *,
        tags: Sequence[str],
        platforms: Sequence[str],
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        file: str | os.PathLike[str] | None = None,
        network: str | None = "host",
        push: bool = False,
    ) -> Invocation:
        """``docker buildx build``: ``--push`` (any number of platforms, a manifest list for
        several) or ``--load`` (one platform: the engine's store holds no manifest list)."""
        if not platforms:
            raise InputError("a build needs at least one platform")
        if not push and len(platforms) > 1:
            raise InputError(
                f"{tags[0] if tags else 'an image'}: the docker image store cannot load an image "
                f"for several platforms ({', '.join(platforms)}); push it, or build one platform"
            )
        argv = [self.binary, "buildx", "build"]
        argv += self._build_options(tags, build_args, labels, file)
        argv += ["--platform", ",".join(check_platform(p) for p in platforms)]
        if network:
            argv += ["--network", network]
            if network == "host":
                argv += ["--allow", "network.host"]
        argv += ["--progress", "plain", "--push" if push else "--load", os.fspath(context_dir)]
        return Invocation(Action.BUILDX_BUILD, tuple(argv), tags[0])

    def bake_argv(
        self,
        bake_file: str | os.PathLike[str],
        targets: Sequence[str],
        *,
        push: bool = False,
        load: bool = False,
        allow: Sequence[str] = (),
    ) -> Invocation:
        """``docker buildx bake --file F TARGET...`` (``--push``, ``--load`` or neither: the
        results then stay in BuildKit's cache, proving the set builds)."""
        if push and load:
            raise InputError("a bake either pushes or loads, not both")
        for target in targets:
            if not re.fullmatch(r"[A-Za-z0-9_-]+", target):
                raise InputError(f"bake target {_shown(target)} is not [A-Za-z0-9_-]+")
        argv = [
            self.binary,
            "buildx",
            "bake",
            "--file",
            os.fspath(bake_file),
            "--progress",
            "plain",
        ]
        for entitlement in allow:
            argv += ["--allow", entitlement]
        if push:
            argv.append("--push")
        if load:
            argv.append("--load")
        argv += list(targets)
        return Invocation(Action.BAKE, tuple(argv), " ".join(targets))

    def push_argv(self, ref: str) -> Invocation:
        check_reference(ref)
        return Invocation(Action.PUSH, (self.binary, "push", ref), ref)

    def tag_argv(self, source: str, target: str) -> Invocation:
        check_reference(source)
        check_reference(target)
        return Invocation(Action.TAG, (self.binary, "tag", source, target), target)

    def manifest_create_argv(
        self, list_ref: str, refs: Sequence[str], *, insecure: bool = False
    ) -> Invocation:
        """``docker manifest create --amend LIST REF...`` (``--amend``: a list left over from
        an earlier run is updated, not refused; each REF replaces its own entry)."""
        check_reference(list_ref, "manifest list")
        if not refs:
            raise InputError(f"manifest list {list_ref}: no images to list")
        for ref in refs:
            check_reference(ref)
        argv = [self.binary, "manifest", "create", "--amend"]
        if insecure:
            argv.append("--insecure")
        argv += [list_ref, *refs]
        return Invocation(Action.MANIFEST_CREATE, tuple(argv), list_ref)

    def manifest_push_argv(self, list_ref: str, *, insecure: bool = False) -> Invocation:
        """``docker manifest push --purge LIST`` (``--purge``: the local copy goes once pushed)."""
        check_reference(list_ref, "manifest list")
        argv = [self.binary, "manifest", "push", "--purge"]
        if insecure:
            argv.append("--insecure")
        argv.append(list_ref)
        return Invocation(Action.MANIFEST_PUSH, tuple(argv), list_ref)

    def _build_options(
        self,
        tags: Sequence[str],
        build_args: Mapping[str, str] | None,
        labels: Mapping[str, str] | None,
        file: str | os.PathLike[str] | None,
    ) -> list[str]:
        if not tags:
            raise InputError("a build needs at least one tag")
        options: list[str] = []
        if file is not None:
            options += ["--file", os.fspath(file)]
        for tag in tags:
            options += ["--tag", check_reference(tag)]
        for name, value in sorted((build_args or {}).items()):
            options += ["--build-arg", f"{_checked_key(name, 'build argument')}={value}"]
        for name, value in sorted((labels or {}).items()):
            options += ["--label", f"{_checked_label(name)}={value}"]
        return options

    # -- running ------------------------------------------------------------------------------

    def run(self, invocation: Invocation) -> ProcessResult:
        """Run a planned invocation; a non-zero exit is a :class:`DockerFailed`."""
        if invocation.argv[0] != self.binary:
            raise ValueError(f"{invocation.argv[0]!r} is not this seam's docker ({self.binary!r})")
        long_running = invocation.action.builds
        timeout = self.build_timeout if long_running else self.push_timeout
        stream = self.stream and invocation.action is not Action.TAG
        # A streamed build's result keeps only the tail of its output, which a long failure
        # (pip's resolver, a traceback) fills: the steps are read from every line as it comes.
        reader = _StepReader() if stream and invocation.action.builds else None
        result = self.runner.run(
            invocation.argv,
            stream=stream,
            check=False,
            timeout=timeout,
            env=self._environment(invocation.env),
            observe=reader.feed_raw if reader is not None else None,
        )
        if result.returncode != 0:
            output = result.stdout + "\n" + result.stderr if not stream else result.stderr
            if reader is not None:
                step = reader.step()
            else:
                step = failed_step(output.splitlines()) if invocation.action.builds else None
            raise DockerFailed(invocation, result.returncode, tail_lines(output), step)
        return result

    def _environment(self, extra: Mapping[str, str]) -> Environment | None:
        if not self.env and not extra:
            return None
        merged: dict[str, str | None] = dict(self.env)
        merged.update(extra)
        return MappingProxyType(merged)


def _checked_key(name: str, what: str) -> str:
    if not _ARG_NAME.fullmatch(name):
        raise InputError(f"{what} {_shown(name)} is not a valid name ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def _checked_label(name: str) -> str:
    if not name or "=" in name or any(c.isspace() for c in name):
        raise InputError(f"label {_shown(name)} is not a valid label key")
    return name
