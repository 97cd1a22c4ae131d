"""Schema 1, reading: a parsed TOML document -> :class:`~astroctl.matrix.model.Matrix`.

:func:`build_matrix` checks every invariant of SPEC section 2 and reports all violations at once,
each named by release (or line, package, variable) and key, with its release, major line and,
when the text is given, file line. A release with one bad key is still judged on what can be read
of it: its version for duplicates and its Airflow for the parity of its line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from astroctl import versions
from astroctl.errors import MatrixInvalid
from astroctl.matrix.checker import (
    TOP,
    Checker,
    Place,
    Table,
    is_table,
    name_problem,
    printable,
    show,
    toml_type,
)
from astroctl.matrix.formulas import FormulaError, parse_formula
from astroctl.matrix.model import (
    ARCHITECTURES,
    CHANNELS,
    DEFAULT_POLICY,
    PACKAGE_CHANGES,
    SCHEMA_VERSION,
    Change,
    Channel,
    EnvVar,
    ImageSettings,
    Level,
    Line,
    Matrix,
    NoteType,
    PackageFacts,
    Policy,
    PolicyRule,
    Release,
    ReleaseNote,
    Upstream,
)
from astroctl.matrix.sourcemap import DocPath
from astroctl.versions import RuntimeVersion

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
    "notes",
)
FLAVOR_KEYS = ("packages",)
POLICY_KEYS = ("default", "packages", "rules")
AIRFLOW_POLICY = (
    "Airflow is rated by the airflow-major, airflow-minor and airflow-patch changes, "
    "not as a package"
)
AIRFLOW_PIN = "Airflow is the release's 'airflow' key, not one of its package pins"
RULE_KEYS = ("change", "level", "package", "since", "reason")
NOTE_KEYS = ("type", "text")
URL_PLACEHOLDERS = ("{airflow}", "{python}")

# ASCII digits only (re's [0-9], never \d or str.isdigit: [lines."٩"] must not become line 9),
# no leading zero, and short enough for int().
_LINE_KEY = re.compile(rf"0|[1-9][0-9]{{0,{versions.MAX_DIGITS - 1}}}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def build_matrix(
    document: Mapping[str, object], source: str, header: str = "", *, text: str | None = None
) -> Matrix:
    """Validate a parsed TOML document and build the matrix, or raise :class:`MatrixInvalid`.

    ``text``, the document's TOML text, lets each violation name its file line; it is read only
    when there are violations.
    """
    check = Checker()
    check.keys(document, TOP_KEYS, TOP)
    _schema(check, document)
    image = _image(check, check.table(document, "image", TOP))
    upstream = _upstream(check, check.table(document, "upstream", TOP))
    packages = _package_facts(check, check.table(document, "packages", TOP))
    env = _env(check, check.table(document, "env", TOP))
    policy = _policy(check, check.table(document, "policy", TOP))
    lines, declared = _lines(check, check.table(document, "lines", TOP))
    entries = check.table_list(document, "releases", TOP, "an array of tables ([[releases]])")
    releases = _releases(check, entries, lines, declared)
    if check.violations:
        raise MatrixInvalid(source, check.located(text))
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


def _schema(check: Checker, document: Table) -> None:
    if "schema" not in document:
        check.add(TOP, "schema", f"missing; add 'schema = {SCHEMA_VERSION}'")
        return
    schema = document["schema"]
    if type(schema) is not int or schema != SCHEMA_VERSION:  # not True, 1.0 or "1"
        check.add(
            TOP,
            "schema",
            f"{show(schema)} is not supported; this astroctl reads schema {SCHEMA_VERSION}",
        )


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://", "file://"))


def _url(check: Checker, table: Table, key: str, place: Place) -> str | None:
    value = check.string(table, key, place)
    if value is not None and not _is_url(value):
        check.add(place, key, f"{versions.shown(value)} is not an http(s) or file URL")
        return None
    return value


def _image(check: Checker, table: Table) -> ImageSettings:
    place = Place("image", ("image",))
    check.keys(table, IMAGE_KEYS, place)
    defaults = ImageSettings()
    repository = check.string(table, "repository", place)
    floating = check.boolean(table, "floating_tags", place)
    return ImageSettings(
        repository=defaults.repository if repository is None else repository,
        floating_tags=defaults.floating_tags if floating is None else floating,
    )


def _upstream(check: Checker, table: Table) -> Upstream:
    place = Place("upstream", ("upstream",))
    check.keys(table, UPSTREAM_KEYS, place)
    defaults = Upstream()
    constraints = _url(check, table, "constraints_url", place) or defaults.constraints_url
    index = _url(check, table, "index_url", place) or defaults.index_url
    for placeholder in URL_PLACEHOLDERS:
        if placeholder not in constraints:
            check.add(place, "constraints_url", f"must contain {placeholder}")
    return Upstream(constraints_url=constraints, index_url=index)


def _package_facts(check: Checker, table: Table) -> dict[str, PackageFacts]:
    facts: dict[str, PackageFacts] = {}
    for name, entry in table.items():
        place = Place(f"packages.{printable(name)}", ("packages", name))
        if not versions.is_normalized_name(name):
            check.add(place, "", name_problem(name))
            continue
        if not is_table(entry):
            check.add(place, "", f"expected a table, got {toml_type(entry)}")
            continue
        check.keys(entry, PACKAGE_KEYS, place)
        maintained = check.boolean(entry, "maintained", place)
        runtime_only = check.boolean(entry, "runtime_only", place)
        facts[name] = PackageFacts(
            name=name,
            maintained=maintained is True,
            runtime_only=runtime_only is True,
            index=_url(check, entry, "index", place),
            changelog=_url(check, entry, "changelog", place),
        )
    return facts


def _env(check: Checker, table: Table) -> dict[str, EnvVar]:
    env: dict[str, EnvVar] = {}
    for name, entry in table.items():
        place = Place(f"env.{printable(name)}", ("env", name))
        if _ENV_NAME.fullmatch(name) is None:
            check.add(place, "", "not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
            continue
        if not is_table(entry):
            check.add(place, "", f"expected a table, got {toml_type(entry)}")
            continue
        var = _env_var(check, name, entry, place)
        if var is not None:
            env[name] = var
    return env


def _env_var(check: Checker, name: str, entry: Table, place: Place) -> EnvVar | None:
    check.keys(entry, ENV_KEYS, place)
    value = check.string(entry, "value", place)
    formula = check.string(entry, "formula", place)
    default = check.string(entry, "default", place)
    description = check.text(entry, "description", place)
    given = [key for key in ENV_KINDS if key in entry]
    if len(given) != 1:
        if given:
            check.add(place, "", f"has {' and '.join(map(repr, given))}; keep one")
        else:
            check.add(
                place,
                "",
                "needs exactly one of 'value' (baked into the image), 'formula' (computed "
                "per deployment) or 'default' (an override the user may set)",
            )
        return None
    if value is None and formula is None and default is None:
        return None  # the one given was of the wrong type: already reported
    if formula is not None:
        try:
            parse_formula(formula)
        except FormulaError as exc:
            check.add(place, "formula", str(exc))
            return None
    return EnvVar(
        name=name,
        value=value,
        formula=formula,
        default=default,
        description=description or "",
    )


def _policy(check: Checker, table: Table) -> Policy:
    place = Place("policy", ("policy",))
    check.keys(table, POLICY_KEYS, place)
    default = dict(DEFAULT_POLICY)
    default_place = Place("policy.default", ("policy", "default"))
    default.update(
        _levels(check, check.table(table, "default", place), default_place, tuple(Change))
    )
    per_package: dict[str, Mapping[Change, Level]] = {}
    for name, entry in check.table(table, "packages", place).items():
        package_place = Place(f"policy.packages.{printable(name)}", ("policy", "packages", name))
        if not versions.is_normalized_name(name):
            check.add(package_place, "", name_problem(name))
            continue
        if name == "apache-airflow":
            check.add(package_place, "", AIRFLOW_POLICY)
            continue
        if not is_table(entry):
            check.add(package_place, "", f"expected a table, got {toml_type(entry)}")
            continue
        per_package[name] = _levels(check, entry, package_place, PACKAGE_CHANGES)
    expected = "an array of tables ([[policy.rules]])"
    rules: list[PolicyRule] = []
    seen: dict[tuple[Change, str | None, object], int] = {}
    for index, entry in enumerate(check.table_list(table, "rules", place, expected)):
        rule = _rule(check, entry, index)
        if rule is None:
            continue
        key = (rule.change, rule.package, rule.since)
        if key in seen:
            check.add(
                Place(f"policy.rules[{index}]", ("policy", "rules", index)),
                "",
                f"says again what policy.rules[{seen[key]}] says (same change, package and "
                "since); keep one",
            )
            continue
        seen[key] = index
        rules.append(rule)
    return Policy(default=default, packages=per_package, rules=tuple(rules))


def _rule(check: Checker, entry: Table, index: int) -> PolicyRule | None:
    place = Place(f"policy.rules[{index}]", ("policy", "rules", index))
    before = len(check.violations)
    check.keys(entry, RULE_KEYS, place)
    change = check.choice(entry, "change", place, tuple(Change), required=True)
    level = check.choice(entry, "level", place, [lv.value for lv in Level], required=True)
    package = check.string(entry, "package", place)
    if package is not None and not versions.is_normalized_name(package):
        check.add(place, "package", name_problem(package))
    if package == "apache-airflow":
        check.add(place, "package", AIRFLOW_POLICY)
    if package is not None and change is not None and Change(change) not in PACKAGE_CHANGES:
        check.add(place, "package", f"a rule for {change!r} cannot name a package")
    since = check.day(entry, "since", place)
    reason = check.text(entry, "reason", place)
    if change is None or level is None or len(check.violations) != before:
        return None
    return PolicyRule(Change(change), Level(level), package, since, reason or "")


def _levels(
    check: Checker, table: Table, place: Place, changes: tuple[Change, ...]
) -> dict[Change, Level]:
    check.keys(table, [str(change) for change in changes], place)
    names = tuple(level.value for level in Level)
    levels: dict[Change, Level] = {}
    for change in changes:
        if change not in table:
            continue
        value = table[change]
        if isinstance(value, str) and value in names:
            levels[change] = Level(value)
        else:
            check.wrong(place, change, "one of " + ", ".join(names), value)
    return levels


def _notes(check: Checker, entry: Table, place: Place) -> tuple[ReleaseNote, ...]:
    """A release's change notes: ``[[releases.notes]]`` tables of a type and a text."""
    notes = []
    expected = "an array of tables ([[releases.notes]])"
    for index, note in enumerate(check.table_list(entry, "notes", place, expected)):
        key = f"notes[{index}]"
        unknown = [k for k in note if k not in NOTE_KEYS]
        for bad in unknown:
            check.add(place, f"{key}.{printable(bad)}", "unknown key (known: type, text)")
        kind = note.get("type")
        text = note.get("text")
        if not (isinstance(kind, str) and kind in tuple(NoteType)):
            types = ", ".join(NoteType)
            check.add(place, f"{key}.type", f"expected one of {types}, got {show(kind)}")
        elif not (isinstance(text, str) and text.strip()):
            check.add(place, f"{key}.text", "expected a non-empty string")
        elif not unknown:
            notes.append(ReleaseNote(NoteType(kind), text))
    return tuple(notes)


