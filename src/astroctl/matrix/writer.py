"""Schema 1, writing: :class:`~astroctl.matrix.model.Matrix` -> a TOML document.

:func:`to_document` is the inverse of :func:`~astroctl.matrix.reader.build_matrix`:
``build_matrix(to_document(m)) == m`` for every valid matrix. Line defaults are factored out of
the releases and everything is sorted, so the same matrix always gives the same text.
"""

from __future__ import annotations

from typing import Any

from astroctl.matrix.model import (
    DEFAULT_POLICY,
    SCHEMA_VERSION,
    EnvVar,
    Line,
    Matrix,
    PackageFacts,
    Policy,
    PolicyRule,
    Release,
)

# A document as tomli_w writes it: TOML values of any kind under string keys.
Document = dict[str, Any]


def to_document(matrix: Matrix) -> Document:
    """The TOML document of a matrix: line defaults factored out, everything sorted."""
    document: Document = {"schema": SCHEMA_VERSION}
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


def _facts_document(facts: PackageFacts) -> dict[str, bool | str]:
    entry: dict[str, bool | str] = {}
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
        if DEFAULT_POLICY[change] is not level
    }
    if default:
        document["default"] = default
    if policy.packages:
        document["packages"] = {
            name: {str(change): level.value for change, level in policy.packages[name].items()}
            for name in sorted(policy.packages)
        }
    if policy.rules:
        document["rules"] = [_rule_document(rule) for rule in policy.rules]
    return document


def _rule_document(rule: PolicyRule) -> dict[str, Any]:
    entry: dict[str, Any] = {"change": str(rule.change), "level": rule.level.value}
    if rule.package is not None:
        entry["package"] = rule.package
    if rule.since is not None:
        entry["since"] = rule.since
    if rule.reason:
        entry["reason"] = rule.reason
    return entry


def _line_document(line: Line) -> Document:
    return {
        "channel": line.channel.value,
        "end_of_maintenance": line.end_of_maintenance,
        "python": line.python,
        "python_versions": list(line.python_versions),
        "os": line.os,
        "architectures": list(line.architectures),
    }


def _release_document(release: Release) -> Document:
    entry: Document = {"version": release.name, "airflow": release.airflow}
    if release.released is not None:
        entry["released"] = release.released
    if release.yanked is not None:
        entry["yanked"] = release.yanked
    line = release.line
    if release.python != line.python:
        entry["python"] = release.python
    if release.python_versions != line.python_versions:
        entry["python_versions"] = list(release.python_versions)
    if release.os != line.os:
        entry["os"] = release.os
    if release.architectures != line.architectures:
        entry["architectures"] = list(release.architectures)
    if release.packages:
        entry["packages"] = dict(sorted(release.packages.items()))
    if release.flavors:
        entry["flavors"] = {
            name: {"packages": dict(sorted(release.flavors[name].items()))}
            for name in sorted(release.flavors)
        }
    if release.notes:
        entry["notes"] = [{"type": str(note.type), "text": note.text} for note in release.notes]
    return entry
