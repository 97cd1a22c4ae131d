"""The versioning policy engine (SPEC section 5): what changed, what that requires, and whether a
version step bumped enough.

The rules are data: the matrix's :class:`~astroctl.matrix.model.Policy` (SPEC's table, the file's
``[policy]`` overrides and its dated ``[[policy.rules]]``). This module lists the changes between
two releases (:func:`changes`), rates each with the rule in force on the new release's date
(:func:`required`) and compares the result with the version step (:func:`bump`, :func:`check`).

Choices:

- Version steps compare the ``X.Y.Z`` cores: ``9.2.0 -> 9.3.0-rc.1`` is a minor step. A step that
  keeps the core (``9.3.0-rc.1 -> 9.3.0-rc.2``, ``9.3.0-rc.2 -> 9.3.0``) is a patch step: between
  a release candidate and its final only patch-level changes may land (a promotion, which changes
  nothing, always passes). A step that is not higher is no bump at all (None).
- Airflow: a major, minor or patch change of its version as :func:`~astroctl.matrix.diff.classify`
  tells them; a change only of a local (``+astro.N``), post or pre-release part is a patch change,
  and a lower release segment is a downgrade.
- Pins unknown: a release with no package pins at all has unknown pins, not "every package
  removed", so package changes are not listed when either release has none (Airflow still is).
- The rule for a change is ``policy.rule_on(change, package, day)``: a package's own rule beats a
  general one, a later ``since`` an earlier one; the day is the new release's release date, and
  an unreleased entry is judged by the newest rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from astroctl.matrix.diff import AIRFLOW_PACKAGE, classify, diff_releases
from astroctl.matrix.model import (
    PACKAGE_CHANGES,
    Change,
    ChangeKind,
    Level,
    Policy,
    PolicyRule,
    Release,
    ReleaseNote,
)
from astroctl.versions import RuntimeVersion, python_key

_AIRFLOW_CHANGES = MappingProxyType(
    {
        ChangeKind.MAJOR: Change.AIRFLOW_MAJOR,
        ChangeKind.MINOR: Change.AIRFLOW_MINOR,
        ChangeKind.PATCH: Change.AIRFLOW_PATCH,
        ChangeKind.OTHER: Change.AIRFLOW_PATCH,
        ChangeKind.DOWNGRADE: Change.AIRFLOW_DOWNGRADE,
    }
)
_ORDER = MappingProxyType({change: index for index, change in enumerate(Change)})


def bump(old: RuntimeVersion, new: RuntimeVersion) -> Level | None:
    """The level of the version step from ``old`` to ``new``; None when ``new`` is not higher.

    The first ``X.Y.Z`` component that grew names the level; a step within one core (a later
    release candidate, or the final after its candidates) is a patch step.
    """
    if not new > old:
        return None
    if new.major != old.major:
        return Level.MAJOR
    if new.minor != old.minor:
        return Level.MINOR
    return Level.PATCH


@dataclass(frozen=True)
class Difference:
    """One change between two releases, before the policy rates it.

    ``subject`` names what changed (a package, ``apache-airflow``, ``Python 3.12``, ``arm64``,
    ``OS``, or a note's text); ``old`` and ``new`` are its values (None when absent on a side).
    """

    change: Change
    subject: str
    old: str | None = None
    new: str | None = None

    @property
    def package(self) -> str | None:
        """The package a package change is about (None for any other change)."""
        return self.subject if self.change in PACKAGE_CHANGES else None


def changes(
    old: Release, new: Release, notes: Sequence[ReleaseNote] | None = None
) -> tuple[Difference, ...]:
    """Every change from ``old`` to ``new``: Airflow, packages, Python, architectures, OS, and
    each change note (``notes`` when given, else ``new.notes``)."""
    return (
        *_airflow(old, new),
        *_packages(old, new),
        *_platform(old, new),
        *(Difference(Change(note.type.value), note.text) for note in _notes(new, notes)),
    )


@dataclass(frozen=True)
class Reason:
    """A change the policy rated: ``change`` of ``subject`` needs ``level`` by ``rule``.

    ``change`` and ``rule`` are None only for the first release of a line, which is a major
    release by definition.
    """

    change: Change | None
    level: Level
    subject: str
    old: str | None = None
    new: str | None = None
    rule: PolicyRule | None = None

    @property
    def text(self) -> str:
        """The reason as a plain sentence, e.g. ``Python 3.12 distribution added: minor``."""
        text = f"{_describe(self)}: {self.level.value}"
        rule = self.rule
        if rule is None or (rule.since is None and not rule.reason):
            return text
        since = f"rule since {rule.since.isoformat()}" if rule.since is not None else ""
        return f"{text} ({', '.join(part for part in (since, rule.reason) if part)})"


@dataclass(frozen=True)
class Requirement:
    """The level a change set requires (None: nothing changed) and the rated changes behind it,
    highest level first, then by subject."""

    level: Level | None
    reasons: tuple[Reason, ...] = ()


def required(
    old: Release | None,
    new: Release,
    policy: Policy,
    *,
    notes: Sequence[ReleaseNote] | None = None,
    on: date | None = None,
) -> Requirement:
    """The level the policy requires for going from ``old`` to ``new``: the highest level any
    single change needs, each rated by the rule in force on ``on`` (default: ``new``'s release
    date; an unreleased entry is rated by the newest rules).

    With ``old`` None, ``new`` is the first release of its line: a major release.
    """
    if old is None:
        reason = Reason(None, Level.MAJOR, f"line {new.major}", None, new.name)
        return Requirement(Level.MAJOR, (reason,))
    day = on if on is not None else new.released
    reasons = [_rate(difference, policy, day) for difference in changes(old, new, notes)]
    reasons.sort(key=lambda r: (-r.level.rank, r.subject, _ORDER[r.change] if r.change else -1))
    return Requirement(highest(r.level for r in reasons), tuple(reasons))


@dataclass(frozen=True)
class Check:
    """A version step judged by the policy: ``ok`` when the step's ``bump`` is at least the
    ``required`` level (a step that is not higher is never ok).

    ``over`` lists releases between ``old`` and ``new`` that the step spans (the audit steps
    over releases whose package pins are unknown), oldest first.
    """

    old: Release
    new: Release
    bump: Level | None
    required: Level | None
    ok: bool
    reasons: tuple[Reason, ...] = ()
    over: tuple[Release, ...] = ()


def check(old: Release, new: Release, policy: Policy, *, over: Sequence[Release] = ()) -> Check:
    """Judge the step from ``old`` to ``new`` under the policy in force on ``new``'s date."""
    step = bump(old.version, new.version)
    requirement = required(old, new, policy)
    ok = step is not None and (requirement.level is None or step.rank >= requirement.level.rank)
    return Check(old, new, step, requirement.level, ok, requirement.reasons, tuple(over))


def highest(levels: Iterable[Level]) -> Level | None:
    """The highest of ``levels`` (None when there are none)."""
    return max(levels, key=lambda level: level.rank, default=None)


# -- the changes ------------------------------------------------------------------------------


def _airflow(old: Release, new: Release) -> Iterator[Difference]:
    kind = classify(old.airflow, new.airflow)
    if kind is not ChangeKind.UNCHANGED:
        yield Difference(_AIRFLOW_CHANGES[kind], AIRFLOW_PACKAGE, old.airflow, new.airflow)


def _packages(old: Release, new: Release) -> Iterator[Difference]:
    if not (old.packages and new.packages):
        return  # a release without pins has unknown pins: nothing to compare
    for change in diff_releases(old, new).changes:
        if change.package != AIRFLOW_PACKAGE:
            yield Difference(Change(change.kind.value), change.package, change.old, change.new)


def _platform(old: Release, new: Release) -> Iterator[Difference]:
    if old.python != new.python:
        yield Difference(Change.PYTHON_DEFAULT, "default Python", old.python, new.python)
    yield from _set_changes(
        old.python_versions,
        new.python_versions,
        (Change.PYTHON_ADDED, Change.PYTHON_REMOVED),
        lambda version: f"Python {version}",
        python_key,
    )
    yield from _set_changes(
        old.architectures,
        new.architectures,
        (Change.ARCHITECTURE_ADDED, Change.ARCHITECTURE_REMOVED),
        str,
        str,
    )
    if old.os != new.os:
        yield Difference(Change.OS, "OS", old.os, new.os)


def _set_changes(
    old: Sequence[str],
    new: Sequence[str],
    kinds: tuple[Change, Change],
    subject: Callable[[str], str],
    order: Callable[[str], Any],
) -> Iterator[Difference]:
    """The members ``new`` added and those it removed, each side in ``order``."""
    added, removed = kinds
    for value in sorted(set(new) - set(old), key=order):
        yield Difference(added, subject(value), None, value)
    for value in sorted(set(old) - set(new), key=order):
        yield Difference(removed, subject(value), value, None)


def _notes(new: Release, notes: Sequence[ReleaseNote] | None) -> Sequence[ReleaseNote]:
    return new.notes if notes is None else notes


def _rate(difference: Difference, policy: Policy, day: date | None) -> Reason:
    rule = policy.rule_on(difference.change, difference.package, day)
    return Reason(
        difference.change, rule.level, difference.subject, difference.old, difference.new, rule
    )


# -- the sentences ----------------------------------------------------------------------------

_VERSION_STEPS = MappingProxyType(
    {
        Change.MAJOR: "a major change",
        Change.MINOR: "a minor change",
        Change.PATCH: "a patch change",
        Change.DOWNGRADE: "a downgrade",
        Change.OTHER: "a change of only its pre, post, dev or local part",
        Change.AIRFLOW_MAJOR: "a major change",
        Change.AIRFLOW_MINOR: "a minor change",
        Change.AIRFLOW_DOWNGRADE: "a downgrade",
    }
)
_PLATFORM = MappingProxyType(
    {
        Change.PYTHON_ADDED: "{subject} distribution added",
        Change.PYTHON_REMOVED: "{subject} distribution removed",
        Change.ARCHITECTURE_ADDED: "architecture {subject} added",
        Change.ARCHITECTURE_REMOVED: "architecture {subject} removed",
        Change.PYTHON_DEFAULT: "default Python changed from {old} to {new}",
        Change.OS: "OS changed from {old} to {new}",
        Change.ADDED: "{subject} {new} added",
        Change.REMOVED: "{subject} {old} removed",
    }
)


def _describe(reason: Reason) -> str:
    change = reason.change
    if change is None:
        return f"first release of {reason.subject}"
    if change in _PLATFORM:
        return _PLATFORM[change].format(subject=reason.subject, old=reason.old, new=reason.new)
    step = f"{reason.subject} {reason.old} -> {reason.new} is"
    if change is Change.AIRFLOW_PATCH:
        local = classify(reason.old or "0", reason.new or "0") is ChangeKind.OTHER
        return f"{step} {'a local or post build change' if local else 'a patch change'}"
    if change in _VERSION_STEPS:
        return f"{step} {_VERSION_STEPS[change]}"
    return f"{change.value} note: {' '.join(reason.subject.split())}"


__all__ = [
    "Check",
    "Difference",
    "Reason",
    "Requirement",
    "bump",
    "changes",
    "check",
    "highest",
    "required",
]
