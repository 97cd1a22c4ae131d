"""Startup cost of astroctl against a bare one-command Typer app, measured side by side.

Usage::

    .venv/bin/python benchmarks/startup.py [--rounds 20] [--warmup 2] [--check]

Every measurement is a fresh subprocess of the *same* Python (``sys.executable``), started through
the same kind of launcher: ``python SCRIPT ARGS``. For astroctl, SCRIPT is the console script
installed next to ``sys.executable`` (``bin/astroctl``, a small Python file written by the
installer); when there is none (e.g. Windows, where it is an .exe), a launcher identical to it is
written to a temporary directory. The bare app is a tiny script in a temporary directory. So the
two sides pay the same interpreter start, ``site`` and script-running cost, and the ratio shows
only what astroctl adds: its imports, its Typer app and its work.

Commands: the bare app, ``astroctl --version``, ``matrix show``, ``release minor --dry-run``
(a whole release plan: policy, diff, the new matrix checked) and ``notes --check`` (the release
notes of the whole history compared with CHANGELOG.md; its target is absolute, under 1 s).
They run interleaved (round 1: bare, --version, show ...; round 2 starts one later, ...) so that
machine noise lands on every command alike. Reported: median and min wall time per command and the
median/median ratio to the bare app, PASS when it is at most the target (1.3x by default).

Exit status: 0, unless ``--check`` is given and a target is missed (then 1). 2 when a command
fails to run at all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT_MATRIX = REPO / "data" / "compatibility.toml"
TARGET = 1.3

BARE_APP = """\
import typer

app = typer.Typer()


@app.command()
def main() -> None:
    print("ok")


app()
"""

# The same code an installer writes into bin/astroctl (see [project.scripts] in pyproject.toml).
LAUNCHER = """\
import sys

from astroctl.cli import main

if __name__ == "__main__":
    sys.argv[0] = sys.argv[0].removesuffix(".exe")
    sys.exit(main())
"""


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    baseline: bool = False
    limit: float | None = None  # an absolute target in seconds instead of the ratio


@dataclass(frozen=True)
class Timing:
    command: Command
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)


def benchmark_env() -> dict[str, str]:
    """The environment every run gets: a fixed, colourless terminal, no matrix override."""
    env = dict(os.environ)
    env.update(NO_COLOR="1", COLUMNS="200", LINES="50", TERM="dumb")
    for name in (
        "FORCE_COLOR",
        "ASTROCTL_MATRIX",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPROFILEIMPORTTIME",
    ):
        env.pop(name, None)
    return env


def console_script() -> Path | None:
    """The ``astroctl`` console script next to this Python, when it is a Python file."""
    candidate = Path(sys.executable).parent / "astroctl"
    try:
        with candidate.open("rb") as handle:
            first = handle.readline()
    except OSError:
        return None
    return candidate if first.startswith(b"#!") and b"python" in first else None


def astroctl_launcher(workdir: Path) -> tuple[Path, str]:
    """The script that starts astroctl, and how it was chosen."""
    script = console_script()
    if script is not None:
        return script, f"console script {script}"
    fallback = workdir / "astroctl_launcher.py"
    fallback.write_text(LAUNCHER, encoding="utf-8")
    return fallback, f"no Python console script next to {sys.executable}; generated {fallback}"


def run_once(command: Command, env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    completed = subprocess.run(
        command.argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.stderr.write(
            f"startup.py: {command.name!r} exited {completed.returncode}:\n"
            f"{completed.stderr.decode(errors='replace')}"
        )
        raise SystemExit(2)
    return elapsed


def measure(
    commands: list[Command], rounds: int, warmup: int, env: dict[str, str], cwd: Path
) -> list[Timing]:
    """Run every command ``rounds`` times, interleaved, after ``warmup`` untimed rounds."""
    for _ in range(warmup):  # fills the page cache and writes any missing .pyc files
        for command in commands:
            run_once(command, env, cwd)
    samples: dict[str, list[float]] = {c.name: [] for c in commands}
    for index in range(rounds):
        shift = index % len(commands)  # rotate the order so no command always runs first
        for command in commands[shift:] + commands[:shift]:
            samples[command.name].append(run_once(command, env, cwd))
    return [Timing(c, tuple(samples[c.name])) for c in commands]


def report(timings: list[Timing], target: float) -> bool:
    """Print the table; whether every command met the target."""
    base = next(t for t in timings if t.command.baseline)
    print(f"{'command':<28} {'median':>9} {'min':>9} {'ratio':>7} {'min ratio':>10}  verdict")
    passed = True
    for timing in timings:
        ratio = timing.median / base.median
        min_ratio = timing.minimum / base.minimum
        if timing.command.baseline:
            verdict = "(baseline)"
        elif timing.command.limit is not None:
            ok = timing.median < timing.command.limit
            passed = passed and ok
            verdict = f"{'PASS' if ok else 'FAIL'} (target < {timing.command.limit:.1f}s)"
        else:
            ok = ratio <= target
            passed = passed and ok
            verdict = f"{'PASS' if ok else 'FAIL'} (target <= {target:.2f}x)"
        median_ms, min_ms = timing.median * 1000, timing.minimum * 1000
        print(
            f"{timing.command.name:<28} {median_ms:>7.1f}ms {min_ms:>7.1f}ms"
            f" {ratio:>6.2f}x {min_ratio:>9.2f}x  {verdict}"
        )
    return passed


def loadavg() -> str:
    """The 1/5/15-minute load averages: a busy machine inflates absolute times."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (default: 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default: 2)")
    parser.add_argument(
        "--target", type=float, default=TARGET, help=f"max ratio to the bare app ({TARGET})"
    )
    parser.add_argument("--matrix", type=Path, default=PROJECT_MATRIX, help="matrix for show")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be >= 1 and --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    matrix: Path = args.matrix.resolve()
    if not matrix.is_file():
        sys.stderr.write(f"startup.py: {matrix}: no such matrix file\n")
        return 2
    env = benchmark_env()
    with tempfile.TemporaryDirectory(prefix="astroctl-bench-") as tmp:
        workdir = Path(tmp)
        bare = workdir / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        launcher, how = astroctl_launcher(workdir)
        python = sys.executable
        commands = [
            Command("bare typer app", (python, str(bare)), baseline=True),
            Command("astroctl --version", (python, str(launcher), "--version")),
            Command(
                "astroctl matrix show",
                (python, str(launcher), "--matrix", str(matrix), "matrix", "show"),
            ),
            Command(
                "release minor --dry-run",
                (
                    *(python, str(launcher), "--matrix", str(matrix), "release", "minor"),
                    *("--dry-run", "--allow-eol", "--date", "2024-08-20"),
                ),
            ),
            Command(
                "notes --check (whole history)",
                (python, str(launcher), "--matrix", str(matrix), "notes", "--check"),
                limit=1.0,
            ),
        ]
        print(f"python:   {python} ({sys.version.split()[0]})")
        print(f"launcher: python SCRIPT for both sides; astroctl via {how}")
        print(f"matrix:   {matrix}")
        print(f"rounds:   {args.rounds} interleaved, after {args.warmup} warm-up round(s)")
        print(f"load:     {loadavg()} (1/5/15-minute averages at start)\n")
        timings = measure(commands, args.rounds, args.warmup, env, workdir)
    passed = report(timings, args.target)
    print(f"\nresult: {'PASS' if passed else 'FAIL'}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
