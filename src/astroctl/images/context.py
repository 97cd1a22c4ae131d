"""The build context of one image: its Dockerfile and every file the Dockerfile reads.

:func:`render_context` is pure (same inputs, same bytes: the only date, the ``created`` label,
comes from the caller's ``SOURCE_DATE_EPOCH``); :func:`write_context` writes one to a directory,
each file atomically. The Dockerfiles are templates shipped in the package
(``astroctl/images/templates``), filled in by name (``{{name}}``).

``base``: ``FROM`` the Python image (``python:<py>-slim-<codename>``, the codename read from
the line's OS, ``Debian 11.7 (bullseye)``; ``--base-image`` overrides it), ``builder/`` copied
in and ``builder/install.sh`` run: a virtual environment at :data:`VENV` with
``apache-airflow==X`` and the release's pins installed under the constraint set
(``--require-hashes`` when the set has hashes: see ``install.sh``); then the ``astro`` user
(uid 50000, group 0), ``AIRFLOW_HOME=/usr/local/airflow``, ``ASTRONOMER_RUNTIME_VERSION``, the
matrix's default environment (values only: never a formula, never an override such as
``AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL``), the constraint set under :data:`SHARE`, the
monitoring DAG and the labels of SPEC 6. In one of two forms (:func:`base_form`):

- two stages (``base.Dockerfile``) when the build has something to hide: a CA bundle
  (``--ca-bundle``) or a ``pip.conf`` (``--index-url``, private indexes, which may carry
  credentials), both in ``builder/``. A ``builder`` stage installs; the final stage, from the
  same Python image, copies the environment from it (``COPY --from=builder``) and never
  ``builder/``, so neither reaches a layer of the image. This works on the classic builder,
  which has no secret mounts (BuildKit's ``RUN --mount=type=secret`` would do it in one stage,
  but only there);
- one stage (``base-one-stage.Dockerfile``) otherwise: the install runs in the image itself, in
  one ``RUN`` that removes ``builder/`` again, with no copy of the environment between stages
  (~1 GB for a real Airflow venv, which the classic builder commits twice).

``onbuild`` (``onbuild.Dockerfile``): ``FROM`` the base image just built (``ARG BASE_IMAGE``,
which the classic build sets to the base image of its architecture and a bake file points at
its base target), with the ONBUILD steps: refuse an ``apache-airflow`` line in
``requirements.txt`` (:data:`CHECK_REQUIREMENTS`, POSIX sh), install ``packages.txt`` with apt
and ``requirements.txt`` with pip (Airflow held at the release's version), copy the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from astroctl import __version__
from astroctl.errors import InputError
from astroctl.images.tags import Variant, forms
from astroctl.matrix.model import EnvKind, EnvVar, Release
from astroctl.seams import docker, fs

AIRFLOW_HOME = "/usr/local/airflow"
VENV = "/opt/astronomer/venv"
SHARE = "/usr/local/share/astronomer"
PROJECT = f"{SHARE}/project"  # where ONBUILD copies packages.txt and requirements.txt
DOCKERFILE = "Dockerfile"
BUILDER_DIR = "builder"  # the install's inputs: the builder stage's, or removed by the install
MARKER = ".astroctl-context"  # a directory write_context may clean up
CA_BUNDLE_LIMIT = 16 * 1024 * 1024
DEFAULT_SOURCE = "https://github.com/astronomer/astro-runtime"

ARCH_PLACEHOLDER = "{arch}"  # in --base-image: filled in per architecture by the plan
BASE_NAME_LABEL = "org.opencontainers.image.base.name"
LABEL_PREFIX = "io.astronomer.docker"
CONSTRAINTS_LABEL = f"{LABEL_PREFIX}.constraints.sha256"
# Read by the image at run time, set (or not) by the deployment: never baked, whatever kind of
# entry the matrix makes of it (an older matrix gives the monitoring schedule as a value).
RUNTIME_OVERRIDES = frozenset({"AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"})

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_AIRFLOW_PIN = re.compile(
    r"^\s*apache[-_.]+airflow\s*==\s*([^\s;\\]+)", re.IGNORECASE | re.MULTILINE
)

# The ONBUILD checks and installs, each a POSIX sh script run as
# ``/bin/sh -c SCRIPT NAME ARG...`` (exec form: no quoting between Docker and sh).

# $1 requirements.txt, $2 the image's Airflow version: exit 1, naming the lines, when a
# requirement line names apache-airflow itself (any spelling, extras, specifier or URL; not
# apache-airflow-providers-*), comments ignored.
CHECK_REQUIREMENTS = r"""f=$1
[ -f "$f" ] || exit 0
found=$(sed -e 's/^[[:space:]]*#.*//' -e 's/[[:space:]]#.*//' "$f" \
  | grep -n -i -E '^[[:space:]]*apache[-_.]+airflow([^-_.a-z0-9]|$)' || true)
