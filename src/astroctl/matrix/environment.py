"""The runtime's default environment variables for a release, formulas computed on request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from astroctl.errors import InputError
from astroctl.matrix.formulas import FormulaError, parse_formula
from astroctl.matrix.model import EnvKind, Matrix, Release

RUNTIME_VERSION_VAR = "ASTRONOMER_RUNTIME_VERSION"


class MissingInputs(InputError):
    """Some but not all of a formula's inputs were given; ``missing`` names the rest."""

    def __init__(self, variable: str, formula: str, missing: tuple[str, ...]) -> None:
        super().__init__(f"{variable} = {formula}: also give {', '.join(missing)}")
        self.variable = variable
        self.formula = formula
        self.missing = missing


@dataclass(frozen=True)
class EnvValue:
    name: str
    value: str | None  # None: a formula with no inputs given, or an override left unset
    formula: str | None
    description: str
    kind: EnvKind = EnvKind.VALUE
    default: str | None = None  # an override's behaviour when unset


@dataclass(frozen=True)
class ReleaseEnv:
    release: str
    variables: tuple[EnvValue, ...]


def release_env(matrix: Matrix, release: Release, inputs: Mapping[str, int]) -> ReleaseEnv:
    """The default env of ``release``; a formula is computed when all its inputs are given.

    Inputs are counts of at least 1. Giving some but not all of a formula's inputs raises
    :class:`MissingInputs` naming the ones missing.
    """
    for name, given in inputs.items():
        if given < 1:
            raise InputError(f"{name} must be at least 1 (got {given})")
    rows = []
    for var in matrix.env.values():
        value = var.value
        if var.formula is not None:
            value = _compute(var.name, var.formula, inputs)
        rows.append(EnvValue(var.name, value, var.formula, var.description, var.kind, var.default))
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
    missing = tuple(sorted(formula.variables - given))
    if missing:
        raise MissingInputs(name, text, missing)
    try:
        return str(formula.evaluate(inputs))
    except FormulaError as exc:
        raise InputError(f"{name}: {exc}") from None