# --------------------------------------------------------------------------------------------
# lines and the platform fields releases may override


@dataclass(frozen=True)
class _Platform:
    """python, python_versions and architectures as read (None: absent or bad)."""

    python: str | None = None
    python_versions: tuple[str, ...] | None = None
    architectures: tuple[str, ...] | None = None


def _lines(check: Checker, table: Table) -> tuple[dict[int, Line], set[int]]:
    lines: dict[int, Line] = {}
    declared: set[int] = set()
    for key, entry in table.items():
        if _LINE_KEY.fullmatch(key) is None:
            place = Place(f"line {printable(key)}", ("lines", key))
            check.add(place, "", _line_key_problem(key))
            continue
        major = int(key)
        declared.add(major)
        place = Place(f"line {key}", ("lines", key), line=major)
        if not is_table(entry):
            check.add(place, "", f"expected a table, got {toml_type(entry)}")
            continue
        line = _line(check, major, entry, place)
        if line is not None:
            lines[major] = line
    return lines, declared


def _line_key_problem(key: str) -> str:
    if versions.has_long_number(key):
        return f"a major version has at most {versions.MAX_DIGITS} digits"
    return "a line is named by its major version in ASCII digits, e.g. [lines.9]"


def _line(check: Checker, major: int, entry: Table, place: Place) -> Line | None:
    check.keys(entry, LINE_KEYS, place)
    before = len(check.violations)
    channel = check.choice(entry, "channel", place, CHANNELS, required=True)
    eom = check.day(entry, "end_of_maintenance", place, required=True)
    os_name = check.string(entry, "os", place, required=True)
    platform = _platform(check, entry, place, required=True)
    python, known, architectures = (
        platform.python,
        platform.python_versions,
        platform.architectures,
    )
    if len(check.violations) != before or channel is None or eom is None or os_name is None:
        return None
    if python is None or known is None or architectures is None:
        return None
    return Line(
        major=major,
        channel=Channel(channel),
        end_of_maintenance=eom,
        python=python,
        python_versions=known,
        os=os_name,
        architectures=architectures,
    )


