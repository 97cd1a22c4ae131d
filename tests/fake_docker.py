"""A recording fake docker binary for CLI tests (no engine needed).

The approach of ``tests/seams/test_docker.py``: a small executable in a directory appends its
argv and the variables docker reads (DOCKER_BUILDKIT, DOCKER_HOST) as a JSON line to a log,
and prints canned output chosen by rules (argv prefix -> stdout, stderr, exit status). It
answers ``docker version`` with a client version and no engine, and ``docker buildx version``
only when made with ``buildx=True``. It is for argv tests; it does not replace the engine tests.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAKE = """\
#!{python}
import json, os, sys
argv = sys.argv[1:]
with open({log!r}, "a", encoding="utf-8") as log:
    seen = {{k: os.environ.get(k) for k in ("DOCKER_BUILDKIT", "DOCKER_HOST")}}
    log.write(json.dumps({{"argv": argv, "env": seen}}) + "\\n")
with open({rules!r}, encoding="utf-8") as handle:
    rules = json.load(handle)
for rule in rules:
    if argv[: len(rule["prefix"])] == rule["prefix"]:
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("exit", 0))
if argv[:2] == ["buildx", "version"]:
    if {buildx!r}:
        print("github.com/docker/buildx v0.19.3 48d6a39")
        sys.exit(0)
    sys.stderr.write("docker: unknown command: docker buildx\\n")
    sys.exit(1)
if argv[:1] == ["version"]:
    print(json.dumps({{"Client": {{"Version": {client!r}, "ApiVersion": "1.50"}}, "Server": None}}))
    sys.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\\n")
    sys.exit(1)
print("done: " + " ".join(argv))
"""

QUERIES = (["version"], ["buildx", "version"])


@dataclass
class FakeDocker:
    binary: Path
    log: Path
    rules: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls()]

    def actions(self) -> list[list[str]]:
        """The argvs of every call but the read-only queries (version, buildx version)."""
        return [argv for argv in self.argvs() if not any(argv[: len(q)] == q for q in QUERIES)]

    def answer(
        self, prefix: list[str], *, stdout: str = "", stderr: str = "", exit: int = 0
    ) -> None:
        rules = json.loads(self.rules.read_text())
        rules.append({"prefix": prefix, "stdout": stdout, "stderr": stderr, "exit": exit})
        self.rules.write_text(json.dumps(rules))


def make_fake(directory: Path, *, buildx: bool, client: str = "28.2.2") -> FakeDocker:
    directory.mkdir(parents=True, exist_ok=True)
    log, rules, binary = directory / "log.jsonl", directory / "rules.json", directory / "docker"
    rules.write_text("[]")
    binary.write_text(
        FAKE.format(
            python=sys.executable, log=str(log), rules=str(rules), buildx=buildx, client=client
        )
    )
    binary.chmod(0o755)
    return FakeDocker(binary, log, rules)
