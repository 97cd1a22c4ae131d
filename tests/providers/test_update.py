"""The update plan (pure) and its one writer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import ChangeKind, Matrix
from astroctl.matrix.store import MatrixSource, Origin
from astroctl.providers.update import apply_update, plan_update, require_unreleased
from astroctl.versions import parse_runtime
from tests import factories

AMAZON = "apache-airflow-providers-amazon"
HTTP_PROVIDER = "apache-airflow-providers-http"
PINS = {AMAZON: "8.0.0", HTTP_PROVIDER: "4.0.0"}


@pytest.fixture
def matrix() -> Matrix:
    return factories.build(
        factories.document(
            factories.release("9.1.0", "2.7.1", released=date(2023, 9, 1), packages=PINS),
            factories.release(
                "9.2.0",
                "2.7.2",
                packages=PINS,
                flavors={"slim": {"packages": {AMAZON: "8.0.0"}}},
            ),
        )
    )


def test_an_unreleased_entry_is_updated_in_place(matrix: Matrix) -> None:
    entry = matrix.releases[1]
    plan = plan_update(matrix, entry, {AMAZON: "8.1.0"})
    assert not plan.created and not plan.empty
    assert plan.entry.version == entry.version
    assert dict(plan.entry.packages) == {AMAZON: "8.1.0", HTTP_PROVIDER: "4.0.0"}
    assert dict(plan.entry.flavors["slim"]) == {AMAZON: "8.1.0"}
    assert [(c.package, c.old, c.new, c.kind) for c in plan.changes] == [
        (AMAZON, "8.0.0", "8.1.0", ChangeKind.MINOR)
    ]
    assert plan.matrix.releases == (matrix.releases[0], plan.entry)
    assert matrix.releases[1].packages[AMAZON] == "8.0.0"  # the input is left alone


def test_a_new_entry_starts_from_the_release(matrix: Matrix) -> None:
    base = matrix.releases[0]
    plan = plan_update(matrix, base, {HTTP_PROVIDER: "4.0.1"}, version=parse_runtime("9.1.1"))
    assert plan.created
    assert (plan.entry.name, plan.entry.released, plan.entry.airflow) == ("9.1.1", None, "2.7.1")
    assert [r.name for r in plan.matrix.releases] == ["9.1.0", "9.1.1", "9.2.0"]
    assert plan.matrix.releases[0] is base


def test_a_new_entry_without_updates_is_still_created(matrix: Matrix) -> None:
    plan = plan_update(matrix, matrix.releases[0], {}, version=parse_runtime("9.3.0"))
    assert plan.created and not plan.changes and not plan.empty


def test_nothing_to_update_is_an_empty_plan(matrix: Matrix) -> None:
    assert plan_update(matrix, matrix.releases[1], {}).empty


def test_a_released_entry_is_refused(matrix: Matrix) -> None:
    with pytest.raises(InputError, match=r"9\.1\.0 was released on 2023-09-01"):
        plan_update(matrix, matrix.releases[0], {AMAZON: "8.1.0"})
    with pytest.raises(InputError, match="use --new"):
        require_unreleased(matrix.releases[0], new=False)
    require_unreleased(matrix.releases[0], new=True)
    require_unreleased(matrix.releases[1], new=False)


def test_a_taken_version_and_an_unknown_package_are_refused(matrix: Matrix) -> None:
    with pytest.raises(InputError, match=r"9\.2\.0 already exists"):
        plan_update(matrix, matrix.releases[0], {}, version=parse_runtime("9.2.0"))
    with pytest.raises(InputError, match=r"9\.2\.0 does not pin apache-airflow-providers-google"):
        plan_update(matrix, matrix.releases[1], {"apache-airflow-providers-google": "1.0.0"})


def test_apply_writes_a_file_that_reads_back(matrix: Matrix, tmp_path: Path) -> None:
    path = tmp_path / "compatibility.toml"
    path.write_text(store.dumps(matrix), encoding="utf-8")
    plan = plan_update(
        matrix, matrix.releases[0], {AMAZON: "8.1.0"}, version=parse_runtime("9.3.0")
    )
    apply_update(MatrixSource(path, Origin.OPTION), plan)
    assert store.load(path).releases == plan.matrix.releases


def test_apply_refuses_the_embedded_default(matrix: Matrix, tmp_path: Path) -> None:
    path = tmp_path / "compatibility.toml"
    path.write_text(store.dumps(matrix), encoding="utf-8")
    plan = plan_update(matrix, matrix.releases[1], {AMAZON: "8.1.0"})
    with pytest.raises(InputError, match="refusing to write the embedded default"):
        apply_update(MatrixSource(path, Origin.EMBEDDED), plan)
    assert store.load(path).releases == matrix.releases
