"""Lock a pip resolution to a constraint set's hashes (the builder stage's install.sh runs it).

    python lock_requirements.py strip CONSTRAINTS OUT
        OUT: the set's pins without their hashes (what pip resolves against: a hash on a
        constraint would switch pip's hash-checking mode on for requirements that have none)
    python lock_requirements.py lock REPORT CONSTRAINTS OUT
        OUT: every package pip's installation report (``pip install --dry-run --report``)
        would install, as ``name==version --hash=...`` with the set's hashes; a package the set
        does not pin, or pins at another version, stops the build with its name

A template of astroctl's image build: it runs inside the image's builder stage with that
stage's Python and imports the standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)")
_HASH = re.compile(r"--hash[=\s]+(\S+)")
USAGE = (
    "usage: lock_requirements.py strip CONSTRAINTS OUT\n"
    "       lock_requirements.py lock REPORT CONSTRAINTS OUT"
)


def canonical(name: str) -> str:
    """A distribution name in its PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text: str) -> list[str]:
    """The lines of a requirements file, ``\\`` continuations joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    found = []
    for line in joined:
        code = re.sub(r"(^|\s)#.*$", "", line).strip()
        if code:
            found.append(code)
    return found


def parse_set(text: str) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """name -> (version, the requirement without its hashes, hashes) for every pin."""
    pins: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for line in logical_lines(text):
        match = _NAME.match(line)
        if match is None:
            continue
        requirement = line.split(" --hash", 1)[0].strip()
        pins[canonical(match[1])] = (match[2], requirement, tuple(_HASH.findall(line)))
    return pins


def same_version(left: str, right: str) -> bool:
    """Whether two versions are equal under PEP 440 (``1.0`` is ``1.0.0``), with the
    ``packaging`` that pip carries; as strings if it is not there."""
    try:
        from pip._vendor.packaging.version import InvalidVersion, Version
    except ImportError:
        return left == right
    try:
        return bool(Version(left) == Version(right))
    except InvalidVersion:
        return left == right


def strip(constraints: Path, out: Path) -> None:
    pins = parse_set(constraints.read_text(encoding="utf-8"))
    out.write_text("".join(f"{pin[1]}\n" for pin in pins.values()), encoding="utf-8")


def lock(report: Path, constraints: Path, out: Path) -> None:
    pins = parse_set(constraints.read_text(encoding="utf-8"))
    installs = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    lines: list[str] = []
    problems: list[str] = []
    for item in installs:
        metadata = item.get("metadata", {})
        name, version = canonical(str(metadata.get("name", ""))), str(metadata.get("version", ""))
        pinned = pins.get(name)
        if pinned is None:
            problems.append(f"{name}=={version} is needed, but the constraint set does not pin it")
        elif not same_version(pinned[0], version):
            problems.append(f"{name}=={version} is needed, but the set pins {name}=={pinned[0]}")
        elif not pinned[2]:
            problems.append(f"{name}=={version}: the constraint set lists no hash for it")
        else:
            hashes = " ".join(f"--hash={digest}" for digest in pinned[2])
            lines.append(f"{name}=={version} {hashes}\n")
    if problems:
        raise SystemExit(
            "lock_requirements.py: the constraint set cannot lock this installation:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    out.write_text("".join(sorted(lines)), encoding="utf-8")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[0] == "strip":
        strip(Path(argv[1]), Path(argv[2]))
    elif len(argv) == 4 and argv[0] == "lock":
        lock(Path(argv[1]), Path(argv[2]), Path(argv[3]))
    else:
        raise SystemExit(USAGE)


if __name__ == "__main__":
    main(sys.argv[1:])