[ -z "$found" ] && exit 0
echo "requirements.txt must not name apache-airflow: this image already has Apache Airflow $2" \
  "(Astro Runtime ${ASTRONOMER_RUNTIME_VERSION:-}). Remove the line; to change Airflow, change" \
  "the Astro Runtime version your Dockerfile starts FROM." >&2
printf '%s\n' "$found" | sed -e 's/^\([0-9]*\):/  line \1: /' >&2
exit 1
"""

# $1 packages.txt: the Debian packages it lists (blanks or newlines between names, comments
# ignored; name, name:arch, name=version), installed with apt; any other word stops the build.
INSTALL_PACKAGES = r"""set -eu
f=$1
[ -f "$f" ] || exit 0
packages=$(sed -e 's/#.*//' "$f" | tr -s ' \t\r' '\n\n\n' | grep -v '^$' || true)
[ -n "$packages" ] || exit 0
bad=$(printf '%s\n' "$packages" \
  | grep -v -E '^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$' || true)
if [ -n "$bad" ]; then
  echo "packages.txt: not Debian package names:" $bad >&2
  exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages
rm -rf /var/lib/apt/lists/*
"""

# $1 requirements.txt, $2 the file pinning apache-airflow: pip installs the requirements with
# Airflow held at the image's version (nothing to do for a file of comments and blank lines).
INSTALL_REQUIREMENTS = r"""set -eu
[ -f "$1" ] || exit 0
grep -q -v -E '^[[:space:]]*(#|$)' "$1" || exit 0
python -m pip install --no-cache-dir -r "$1" -c "$2"
"""


@dataclass(frozen=True)
class BuildContext:
    """One image's build context: file path (relative, ``/``-separated) -> bytes, with the
    labels its Dockerfile sets and the build arguments it declares (their defaults)."""

    variant: Variant
    python: str
    files: Mapping[str, bytes]
    labels: Mapping[str, str]
    build_args: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def dockerfile(self) -> str:
        return self.files[DOCKERFILE].decode("utf-8")

    @property
    def digest(self) -> str:
        """A SHA-256 over every file (names and bytes): equal contexts, equal digests."""
        summed = hashlib.sha256()
        for name in sorted(self.files):
            data = self.files[name]
            summed.update(f"{name}\0{len(data)}\0".encode())
            summed.update(data)
        return summed.hexdigest()


def codename(release: Release) -> str:
    """The Debian codename of the release's OS (``bullseye`` for ``Debian 11.7 (bullseye)``)."""
    if release.codename is None:
        raise InputError(
            f"release {release.name}: cannot tell the Debian codename from os {release.os!r} "
            "(expected like 'Debian 11.7 (bullseye)'); pass --base-image"
        )
    return release.codename


def python_image(release: Release, python: str, base_image: str | None = None) -> str:
    """The image the base variant starts FROM: ``base_image`` (``{python}`` and ``{codename}``
    substituted) or ``python:<python>-slim-<codename>``; checked as an image reference.
    ``{arch}`` is the plan's to fill in (an image per architecture); left over, it is refused."""
    if base_image is None:
        image = f"python:{python}-slim-{codename(release)}"
    else:
        image = base_image.replace("{python}", python)
        if "{codename}" in image:
            image = image.replace("{codename}", codename(release))
        if ARCH_PLACEHOLDER in image:
            raise InputError(
                f"--base-image {base_image!r}: {ARCH_PLACEHOLDER} is filled in per architecture "
                "by the build plan, not here"
            )
    return docker.check_reference(image, "--base-image")


def created(source_date_epoch: int) -> str:
    """The ``created`` label: ``SOURCE_DATE_EPOCH`` as RFC 3339 UTC."""
    if source_date_epoch < 0:
        raise InputError(f"SOURCE_DATE_EPOCH {source_date_epoch} is before 1970")
    return datetime.fromtimestamp(source_date_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_context(
    release: Release,
    *,
    variant: Variant,
    python: str,
    base_image: str | None,
    constraints_text: str,
    constraints_sha256: str,
    repository: str,
    revision: str | None,
    source: str | None = DEFAULT_SOURCE,
    source_date_epoch: int,
    ca_bundle: Path | None = None,
    env: Mapping[str, EnvVar],
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
) -> BuildContext:
    """The build context of ``release``'s ``variant`` image for ``python``.

    ``base_image``: for ``base``, the Python image to start from (None: the default); for
    ``onbuild``, the base image it is built FROM (None: ``repository``'s base tag).
    ``constraints_text`` is the set installed (its SHA-256, ``constraints_sha256``, is checked
    and labelled). ``ca_bundle`` and the index URLs reach pip in the builder stage only; without
    either the base is rendered in one stage (:func:`base_form`).
    """
    if python not in release.python_versions:
        raise InputError(
            f"release {release.name} has no Python {python} distribution "
            f"(it has {', '.join(release.python_versions)})"
        )
    _check_constraints(release, python, constraints_text, constraints_sha256)
    docker.check_reference(repository, "repository")
    labels = _labels(
        release,
        variant=variant,
        python=python,
        revision=revision,
        source=source,
        epoch=source_date_epoch,
        sha256=constraints_sha256,
    )
    if variant is Variant.BASE:
        image = python_image(release, python, base_image)
        labels[BASE_NAME_LABEL] = image
        builder = _builder_files(release, constraints_text, ca_bundle, index_url, extra_index_urls)
        files = _base_files(release, image, constraints_text, labels, env, base_form(builder))
        files.update(builder)
        args = {"PYTHON_IMAGE": image}
    else:
        image = (
            base_image or f"{repository}:{forms(release.name, release, Variant.BASE, python)[0]}"
        )
        docker.check_reference(image, "base image")
        labels[BASE_NAME_LABEL] = image
        files = {DOCKERFILE: _onbuild_dockerfile(release, image, labels).encode("utf-8")}
        args = {"BASE_IMAGE": image}
    return BuildContext(
        variant=variant,
        python=python,
        files=MappingProxyType(dict(sorted(files.items()))),
        labels=MappingProxyType(dict(sorted(labels.items()))),
        build_args=MappingProxyType(args),
    )


def _check_constraints(release: Release, python: str, text: str, sha256: str) -> None:
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != sha256.lower().removeprefix("sha256:"):
        raise InputError(
            f"the constraint set for Python {python} has sha256 {actual}, not {sha256} as given"
        )
    pinned = _AIRFLOW_PIN.findall(text)
    if not pinned:
        raise InputError(
            f"the constraint set for Python {python} does not pin apache-airflow; "
            f"run: astroctl constraints resolve {release.name} --python {python}"
        )
    if any(version != release.airflow for version in pinned):
        raise InputError(
            f"the constraint set for Python {python} pins apache-airflow=={pinned[0]}, but "
            f"Astro Runtime {release.name} ships Apache Airflow {release.airflow}"
        )


def _labels(
    release: Release,
    *,
    variant: Variant,
    python: str,
    revision: str | None,
    source: str | None,
    epoch: int,
    sha256: str,
) -> dict[str, str]:
    labels = {
        "org.opencontainers.image.version": release.name,
        "org.opencontainers.image.title": title(release, variant, python),
        # ours, so that a base image's own description is not inherited as the runtime's
        "org.opencontainers.image.description": description(release, variant, python),
        "org.opencontainers.image.created": created(epoch),
        f"{LABEL_PREFIX}.runtime.version": release.name,
        f"{LABEL_PREFIX}.airflow.version": release.airflow,
        f"{LABEL_PREFIX}.python.version": python,
        f"{LABEL_PREFIX}.variant": variant.value,
        CONSTRAINTS_LABEL: sha256.lower().removeprefix("sha256:"),
    }
    if source:
        labels["org.opencontainers.image.source"] = source
    if revision:
        labels["org.opencontainers.image.revision"] = revision
    return labels


def title(release: Release, variant: Variant, python: str) -> str:
    return f"Astro Runtime {release.name} ({variant.value}, Python {python})"


def description(release: Release, variant: Variant, python: str) -> str:
    what = (
        "the base variant, with no build triggers"
        if variant is Variant.BASE
        else "for an Astro project's Dockerfile: its ONBUILD steps install packages.txt and "
        "requirements.txt and copy the project"
    )
    return f"Apache Airflow {release.airflow} on Python {python}, {what}"


# -- base ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseForm:
    """How the base Dockerfile installs: in a builder stage (``two_stage``) or in the image
    itself, and why (for its header comment: what there is to hide, or that there is none)."""

    two_stage: bool
    reason: str

    @property
    def template(self) -> str:
        return "base.Dockerfile" if self.two_stage else "base-one-stage.Dockerfile"


def base_form(builder_files: Mapping[str, object]) -> BaseForm:
    """Two stages when the install's inputs hold a CA bundle or a ``pip.conf`` (index URLs,
    which may carry credentials), which must reach no layer; else one stage."""
    hidden = [
        what
        for name, what in (("ca-bundle.crt", "a CA bundle"), ("pip.conf", "a pip.conf"))
        if f"{BUILDER_DIR}/{name}" in builder_files
    ]
    if hidden:
        return BaseForm(True, f"the build was given {' and '.join(hidden)} (builder/)")
    return BaseForm(False, "the build was given no CA bundle and no pip.conf (no index URL)")


def _base_files(
    release: Release,
    image: str,
    constraints_text: str,
    labels: Mapping[str, str],
    env: Mapping[str, EnvVar],
    form: BaseForm,
) -> dict[str, bytes]:
    dockerfile = _render(
        form.template,
        reason=form.reason,
        title=title(release, Variant.BASE, labels[f"{LABEL_PREFIX}.python.version"]),
        astroctl_version=__version__,
        airflow=release.airflow,
        venv=VENV,
        python_image=image,
        env=_instruction_items(_environment(release, env)),
        labels=_instruction_items(labels),
        share=SHARE,
        airflow_home=AIRFLOW_HOME,
    )
    return {
        DOCKERFILE: dockerfile.encode("utf-8"),
        "constraints.txt": constraints_text.encode("utf-8"),
        "airflow-pin.txt": f"apache-airflow=={release.airflow}\n".encode(),
        "astronomer_monitoring_dag.py": template("astronomer_monitoring_dag.py").encode("utf-8"),
    }


def _builder_files(
    release: Release,
    constraints_text: str,
    ca_bundle: Path | None,
    index_url: str | None,
    extra_index_urls: Sequence[str],
) -> dict[str, bytes]:
    requirements = {"apache-airflow": release.airflow}
    requirements.update(
        (_canonical(name), version) for name, version in sorted(release.packages.items())
    )
    files = {
        f"{BUILDER_DIR}/install.sh": template("install.sh").encode("utf-8"),
        f"{BUILDER_DIR}/lock_requirements.py": template("lock_requirements.py").encode("utf-8"),
        f"{BUILDER_DIR}/constraints.txt": constraints_text.encode("utf-8"),
        f"{BUILDER_DIR}/requirements.txt": "".join(
            f"{name}=={version}\n" for name, version in sorted(requirements.items())
        ).encode("utf-8"),
    }
    if ca_bundle is not None:
        files[f"{BUILDER_DIR}/ca-bundle.crt"] = read_ca_bundle(ca_bundle)
    config = pip_config(index_url, extra_index_urls)
    if config:
        files[f"{BUILDER_DIR}/pip.conf"] = config.encode("utf-8")
    return files


def read_ca_bundle(path: Path) -> bytes:
    """The PEM text of a CA bundle (``--ca-bundle``); an InputError for anything else."""
    try:
        text = fs.read_text(path, what="CA bundle", limit=CA_BUNDLE_LIMIT)
    except FileNotFoundError:
        raise InputError(f"--ca-bundle {path}: no such file") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InputError(f"--ca-bundle {path}: no PEM certificate in it (BEGIN CERTIFICATE)")
    return text.encode("utf-8")


def pip_config(index_url: str | None, extra_index_urls: Sequence[str]) -> str:
    """A ``pip.conf`` naming the indexes (empty when there is nothing to say)."""
    for url in (index_url, *extra_index_urls):
        if url is not None and (not url or any(c.isspace() for c in url)):
            raise InputError(f"index URL {url!r} is empty or contains whitespace")
    lines = []
    if index_url:
        lines.append(f"index-url = {index_url}")
    if extra_index_urls:
        lines.append("extra-index-url =")
        lines.extend(f"    {url}" for url in extra_index_urls)
    return "[global]\n" + "".join(f"{line}\n" for line in lines) if lines else ""


def _environment(release: Release, env: Mapping[str, EnvVar]) -> dict[str, str]:
    """The image's environment: ours, then the matrix's values (formulas and overrides, and
    :data:`RUNTIME_OVERRIDES` whatever their kind, are left to the deployment)."""
    ours = {
        "AIRFLOW_HOME": AIRFLOW_HOME,
        "ASTRONOMER_RUNTIME_VERSION": release.name,
        "PATH": f"{VENV}/bin:${{PATH}}",  # expanded by Docker: the Python image's PATH after
    }
    values: dict[str, str] = {}
    for name, variable in sorted(env.items()):
        if variable.kind is not EnvKind.VALUE or variable.value is None:
            continue
        if name in RUNTIME_OVERRIDES:
            continue
        if not _ENV_NAME.fullmatch(name):
            raise InputError(f"env {name!r}: not an environment variable name")
        if name in ours:
            raise InputError(f"env {name}: the image sets it itself ({ours[name]})")
        values[name] = variable.value
    return {**ours, **values}


def _instruction_items(items: Mapping[str, str]) -> str:
    """``KEY="value"`` pairs of an ENV or LABEL instruction, one per continued line.

    Values are double-quoted with ``\\``, ``"`` and ``$`` escaped (Docker substitutes
    variables in ENV and LABEL), except the ``${PATH}`` the image's PATH extends.
    """
    parts = [f'{key}="{_quoted(key, value)}"' for key, value in items.items()]
    return " \\\n    ".join(parts)


def _quoted(key: str, value: str) -> str:
    if any(c in value for c in "\n\r\0"):
        raise InputError(f"{key}: a value on more than one line cannot go into a Dockerfile")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    if key == "PATH":
        escaped = escaped.replace("\\${PATH}", "${PATH}")
    return escaped


# -- onbuild ------------------------------------------------------------------------------------


def _onbuild_dockerfile(release: Release, base: str, labels: Mapping[str, str]) -> str:
    python = labels[f"{LABEL_PREFIX}.python.version"]
    return _render(
        "onbuild.Dockerfile",
        title=title(release, Variant.ONBUILD, python),
        astroctl_version=__version__,
        airflow=release.airflow,
        airflow_home=AIRFLOW_HOME,
        base_image=base,
        labels=_instruction_items(labels),
        project=PROJECT,
        check_requirements=exec_form(
            CHECK_REQUIREMENTS, "check-requirements", f"{PROJECT}/requirements.txt", release.airflow
        ),
        install_packages=exec_form(INSTALL_PACKAGES, "install-packages", f"{PROJECT}/packages.txt"),
        install_requirements=exec_form(
            INSTALL_REQUIREMENTS,
            "install-requirements",
            f"{PROJECT}/requirements.txt",
            f"{SHARE}/airflow-pin.txt",
        ),
    )


def exec_form(script: str, name: str, *args: str) -> str:
    """``["/bin/sh", "-c", SCRIPT, NAME, ARG...]``: a RUN in exec form (JSON), so the script
    reaches sh exactly as written; ``NAME`` is its ``$0``."""
    return json.dumps(["/bin/sh", "-c", script, name, *args])


# -- templates ----------------------------------------------------------------------------------


@cache
def template(name: str) -> str:
    """A template shipped in ``astroctl/images/templates``."""
    return (resources.files("astroctl.images") / "templates" / name).read_text(encoding="utf-8")


def _render(name: str, **values: str) -> str:
    text = template(name)
    wanted = set(_PLACEHOLDER.findall(text))
    missing = wanted - values.keys()
    unused = values.keys() - wanted
    if missing or unused:
        raise ValueError(f"template {name}: missing {sorted(missing)}, unused {sorted(unused)}")
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- writing ------------------------------------------------------------------------------------


def write_context(context: BuildContext, directory: Path) -> Path:
    """Write ``context`` into ``directory`` (made if missing), each file atomically, and remove
    what an earlier context left there (a CA bundle a build no longer uses, say).

    A directory that holds other files and was not written by this function is refused
    (:class:`InputError`): nothing is deleted that astroctl did not write.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stale = _stale_files(directory, context)
    if stale and not (directory / MARKER).is_file():
        raise InputError(
            f"{directory}: not empty and not an astroctl build context; choose another directory"
        )
    fs.write_text(directory / MARKER, f"astroctl {__version__} build context {context.digest}\n")
    for name, data in context.files.items():
        path = directory.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fs.write_text(path, data.decode("utf-8"))
    for path in stale:
        path.unlink()
    return directory


def _stale_files(directory: Path, context: BuildContext) -> list[Path]:
    wanted = {directory.joinpath(*name.split("/")) for name in context.files}
    wanted.add(directory / MARKER)
    stale = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = Path(root) / name
            if path not in wanted:
                stale.append(path)
    return sorted(stale)