def _platform(
    check: Checker, table: Table, place: Place, *, required: bool, base: Line | None = None
) -> _Platform:
    """python, python_versions and architectures of a line, or a release's overrides of them."""
    python, known = _pythons(check, table, place, required=required)
    architectures = _architectures(check, table, place, required=required)
    if base is not None:
        python = base.python if python is None and "python" not in table else python
        if known is None and "python_versions" not in table:
            known = base.python_versions
        if architectures is None and "architectures" not in table:
            architectures = base.architectures
    given = [key for key in ("python", "python_versions") if key in table]
    if given and python is not None and known is not None and python not in known:
        check.add(
            place,
            given[0],
            f"default Python {python} is not among python_versions ({', '.join(known)})",
        )
    return _Platform(python, known, architectures)


def _pythons(
    check: Checker, table: Table, place: Place, *, required: bool
) -> tuple[str | None, tuple[str, ...] | None]:
    python = check.string(table, "python", place, required=required)
    if python is not None and not versions.is_python_version(python):
        check.add(
            place, "python", f"{versions.shown(python)} is not a Python version such as '3.11'"
        )
        python = None
    listed = check.strings(table, "python_versions", place)
    if listed is None:
        if required and "python_versions" not in table and python is not None:
            return python, (python,)
        return python, None
    bad = [p for p in listed if not versions.is_python_version(p)]
    if bad:
        message = f"{versions.shown(bad[0])} is not a Python version such as '3.11'"
        check.add(place, "python_versions", message)
        return python, None
    return python, tuple(sorted(listed, key=versions.python_key))


