"""The runtime's default environment variables for a release, formulas computed on request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from astroctl.errors import InputError
from astroctl.matrix.formulas import VARIABLES, FormulaError, parse_formula
from astroctl.matrix.model import Matrix, Release

RUNTIME_VERSION_VAR = "ASTRONOMER_RUNTIME_VERSION"


@dataclass(frozen=True)
class EnvValue:
    name: str
    value: str | None  # None: a formula with no inputs given
    formula: str | None
    description: str


@dataclass(frozen=True)
class ReleaseEnv:
    release: str
    variables: tuple[EnvValue, ...]


def release_env(matrix: Matrix, release: Release, inputs: Mapping[str, int]) -> ReleaseEnv:
    """The default env of ``release``; a formula is computed when all its inputs are given.

    Giving some but not all of a formula's inputs is an error that names the missing option.
    """
    for name, given in inputs.items():
        if given < 0:
            raise InputError(f"{VARIABLES[name]} must not be negative (got {given})")
    rows = []
    for var in matrix.env.values():
        value = var.value
        if var.formula is not None:
            value = _compute(var.name, var.formula, inputs)
        rows.append(EnvValue(var.name, value, var.formula, var.description))
    rows.append(
        EnvValue(
            RUNTIME_VERSION_VAR,
            release.name,
            None,
            "The runtime version; the Airflow UI shows it in the footer.",
        )
    )
    return ReleaseEnv(release=release.name, variables=tuple(rows))


def _compute(name: str, text: str, inputs: Mapping[str, int]) -> str | None:
    formula = parse_formula(text)
    given = formula.variables & inputs.keys()
    if not given:
        return None
    missing = sorted(formula.variables - given)
    if missing:
        options = ", ".join(VARIABLES[m] for m in missing)
        raise InputError(f"{name} = {text}: also give {options}")
    try:
        return str(formula.evaluate(inputs))
    except FormulaError as exc:
        raise InputError(f"{name}: {exc}") from None
