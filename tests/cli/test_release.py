"""``astroctl release``, ``notes`` and ``changes`` end to end, in a real git repository.

Each test gets a project in tmp_path: ``data/compatibility.toml`` (the frozen snapshot of the
real history), the CHANGELOG.md the matrix produces, committed in a fresh git repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astroctl.matrix import store
from astroctl.release import changelog
from astroctl.release.history import predecessor
from tests.helpers import REPO, SNAPSHOT, Invoke, git

DAY = "2024-08-20"  # inside line 11's maintenance (it ends 2025-10-31)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "runtime"
    (root / "data").mkdir(parents=True)
    matrix_text = SNAPSHOT.read_text(encoding="utf-8")
    (root / "data" / "compatibility.toml").write_text(matrix_text, encoding="utf-8")
    matrix = store.loads(matrix_text, "snapshot")
    (root / "CHANGELOG.md").write_text(
        changelog.generate(matrix, lambda r: predecessor(matrix, r)), encoding="utf-8"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "release@example.com")
    git(root, "config", "user.name", "Release Engineer")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Runtime history")
    return root


def run(invoke: Invoke, root: Path, *args: str) -> tuple[int, str, str]:
    result = invoke(*args, matrix=root / "data" / "compatibility.toml")
    return result.exit_code, result.stdout, result.stderr


def snapshot_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def release_entry(root: Path, version: str) -> dict[str, object]:
    matrix = store.load(root / "data" / "compatibility.toml")
    (found,) = [r for r in matrix.releases if r.name == version]
    return {
        "airflow": found.airflow,
        "released": found.released,
        "packages": dict(found.packages),
        "notes": [(str(n.type), n.text) for n in found.notes],
    }


def test_a_minor_release_with_git_is_one_commit_and_a_tag(invoke: Invoke, project: Path) -> None:
    code, out, err = run(
        invoke,
        project,
        "release",
        "minor",
        "--set",
        "apache-airflow-providers-amazon==8.28.0",
        "--date",
        DAY,
        "--yes",
        "--git",
        "--format",
        "json",
    )
    assert code == 0, err
    plan = json.loads(out)
    assert (plan["version"], plan["previous"], plan["level"], plan["required"]) == (
        "11.9.0",
        "11.8.0",
        "minor",
        "minor",
    )
    assert plan["changes"] == [
        {
            "package": "apache-airflow-providers-amazon",
            "from": "8.27.0",
            "to": "8.28.0",
            "change": "minor",
        }
    ]
    assert plan["tag"] == "runtime-11.9.0"
    entry = release_entry(project, "11.9.0")
    assert entry["packages"]["apache-airflow-providers-amazon"] == "8.28.0"  # type: ignore[index]
    log = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert log.split("\n## ")[1].startswith("Astro Runtime 11.9.0")  # newest first
    assert "8.28.0" in log.split("\n## ")[1]
    shown = git(project, "show", "--name-only", "--format=%s", "HEAD").split()
    assert shown[:3] == ["Astro", "Runtime", "11.9.0"]
    assert sorted(shown[3:]) == ["CHANGELOG.md", "data/compatibility.toml"]
    assert git(project, "cat-file", "-t", "runtime-11.9.0").strip() == "tag"
    assert git(project, "status", "--porcelain") == ""


def test_a_release_the_policy_refuses_writes_nothing(invoke: Invoke, project: Path) -> None:
    before = snapshot_of(project)
    code, out, err = run(
        invoke,
        project,
        "release",
        "patch",
        "--set",
        "apache-airflow-providers-google==11.0.0",
        "--unset",
        "astro-sdk-python",
        "--date",
        DAY,
        "--yes",
    )
    assert code == 3
    assert "11.8.1: a patch release is not enough" in err
    assert "apache-airflow-providers-google 10.19.0 -> 11.0.0 is a major change: major" in err
    assert "astro-sdk-python 1.8.1 removed: major" in err
    assert "REFUSED" in out
    assert snapshot_of(project) == before


def test_without_a_terminal_yes_is_required(invoke: Invoke, project: Path) -> None:
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY)
    assert code == 2
    assert "confirm with --yes" in err
    assert snapshot_of(project) == before


def test_dry_run_writes_nothing(invoke: Invoke, project: Path) -> None:
    before = snapshot_of(project)
    code, out, _ = run(
        invoke, project, "release", "minor", "--date", DAY, "--dry-run", "-f", "json"
    )
    assert code == 0
    assert json.loads(out)["dry_run"] is True
    assert snapshot_of(project) == before


def test_a_patch_on_an_older_line(invoke: Invoke, project: Path) -> None:
    code, out, err = run(
        invoke, project, "release", "patch", "--line", "9.10", "--date", DAY, "--yes", "-f", "json"
    )
    assert code == 0, err
    assert (json.loads(out)["version"], json.loads(out)["previous"]) == ("9.10.3", "9.10.2")
    log = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    order = [line for line in log.splitlines() if line.startswith("## Astro Runtime 9.1")]
    assert order.index("## Astro Runtime 9.10.3") == order.index("## Astro Runtime 9.11.0") + 1


def test_fragments_feed_the_policy_and_the_notes_and_are_consumed(
    invoke: Invoke, project: Path
) -> None:
    code, out, err = run(invoke, project, "changes", "add", "feature", "Deferrable `sensors` *now*")
    assert code == 0, err
    fragment = Path(out.strip())
    assert fragment.parent == project / "changes" and fragment.name.endswith(".feature.md")
    code, _, err = run(invoke, project, "changes", "add", "security", "Fixed CVE-2024-12345")
    assert code == 0, err
    refused = run(invoke, project, "release", "patch", "--date", DAY, "--yes")
    assert refused[0] == 3  # a feature needs a minor release
    assert "feature" in refused[2]
    code, out, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes", "-f", "json")
    assert code == 0, err
    assert not list((project / "changes").glob("*.md"))
    assert release_entry(project, "11.9.0")["notes"] == [
        ("feature", "Deferrable `sensors` *now*"),
        ("security", "Fixed CVE-2024-12345"),
    ]
    section = (project / "CHANGELOG.md").read_text(encoding="utf-8").split("\n## ")[1]
    assert "CVE-2024-12345" in section and "cve.org" in section
    assert "*now*" not in section  # user text is escaped, never markup


def test_release_candidates_then_promotion(invoke: Invoke, project: Path) -> None:
    code, out, err = run(
        invoke, project, "release", "minor", "--pre", "rc", "--date", DAY, "--yes", "-f", "json"
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "11.9.0-rc.1"
    run(invoke, project, "changes", "add", "bugfix", "Fixed the thing the candidate broke")
    code, out, err = run(
        invoke, project, "release", "minor", "--pre", "rc", "--date", DAY, "--yes", "-f", "json"
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "11.9.0-rc.2"
    code, _, err = run(
        invoke, project, "release", "patch", "--line", "11.9", "--date", DAY, "--yes"
    )
    assert code == 2  # 11.9 has only candidates: nothing to patch yet
    assert "only release candidates (up to 11.9.0-rc.2); promote one" in err
    code, _, err = run(invoke, project, "release", "promote", "11.9.0-rc.1", "--yes")
    assert code == 2 and "promote 11.9.0-rc.2" in err
    code, out, err = run(
        invoke, project, "release", "promote", "11.9.0-rc.2", "--date", "2024-08-27", "--yes"
    )
    assert code == 0, err
    final = release_entry(project, "11.9.0")
    assert final["packages"] == release_entry(project, "11.9.0-rc.2")["packages"]
    assert final["notes"] == [("bugfix", "Fixed the thing the candidate broke")]
    log = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Astro Runtime 11.9.0\n" in log
    assert "## Astro Runtime 11.9.0-rc." not in log  # folded into the final section
    section = log.split("## Astro Runtime 11.9.0\n", 1)[1].split("\n## ", 1)[0]
    assert "Fixed the thing the candidate broke" in section
    assert "August 27, 2024" in section
    code, _, err = run(invoke, project, "notes", "--check")
    assert code == 0, err


def test_an_existing_tag_is_refused_before_anything_is_written(
    invoke: Invoke, project: Path
) -> None:
    git(project, "tag", "-a", "runtime-11.9.0", "-m", "someone was first")
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes", "--git")
    assert code == 2
    assert "runtime-11.9.0 already exists" in err
    assert snapshot_of(project) == before


def test_a_dirty_tree_is_refused_with_git(invoke: Invoke, project: Path) -> None:
    (project / "CHANGELOG.md").write_text("# Astro Runtime release notes\n\nedited\n")
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes", "--git")
    assert code == 2
    assert "uncommitted changes" in err
    assert snapshot_of(project) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "apache-airflow-providers-amazn==8.28.0"), "did you mean"),
        (("--set", "foo"), "is not PKG==VERSION"),
        (("--set", "apache-airflow-providers-amazon==eight"), "PEP 440"),
        (("--unset", "not-there"), "'not-there' is not pinned in 11.8.0"),
        (("--set", "apache-airflow==2.9.4"), "not a package pin: use --airflow"),
        (("--add", "apache-airflow==2.10.0"), "not a package pin: use --airflow"),
        (
            (
                "--set",
                "apache-airflow-providers-amazon==8.28.0",
                "--set",
                "apache-airflow-providers-amazon==8.29.0",
            ),
            "set twice",
        ),
        (("--date", "20240820"), "--date '20240820' is not a date"),
        (("--date", "2024-06-01"), "is before 2024-08-09, when 11.8.0"),
        (("--channel", "lts"), "only a major release starts one"),
        (("--airflow", "2.10.0"), "needs a major release"),
        (("--airflow", "2.9.1"), "goes backwards"),
        (("--line", "13"), "line '13' has no releases"),
        (("--pre", "beta"), "not a prerelease label"),
        (("--date", "someday"), "--date 'someday' is not a date"),
    ],
)
def test_bad_input_is_exit_2_and_writes_nothing(
    invoke: Invoke, project: Path, args: tuple[str, ...], message: str
) -> None:
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes", *args)
    assert code == 2, err
    assert message in err
    assert err.startswith("astroctl: error: ") and "Traceback" not in err
    assert snapshot_of(project) == before


def test_a_line_past_its_end_of_maintenance_needs_allow_eol(invoke: Invoke, project: Path) -> None:
    code, _, err = run(invoke, project, "release", "patch", "--line", "8", "--date", DAY, "--yes")
    assert code == 2
    assert "line 8 reached its end of maintenance on 2023-11-30" in err and "--allow-eol" in err
    code, out, err = run(
        invoke,
        project,
        "release",
        "patch",
        "--line",
        "8",
        "--date",
        DAY,
        "--yes",
        "--allow-eol",
        "-f",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "8.10.1"


def test_a_major_release_starts_a_line(invoke: Invoke, project: Path) -> None:
    code, _, err = run(invoke, project, "release", "major", "--date", DAY, "--yes")
    assert code == 2 and "needs its Airflow version" in err
    code, _, err = run(
        invoke, project, "release", "major", "--airflow", "2.9.3", "--date", DAY, "--yes"
    )
    assert code == 2 and "already the Airflow of line 11" in err
    code, out, err = run(
        invoke,
        project,
        "release",
        "major",
        "--airflow",
        "2.10.0",
        "--channel",
        "lts",
        "--end-of-maintenance",
        "2026-06-30",
        "--date",
        DAY,
        "--yes",
        "-f",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "12.0.0"
    matrix = store.load(project / "data" / "compatibility.toml")
    line = matrix.lines[12]
    assert (line.channel, line.end_of_maintenance.isoformat()) == ("lts", "2026-06-30")
    assert line.python == matrix.lines[11].python


def test_release_check_is_a_ci_gate(invoke: Invoke) -> None:
    ok = invoke("release", "check", "9.10.0", "9.11.0", "-f", "json", matrix=SNAPSHOT)
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == {
        "from": "9.10.0",
        "to": "9.11.0",
        "bump": "minor",
        "required": "minor",
        "ok": True,
        "reasons": json.loads(ok.stdout)["reasons"],
    }
    bad = invoke("release", "check", "6.0.3", "6.0.4", "-f", "json", matrix=SNAPSHOT)
    assert bad.exit_code == 3
    assert json.loads(bad.stdout)["required"] == "minor"
    assert "architecture arm64 added: minor" in json.loads(bad.stdout)["reasons"]


def test_release_audit_of_the_snapshot(invoke: Invoke) -> None:
    result = invoke("release", "audit", "-f", "json", matrix=SNAPSHOT)
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["checked"] == 111
    assert len(payload["violations"]) == 36
    clean = invoke("release", "audit", "10", "11", matrix=SNAPSHOT)
    assert clean.exit_code == 0, clean.stderr


def test_notes_of_a_release_and_write_is_idempotent(invoke: Invoke, tmp_path: Path) -> None:
    shown = invoke("notes", "9.2.0", matrix=SNAPSHOT)
    assert shown.exit_code == 0
    assert shown.stdout.startswith("## Astro Runtime 9.2.0\n")
    target = tmp_path / "CHANGELOG.md"
    for _ in range(2):
        written = invoke("notes", "9.2.0", "--write", str(target), matrix=SNAPSHOT)
        assert written.exit_code == 0, written.stderr
    text = target.read_text(encoding="utf-8")
    assert text.count("## Astro Runtime 9.2.0\n") == 1
    data = json.loads(invoke("notes", "9.2.0", "-f", "json", matrix=SNAPSHOT).stdout)
    assert data["version"] == "9.2.0"


def test_notes_check_finds_a_drifted_section(invoke: Invoke, project: Path) -> None:
    assert run(invoke, project, "notes", "--check")[0] == 0
    path = project / "CHANGELOG.md"
    path.write_text(path.read_text(encoding="utf-8").replace("2.9.3", "2.9.4", 1))
    code, _, err = run(invoke, project, "notes", "--check")
    assert code == 3
    assert "11.8.0" in err


def test_changes_add_refuses_an_unknown_type(invoke: Invoke, project: Path) -> None:
    code, _, err = run(invoke, project, "changes", "add", "bugfx", "x")
    assert code == 2
    assert "did you mean 'bugfix'?" in err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("oops.bugfx.md", "x", "bugfix"),
        ("empty.bugfix.md", "", "empty"),
        ("latin.bugfix.md", b"caf\xe9", "UTF-8"),
    ],
)
def test_a_bad_fragment_stops_the_release(
    invoke: Invoke, project: Path, name: str, text: str | bytes, message: str
) -> None:
    (project / "changes").mkdir()
    path = project / "changes" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes")
    assert code == 2, err
    assert name in err and message in err
    assert snapshot_of(project) == before


def test_a_changelog_that_cannot_be_parsed_stops_the_release(invoke: Invoke, project: Path) -> None:
    path = project / "CHANGELOG.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Unreleased\n\n- stuff\n")
    before = snapshot_of(project)
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--yes")
    assert code == 2, err
    assert "CHANGELOG.md" in err and "line" in err
    assert snapshot_of(project) == before


def test_a_final_after_candidates_folds_their_notes(invoke: Invoke, project: Path) -> None:
    run(invoke, project, "changes", "add", "breaking", "Dropped Python 3.8 images")
    code, out, err = run(
        invoke,
        project,
        "release",
        "major",
        "--pre",
        "rc",
        "--airflow",
        "2.10.0",
        "--date",
        DAY,
        "--yes",
        "-f",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "12.0.0-rc.1"
    code, out, err = run(
        invoke, project, "release", "major", "--pre", "rc", "--date", DAY, "--yes", "-f", "json"
    )
    assert code == 0, err  # a line holding only its candidates gets the next one
    assert json.loads(out)["version"] == "12.0.0-rc.2"
    code, out, err = run(invoke, project, "release", "major", "--date", DAY, "--yes", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["version"] == "12.0.0"
    assert release_entry(project, "12.0.0")["notes"] == [("breaking", "Dropped Python 3.8 images")]
    log = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Astro Runtime 12.0.0-rc." not in log
    assert "Dropped Python 3.8 images" in log.split("## Astro Runtime 12.0.0\n", 1)[1]


def test_a_yanked_candidate_is_not_promoted(invoke: Invoke, project: Path) -> None:
    run(invoke, project, "release", "minor", "--pre", "rc", "--date", DAY, "--yes")
    path = project / "data" / "compatibility.toml"
    text = path.read_text(encoding="utf-8").replace(
        'version = "11.9.0-rc.1"\n', 'version = "11.9.0-rc.1"\nyanked = "broken build"\n'
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = run(invoke, project, "release", "promote", "11.9.0-rc.1", "--date", DAY, "--yes")
    assert code == 2
    assert "11.9.0-rc.1 is yanked (broken build); it cannot be promoted" in err


def test_a_broken_changelog_fails_the_dry_run_too(invoke: Invoke, project: Path) -> None:
    (project / "CHANGELOG.md").write_text("garbage\n", encoding="utf-8")
    code, _, err = run(invoke, project, "release", "minor", "--date", DAY, "--dry-run")
    assert code == 2
    assert "CHANGELOG.md" in err


def test_changes_add_refuses_the_embedded_matrix(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("changes", "add", "bugfix", "x", matrix=None)
    assert result.exit_code == 2
    assert "refusing to write the embedded default" in result.stderr
    assert not (REPO / "changes").exists()


def test_notes_check_without_a_changelog_says_so(invoke: Invoke, project: Path) -> None:
    (project / "CHANGELOG.md").unlink()
    code, _, err = run(invoke, project, "notes", "--check")
    assert code == 2
    assert "no changelog to check" in err


def test_audit_latest_audits_one_release(invoke: Invoke) -> None:
    result = invoke("release", "audit", "latest", "-f", "json", matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["checked"] == 1