def _architectures(
    check: Checker, table: Table, place: Place, *, required: bool
) -> tuple[str, ...] | None:
    listed = check.strings(table, "architectures", place)
    if listed is None:
        if required and "architectures" not in table:
            check.add(
                place, "architectures", "missing; expected an array such as ['amd64', 'arm64']"
            )
        return None
    unknown = [a for a in listed if a not in ARCHITECTURES]
    if unknown or not listed:
        problem = (
            f"unknown architecture {versions.shown(unknown[0])}" if unknown else "must not be empty"
        )
        check.add(place, "architectures", f"{problem} (supported: amd64, arm64)")
        return None
    return tuple(a for a in ARCHITECTURES if a in listed)


# --------------------------------------------------------------------------------------------
# releases


class _PackageCheck:
    """Validates package pins fast: every distinct name and version is checked once."""

    def __init__(self, check: Checker) -> None:
        self.check = check
        self.good_names: set[str] = set()
        self.good_versions: set[str] = set()

    def pins(self, table: Table, place: Place, key: str, at: DocPath) -> dict[str, str]:
        """The pins of ``table`` (``key`` under ``place``, at path ``at``); empty if any is bad.

        The pins are copied one by one as they are checked rather than with ``dict(table)``:
        ~3 ms per 100,000 pins, the price of a result whose type mypy has proven.
        """
        good_names, good_versions = self.good_names, self.good_versions
        pins: dict[str, str] = {}
        valid = True
        for name, version in table.items():
            if name not in good_names:
                if not versions.is_normalized_name(name):
                    self._bad(place, key, at, name, name_problem(name))
                    valid = False
                    continue
                if name == "apache-airflow":
                    self._bad(place, key, at, name, AIRFLOW_PIN)
                    valid = False
                    continue
                good_names.add(name)
            if type(version) is str and version in good_versions:
                pins[name] = version
            elif not isinstance(version, str):
                message = f"expected a version string, got {show(version)}"
                self._bad(place, key, at, name, message)
                valid = False
            elif versions.is_pep440(version):
                good_versions.add(version)
                pins[name] = version
            else:
                self._bad(place, key, at, name, versions.pep440_problem(version))
                valid = False
        return pins if valid else {}

    def _bad(self, place: Place, key: str, at: DocPath, name: str, message: str) -> None:
        self.check.add(place, f"{key}.{printable(name)}", message, at=(*at, name))


