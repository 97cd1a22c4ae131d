"""Schema 1 of the matrix file: TOML document <-> :class:`~astroctl.matrix.model.Matrix`.

:func:`build_matrix` checks every invariant of SPEC section 2 and reports all violations at once,
each named by release (or line, package, variable) and key. :func:`to_document` is its inverse:
``build_matrix(to_document(m)) == m`` for every valid matrix.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from astroctl import versions
from astroctl.errors import MatrixInvalid, Violation
from astroctl.matrix.formulas import FormulaError, parse_formula
from astroctl.matrix.model import (
    ARCHITECTURES,
    CHANNELS,
    DEFAULT_PACKAGE_POLICY,
    SCHEMA_VERSION,
    ChangeKind,
    Channel,
    EnvVar,
    ImageSettings,
    Level,
    Line,
    Matrix,
    PackageFacts,
    Policy,
    Release,
    Upstream,
)

TOP_KEYS = ("schema", "image", "upstream", "packages", "env", "lines", "releases", "policy")
IMAGE_KEYS = ("repository", "floating_tags")
UPSTREAM_KEYS = ("constraints_url", "index_url")
PACKAGE_KEYS = ("maintained", "runtime_only", "index", "changelog")
ENV_KINDS = ("value", "formula", "default")
ENV_KEYS = (*ENV_KINDS, "description")
LINE_KEYS = ("channel", "end_of_maintenance", "python", "python_versions", "os", "architectures")
OVERRIDABLE_KEYS = ("python", "python_versions", "os", "architectures")
RELEASE_KEYS = (
    "version",
    "airflow",
    "released",
    "yanked",
    *OVERRIDABLE_KEYS,
    "packages",
    "flavors",
)
FLAVOR_KEYS = ("packages",)
POLICY_KEYS = ("default", "packages")
URL_PLACEHOLDERS = ("{airflow}", "{python}")

_MISSING: Any = object()


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, datetime):
        return "a date-time"
    for kind, name in (
        (str, "a string"),
        (int, "an integer"),
        (float, "a float"),
        (dict, "a table"),
        (list, "an array"),
        (date, "a date"),
        (time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


class _Checker:
    """Collects violations while reading a document; never stops at the first one."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, where: str, key: str, message: str) -> None:
        self.violations.append(Violation(where, key, message))

    def keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
            self.add(where, key, f"unknown key{hint}")

    def typed(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        check: Callable[[Any], bool],
        expected: str,
        *,
        required: bool = False,
    ) -> Any:
        """The value of ``key`` when it passes ``check``; ``_MISSING`` otherwise."""
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.add(where, key, f"missing; expected {expected}")
            return _MISSING
        if not check(value):
            self.add(where, key, f"expected {expected}, got {_toml_type(value)} {value!r}")
            return _MISSING
        return value

    def table(self, parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = self.typed(parent, key, where, _is_table, "a table")
        return {} if value is _MISSING else value

    def string(
        self, table: Mapping[str, Any], key: str, where: str, *, required: bool = False
    ) -> Any:
        value = self.typed(table, key, where, _is_str, "a string", required=required)
        if isinstance(value, str) and not value.strip():
            self.add(where, key, "must not be empty")
            return _MISSING
        return value

    def boolean(self, table: Mapping[str, Any], key: str, where: str) -> Any:
        return self.typed(table, key, where, _is_bool, "true or false")

    def day(self, table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> Any:
        return self.typed(
            table,
            key,
            where,
            _is_date,
            "a TOML date such as 2024-01-31 (unquoted)",
            required=required,
        )

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> Any:
        value = self.typed(table, key, where, _is_str_list, "an array of strings")
        if value is not _MISSING:
            duplicates = sorted({item for item in value if value.count(item) > 1})
            if duplicates:
                self.add(where, key, f"lists {duplicates[0]!r} twice")
                return _MISSING
        return value


def _is_table(value: object) -> bool:
    return isinstance(value, dict)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://", "file://"))


# --------------------------------------------------------------------------------------------
# document -> Matrix


def build_matrix(document: Mapping[str, Any], source: str, header: str = "") -> Matrix:
    """Validate a parsed TOML document and build the matrix, or raise :class:`MatrixInvalid`."""
    check = _Checker()
    check.keys(document, TOP_KEYS, "top level")
    schema = document.get("schema", _MISSING)
    if schema is _MISSING:
        check.add("top level", "schema", f"missing; add 'schema = {SCHEMA_VERSION}'")
    elif type(schema) is not int or schema != SCHEMA_VERSION:  # not True, 1.0 or "1"
        check.add(
            "top level", "schema", f"{schema!r} is not supported; this astroctl reads schema 1"
        )
    image = _image(check, check.table(document, "image", "top level"))
    upstream = _upstream(check, check.table(document, "upstream", "top level"))
    packages = _package_facts(check, check.table(document, "packages", "top level"))
    env = _env(check, check.table(document, "env", "top level"))
    policy = _policy(check, check.table(document, "policy", "top level"))
    lines, declared = _lines(check, check.table(document, "lines", "top level"))
    raw_releases = check.typed(
        document, "releases", "top level", _is_table_list, "an array of tables ([[releases]])"
    )
    releases = _releases(check, [] if raw_releases is _MISSING else raw_releases, lines, declared)
    if check.violations:
        raise MatrixInvalid(source, check.violations)
    return Matrix(
        lines=lines,
        releases=tuple(sorted(releases, key=lambda r: r.version)),
        image=image,
        upstream=upstream,
        packages=packages,
        env=env,
        policy=policy,
        header=header,
    )


def _is_table_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _image(check: _Checker, table: Mapping[str, Any]) -> ImageSettings:
    check.keys(table, IMAGE_KEYS, "image")
    defaults = ImageSettings()
    repository = check.string(table, "repository", "image")
    floating = check.boolean(table, "floating_tags", "image")
    return ImageSettings(
        repository=defaults.repository if repository is _MISSING else repository,
        floating_tags=defaults.floating_tags if floating is _MISSING else floating,
    )


def _upstream(check: _Checker, table: Mapping[str, Any]) -> Upstream:
    check.keys(table, UPSTREAM_KEYS, "upstream")
    defaults = Upstream()
    values: dict[str, str] = {}
    for key in UPSTREAM_KEYS:
        value = check.string(table, key, "upstream")
        if value is _MISSING:
            continue
        if not _is_url(value):
            check.add("upstream", key, f"{value!r} is not an http(s) or file URL")
            continue
        values[key] = value
    url = values.get("constraints_url", defaults.constraints_url)
    for placeholder in URL_PLACEHOLDERS:
        if placeholder not in url:
            check.add("upstream", "constraints_url", f"must contain {placeholder}")
    return Upstream(constraints_url=url, index_url=values.get("index_url", defaults.index_url))


def _package_facts(check: _Checker, table: Mapping[str, Any]) -> dict[str, PackageFacts]:
    facts: dict[str, PackageFacts] = {}
    for name, entry in table.items():
        where = f"packages.{name}"
        if not versions.is_normalized_name(name):
            check.add(where, "", _name_problem(name))
            continue
        if not isinstance(entry, dict):
            check.add(where, "", f"expected a table, got {_toml_type(entry)}")
            continue
        check.keys(entry, PACKAGE_KEYS, where)
        maintained = check.boolean(entry, "maintained", where)
        runtime_only = check.boolean(entry, "runtime_only", where)
        urls: dict[str, str | None] = {}
        for key in ("index", "changelog"):
            value = check.string(entry, key, where)
            if value is not _MISSING and not _is_url(value):
                check.add(where, key, f"{value!r} is not an http(s) or file URL")
                value = _MISSING
            urls[key] = None if value is _MISSING else value
        facts[name] = PackageFacts(
            name=name,
            maintained=maintained is True,
            runtime_only=runtime_only is True,
            index=urls["index"],
            changelog=urls["changelog"],
        )
    return facts


def _env(check: _Checker, table: Mapping[str, Any]) -> dict[str, EnvVar]:
    env: dict[str, EnvVar] = {}
    for name, entry in table.items():
        where = f"env.{name}"
        if not name or not (name[0].isalpha() or name[0] == "_") or not _is_env_name(name):
            check.add(where, "", "not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
            continue
        if not isinstance(entry, dict):
            check.add(where, "", f"expected a table, got {_toml_type(entry)}")
            continue
        check.keys(entry, ENV_KEYS, where)
        value = check.string(entry, "value", where)
        formula = check.string(entry, "formula", where)
        default = check.string(entry, "default", where)
        description = check.typed(entry, "description", where, _is_str, "a string")
        given = [key for key in ENV_KINDS if key in entry]
        if len(given) != 1:
            if given:
                check.add(where, "", f"has {' and '.join(map(repr, given))}; keep one")
            else:
                check.add(
                    where,
                    "",
                    "needs exactly one of 'value' (baked into the image), 'formula' (computed "
                    "per deployment) or 'default' (an override the user may set)",
                )
            continue
        if all(v is _MISSING for v in (value, formula, default)):
            continue  # the one given was of the wrong type: already reported
        if formula is not _MISSING:
            try:
                parse_formula(formula)
            except FormulaError as exc:
                check.add(where, "formula", str(exc))
                continue
        env[name] = EnvVar(
            name=name,
            value=None if value is _MISSING else value,
            formula=None if formula is _MISSING else formula,
            default=None if default is _MISSING else default,
            description="" if description is _MISSING else description,
        )
    return env


def _is_env_name(name: str) -> bool:
    return all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name)


def _policy(check: _Checker, table: Mapping[str, Any]) -> Policy:
    check.keys(table, POLICY_KEYS, "policy")
    default = dict(DEFAULT_PACKAGE_POLICY)
    default.update(_levels(check, check.table(table, "default", "policy"), "policy.default"))
    per_package: dict[str, Mapping[ChangeKind, Level]] = {}
    for name, entry in check.table(table, "packages", "policy").items():
        where = f"policy.packages.{name}"
        if not versions.is_normalized_name(name):
            check.add(where, "", _name_problem(name))
            continue
        if not isinstance(entry, dict):
            check.add(where, "", f"expected a table, got {_toml_type(entry)}")
            continue
        per_package[name] = _levels(check, entry, where)
    return Policy(default=default, packages=per_package)


def _levels(check: _Checker, table: Mapping[str, Any], where: str) -> dict[ChangeKind, Level]:
    check.keys(table, [str(kind) for kind in DEFAULT_PACKAGE_POLICY], where)
    levels: dict[ChangeKind, Level] = {}
    names = tuple(level.value for level in Level)
    for change in DEFAULT_PACKAGE_POLICY:
        value = check.typed(
            table, change, where, lambda v: v in names, "one of " + ", ".join(names)
        )
        if value is not _MISSING:
            levels[change] = Level(value)
    return levels


def _lines(check: _Checker, table: Mapping[str, Any]) -> tuple[dict[int, Line], set[int]]:
    lines: dict[int, Line] = {}
    declared: set[int] = set()
    for key, entry in table.items():
        where = f"line {key}"
        if not key.isdigit() or (key != "0" and key.startswith("0")):
            check.add(where, "", "a line is named by its major version, e.g. [lines.9]")
            continue
        major = int(key)
        declared.add(major)
        if not isinstance(entry, dict):
            check.add(where, "", f"expected a table, got {_toml_type(entry)}")
            continue
        check.keys(entry, LINE_KEYS, where)
        before = len(check.violations)
        channel = check.typed(
            entry,
            "channel",
            where,
            lambda v: v in CHANNELS,
            " or ".join(map(repr, CHANNELS)),
            required=True,
        )
        eom = check.day(entry, "end_of_maintenance", where, required=True)
        os_name = check.string(entry, "os", where, required=True)
        platform = _platform(check, entry, where, required=True)
        if len(check.violations) == before:
            lines[major] = Line(
                major=major,
                channel=Channel(channel),
                end_of_maintenance=eom,
                os=os_name,
                **platform,
            )
    return lines, declared


def _platform(
    check: _Checker,
    table: Mapping[str, Any],
    where: str,
    *,
    required: bool,
    base: Line | None = None,
) -> dict[str, Any]:
    """python, python_versions and architectures of a line, or a release's overrides of them."""
    fields: dict[str, Any] = {}
    if base is not None:
        fields = {
            "python": base.python,
            "python_versions": base.python_versions,
            "architectures": base.architectures,
        }
    fields.update(_pythons(check, table, where, required=required))
    architectures = _architectures(check, table, where, required=required)
    if architectures is not None:
        fields["architectures"] = architectures
    given = [key for key in ("python", "python_versions") if key in table]
    python, known = fields.get("python"), fields.get("python_versions")
    if given and python is not None and known is not None and python not in known:
        check.add(
            where,
            given[0],
            f"default Python {python} is not among python_versions ({', '.join(known)})",
        )
    return fields


def _pythons(
    check: _Checker, table: Mapping[str, Any], where: str, *, required: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    python = check.string(table, "python", where, required=required)
    if python is not _MISSING:
        if versions.is_python_version(python):
            fields["python"] = python
        else:
            check.add(where, "python", f"{python!r} is not a Python version such as '3.11'")
    listed = check.strings(table, "python_versions", where)
    if listed is _MISSING:
        if required and "python_versions" not in table and "python" in fields:
            fields["python_versions"] = (fields["python"],)
        return fields
    bad = [p for p in listed if not versions.is_python_version(p)]
    if bad:
        check.add(where, "python_versions", f"{bad[0]!r} is not a Python version such as '3.11'")
    else:
        fields["python_versions"] = tuple(sorted(listed, key=versions.python_key))
    return fields


def _architectures(
    check: _Checker, table: Mapping[str, Any], where: str, *, required: bool
) -> tuple[str, ...] | None:
    listed = check.strings(table, "architectures", where)
    if listed is _MISSING:
        if required and "architectures" not in table:
            check.add(
                where, "architectures", "missing; expected an array such as ['amd64', 'arm64']"
            )
        return None
    unknown = [a for a in listed if a not in ARCHITECTURES]
    if unknown or not listed:
        problem = f"unknown architecture {unknown[0]!r}" if unknown else "must not be empty"
        check.add(where, "architectures", f"{problem} (supported: amd64, arm64)")
        return None
    return tuple(a for a in ARCHITECTURES if a in listed)


def _name_problem(name: str) -> str:
    normalized = versions.normalize_name(name)
    if normalized != name and versions.is_normalized_name(normalized):
        return f"not a normalized distribution name; write {normalized!r}"
    return "not a valid distribution name"


class _PackageCheck:
    """Validates package pins fast: every distinct name and version is checked once."""

    def __init__(self, check: _Checker) -> None:
        self.check = check
        self.good_names: set[str] = set()
        self.good_versions: set[str] = set()

    def pins(self, table: Mapping[str, Any], where: str, key: str) -> dict[str, str]:
        good_names, good_versions = self.good_names, self.good_versions
        valid = True
        for name, version in table.items():
            if name not in good_names:
                if not versions.is_normalized_name(name):
                    self.check.add(where, f"{key}.{name}", _name_problem(name))
                    valid = False
                    continue
                good_names.add(name)
            if version.__class__ is not str or version not in good_versions:
                if not isinstance(version, str):
                    self.check.add(
                        where, f"{key}.{name}", f"expected a version string, got {version!r}"
                    )
                    valid = False
                    continue
                if not versions.is_pep440(version):
                    self.check.add(where, f"{key}.{name}", f"{version!r} is not a PEP 440 version")
                    valid = False
                    continue
                good_versions.add(version)
        return dict(table) if valid else {}


def _releases(
    check: _Checker, entries: list[dict[str, Any]], lines: Mapping[int, Line], declared: set[int]
) -> list[Release]:
    _check_duplicates(check, entries)
    built: list[Release] = []
    seen: set[str] = set()
    pins = _PackageCheck(check)
    parity: dict[int, list[tuple[Any, str, str]]] = defaultdict(list)
    for index, entry in enumerate(entries):
        release = _release(check, entry, index, lines, declared, pins)
        if release is None or release.name in seen:
            continue
        seen.add(release.name)
        parity[release.major].append(
            (release.version, release.name, versions.airflow_minor(release.airflow))
        )
        built.append(release)
    _check_parity(check, parity)
    return built


def _check_duplicates(check: _Checker, entries: list[dict[str, Any]]) -> None:
    """Every version once, judged on the text alone so no other problem can hide a duplicate."""
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        text = entry.get("version")
        if not isinstance(text, str):
            continue
        try:
            name = str(versions.parse_runtime(text))
        except versions.RuntimeVersionError:
            continue
        if name in first:
            check.add(
                f"release {name}",
                "version",
                f"duplicate: releases #{first[name] + 1} and #{index + 1}",
            )
        else:
            first[name] = index


def _release(
    check: _Checker,
    entry: Mapping[str, Any],
    index: int,
    lines: Mapping[int, Line],
    declared: set[int],
    pins: _PackageCheck,
) -> Release | None:
    raw_version = entry.get("version")
    where = f"release {raw_version}" if isinstance(raw_version, str) else f"releases[{index}]"
    before = len(check.violations)
    check.keys(entry, RELEASE_KEYS, where)
    text = check.string(entry, "version", where, required=True)
    version = None
    if text is not _MISSING:
        try:
            version = versions.parse_runtime(text)
        except versions.RuntimeVersionError as exc:
            check.add(where, "version", str(exc))
    airflow = check.string(entry, "airflow", where, required=True)
    if airflow is not _MISSING and not versions.is_pep440(airflow):
        check.add(where, "airflow", f"{airflow!r} is not a PEP 440 version")
        airflow = _MISSING
    released = check.day(entry, "released", where)
    yanked = check.string(entry, "yanked", where)
    os_name = check.string(entry, "os", where)
    line = None
    if version is not None:
        line = lines.get(int(version.major))
        if line is None and int(version.major) not in declared:
            check.add(
                where,
                "version",
                f"line {version.major} is missing; add a [lines.{version.major}] table",
            )
    platform = _platform(check, entry, where, required=False, base=line)
    packages = pins.pins(check.table(entry, "packages", where), where, "packages")
    flavors = _flavors(check, check.table(entry, "flavors", where), where, pins)
    if line is None or version is None or len(check.violations) != before:
        return None
    return Release(
        version=version,
        airflow=airflow,
        line=line,
        os=line.os if os_name is _MISSING else os_name,
        released=None if released is _MISSING else released,
        yanked=None if yanked is _MISSING else yanked,
        packages=packages,
        flavors=flavors,
        **platform,
    )


def _flavors(
    check: _Checker, table: Mapping[str, Any], where: str, pins: _PackageCheck
) -> dict[str, dict[str, str]]:
    flavors: dict[str, dict[str, str]] = {}
    for name, entry in table.items():
        key = f"flavors.{name}"
        if not versions.is_normalized_name(name):
            check.add(where, key, "a flavor name is lowercase letters, digits and '-'")
            continue
        if not isinstance(entry, dict):
            check.add(where, key, f"expected a table, got {_toml_type(entry)}")
            continue
        unknown = [k for k in entry if k not in FLAVOR_KEYS]
        for bad in unknown:
            check.add(where, f"{key}.{bad}", "unknown key (known: packages)")
        packages = check.table(entry, "packages", f"{where} {key}")
        flavors[name] = pins.pins(packages, where, f"{key}.packages")
    return flavors


def _check_parity(check: _Checker, parity: Mapping[int, list[tuple[Any, str, str]]]) -> None:
    """One Airflow minor per runtime major, and a different one for each major."""
    owner: dict[str, int] = {}
    for major in sorted(parity):
        ordered = sorted(parity[major])
        _, first_name, minor = ordered[0]
        for _, name, other in ordered[1:]:
            if other != minor:
                check.add(
                    f"release {name}",
                    "airflow",
                    f"is Airflow {other}, but line {major} ships Airflow {minor} "
                    f"(from {first_name}); a new Airflow minor needs a new major",
                )
        if minor in owner:
            check.add(
                f"line {major}",
                "airflow",
                f"Airflow {minor} is already the Airflow of line {owner[minor]}; "
                "each major ships its own Airflow minor",
            )
        else:
            owner[minor] = major


# --------------------------------------------------------------------------------------------
# Matrix -> document


def to_document(matrix: Matrix) -> dict[str, Any]:
    """The TOML document of a matrix: line defaults factored out, everything sorted."""
    document: dict[str, Any] = {"schema": SCHEMA_VERSION}
    document["image"] = {
        "repository": matrix.image.repository,
        "floating_tags": matrix.image.floating_tags,
    }
    document["upstream"] = {
        "constraints_url": matrix.upstream.constraints_url,
        "index_url": matrix.upstream.index_url,
    }
    packages = {name: _facts_document(matrix.packages[name]) for name in sorted(matrix.packages)}
    if packages:
        document["packages"] = packages
    if matrix.env:
        document["env"] = {name: _env_document(var) for name, var in matrix.env.items()}
    policy = _policy_document(matrix.policy)
    if policy:
        document["policy"] = policy
    document["lines"] = {str(m): _line_document(matrix.lines[m]) for m in sorted(matrix.lines)}
    document["releases"] = [_release_document(r) for r in matrix.releases]
    return document


def _facts_document(facts: PackageFacts) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if facts.maintained:
        entry["maintained"] = True
    if facts.runtime_only:
        entry["runtime_only"] = True
    if facts.index is not None:
        entry["index"] = facts.index
    if facts.changelog is not None:
        entry["changelog"] = facts.changelog
    return entry


def _env_document(var: EnvVar) -> dict[str, str]:
    if var.value is not None:
        entry = {"value": var.value}
    elif var.formula is not None:
        entry = {"formula": var.formula}
    else:
        entry = {"default": var.default or ""}
    if var.description:
        entry["description"] = var.description
    return entry


def _policy_document(policy: Policy) -> dict[str, Any]:
    document: dict[str, Any] = {}
    default = {
        str(change): level.value
        for change, level in policy.default.items()
        if DEFAULT_PACKAGE_POLICY[change] is not level
    }
    if default:
        document["default"] = default
    if policy.packages:
        document["packages"] = {
            name: {str(change): level.value for change, level in policy.packages[name].items()}
            for name in sorted(policy.packages)
        }
    return document


def _line_document(line: Line) -> dict[str, Any]:
    return {
        "channel": line.channel.value,
        "end_of_maintenance": line.end_of_maintenance,
        "python": line.python,
        "python_versions": list(line.python_versions),
        "os": line.os,
        "architectures": list(line.architectures),
    }


def _release_document(release: Release) -> dict[str, Any]:
    entry: dict[str, Any] = {"version": release.name, "airflow": release.airflow}
    if release.released is not None:
        entry["released"] = release.released
    if release.yanked is not None:
        entry["yanked"] = release.yanked
    line = release.line
    for key in OVERRIDABLE_KEYS:
        value = getattr(release, key)
        if value != getattr(line, key):
            entry[key] = list(value) if isinstance(value, tuple) else value
    if release.packages:
        entry["packages"] = dict(sorted(release.packages.items()))
    if release.flavors:
        entry["flavors"] = {
            name: {"packages": dict(sorted(release.flavors[name].items()))}
            for name in sorted(release.flavors)
        }
    return entry