@dataclass(frozen=True)
class _Read:
    """What could be read of one ``[[releases]]`` entry, whatever else is wrong with it."""

    version: RuntimeVersion | None
    airflow: str | None
    release: Release | None  # only when the whole entry is valid


def _releases(
    check: Checker, entries: list[Table], lines: Mapping[int, Line], declared: set[int]
) -> list[Release]:
    duplicates = _check_duplicates(check, entries)
    pins = _PackageCheck(check)
    built: list[Release] = []
    parity: dict[int, list[tuple[RuntimeVersion, int, str]]] = defaultdict(list)
    for index, entry in enumerate(entries):
        read = _release(check, entry, index, lines, declared, pins)
        if read.version is None or index in duplicates:
            continue
        if read.airflow is not None:
            minor = versions.airflow_minor(read.airflow)
            parity[read.version.major].append((read.version, index, minor))
        if read.release is not None:
            built.append(read.release)
    _check_parity(check, parity, declared)
    return built


def _check_duplicates(check: Checker, entries: list[Table]) -> set[int]:
    """Every version once, judged on the text alone so no other problem can hide a duplicate.

    Returns the indexes of the repeats (every occurrence but the first).
    """
    first: dict[RuntimeVersion, int] = {}
    repeats: set[int] = set()
    for index, entry in enumerate(entries):
        version = _version_of(entry)
        if version is None:
            continue
        if version in first:
            repeats.add(index)
            place = Place(
                f"release {version}", ("releases", index), release=str(version), line=version.major
            )
            check.add(
                place, "version", f"duplicate: releases #{first[version] + 1} and #{index + 1}"
            )
        else:
            first[version] = index
    return repeats


def _version_of(entry: Table) -> RuntimeVersion | None:
    text = entry.get("version")
    if not isinstance(text, str):
        return None
    try:
        return versions.parse_runtime(text)
    except versions.RuntimeVersionError:
        return None


def _release(
    check: Checker,
    entry: Table,
    index: int,
    lines: Mapping[int, Line],
    declared: set[int],
    pins: _PackageCheck,
) -> _Read:
    raw = entry.get("version")
    name = raw if isinstance(raw, str) else None
    version = _version_of(entry)
    place = Place(
        f"release {printable(name)}" if name is not None else f"releases[{index}]",
        ("releases", index),
        release=name,
        line=None if version is None else version.major,
    )
    before = len(check.violations)
    check.keys(entry, RELEASE_KEYS, place)
    text = check.string(entry, "version", place, required=True)
    if text is not None and version is None:
        try:
            versions.parse_runtime(text)
        except versions.RuntimeVersionError as exc:
            check.add(place, "version", str(exc))
    airflow = check.string(entry, "airflow", place, required=True)
    if airflow is not None and not versions.is_pep440(airflow):
        check.add(place, "airflow", versions.pep440_problem(airflow))
        airflow = None
    line = None
    if version is not None:
        line = lines.get(version.major)
        if line is None and version.major not in declared:
            check.add(
                place,
                "version",
                f"line {version.major} is missing; add a [lines.{version.major}] table",
            )
    release = _release_value(check, entry, place, version, airflow, line, pins)
    valid = release is not None and len(check.violations) == before
    return _Read(version, airflow, release if valid else None)


def _release_value(
    check: Checker,
    entry: Table,
    place: Place,
    version: RuntimeVersion | None,
    airflow: str | None,
    line: Line | None,
    pins: _PackageCheck,
) -> Release | None:
    """Reads (and so checks) the rest of a release; the release when everything is there."""
    released = check.day(entry, "released", place)
    yanked = check.string(entry, "yanked", place)
    os_name = check.string(entry, "os", place)
    platform = _platform(check, entry, place, required=False, base=line)
    packages = pins.pins(check.table(entry, "packages", place), place, "packages", ("packages",))
    flavors = _flavors(check, check.table(entry, "flavors", place), place, pins)
    notes = _notes(check, entry, place)
    python, known, architectures = (
        platform.python,
        platform.python_versions,
        platform.architectures,
    )
    if line is None or version is None or airflow is None:
        return None
    if python is None or known is None or architectures is None:
        return None
    return Release(
        version=version,
        airflow=airflow,
        line=line,
        python=python,
        python_versions=known,
        os=line.os if os_name is None else os_name,
        architectures=architectures,
        released=released,
        yanked=yanked,
        packages=packages,
        flavors=flavors,
        notes=notes,
    )


def _flavors(
    check: Checker, table: Table, place: Place, pins: _PackageCheck
) -> dict[str, dict[str, str]]:
    flavors: dict[str, dict[str, str]] = {}
    for name, entry in table.items():
        key = f"flavors.{printable(name)}"
        at = ("flavors", name)
        if not versions.is_normalized_name(name):
            check.add(place, key, "a flavor name is lowercase letters, digits and '-'", at=at)
            continue
        if not is_table(entry):
            check.add(place, key, f"expected a table, got {toml_type(entry)}", at=at)
            continue
        for bad in entry:
            if bad not in FLAVOR_KEYS:
                message = "unknown key (known: packages)"
                check.add(place, f"{key}.{printable(bad)}", message, at=(*at, bad))
        sub = Place(f"{place.where} {key}", (*place.path, *at), place.release, place.line)
        table_of_pins = check.table(entry, "packages", sub)
        flavors[name] = pins.pins(table_of_pins, place, f"{key}.packages", (*at, "packages"))
    return flavors


def _check_parity(
    check: Checker,
    parity: Mapping[int, list[tuple[RuntimeVersion, int, str]]],
    declared: set[int],
) -> None:
    """One Airflow minor per runtime major, and a different one for each major."""
    owner: dict[str, int] = {}
    for major in sorted(parity):
        ordered = sorted(parity[major])
        first, first_index, minor = ordered[0]
        for version, index, other in ordered[1:]:
            if other != minor:
                place = Place(f"release {version}", ("releases", index), str(version), major)
                check.add(
                    place,
                    "airflow",
                    f"is Airflow {other}, but line {major} ships Airflow {minor} "
                    f"(from {first}); a new Airflow minor needs a new major",
                )
        if minor in owner:
            path = ("lines", str(major)) if major in declared else ("releases", first_index)
            check.add(
                Place(f"line {major}", path, line=major),
                "airflow",
                f"Airflow {minor} is already the Airflow of line {owner[minor]}; "
                "each major ships its own Airflow minor",
                at=() if major in declared else ("airflow",),
            )
        else:
            owner[minor] = major
