"""The lock file's two jobs: write it (``make lock``) and check that it still matches
pyproject.toml (every ``make demo`` and ``make test``).

The lock, ``requirements.lock``, is made by uv (``uv pip compile --generate-hashes``): every
package ``.venv`` gets, runtime and dev, direct and transitive, at one exact version with the
hashes of its files, so pip refuses anything else. Its first line records a digest of the
dependency ranges in pyproject.toml; when those ranges change and the lock does not, the check
fails with one line that says what to run. Standard library only: it runs before ``.venv``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
DIGEST_PREFIX = "# pyproject-dependencies-sha256: "


def dependency_digest() -> str:
    """A digest of what the lock is made from: Python's bound and every dependency range."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            extra: sorted(requirements)
            for extra, requirements in sorted(project.get("optional-dependencies", {}).items())
        },
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def check() -> int:
    if not LOCK.exists():
        print("requirements.lock is missing: run `make lock`", file=sys.stderr)
        return 1
    first = LOCK.read_text(encoding="utf-8").splitlines()[0]
    if first != DIGEST_PREFIX + dependency_digest():
        print(
            "requirements.lock no longer matches pyproject.toml's dependencies: "
            "run `make lock` and commit requirements.lock",
            file=sys.stderr,
        )
        return 1
    return 0


def write(uv: str, *extra_args: str) -> int:
    compiled = subprocess.run(
        [
            uv,
            "pip",
            "compile",
            str(PYPROJECT.name),
            "--extra",
            "dev",
            "--generate-hashes",
            "--python-version",
            "3.11",
            "--universal",
            "--no-header",
            "--quiet",
            *extra_args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if compiled.returncode != 0:
        sys.stderr.write(compiled.stderr)
        return compiled.returncode
    header = (
        f"{DIGEST_PREFIX}{dependency_digest()}\n"
        "# Made by `make lock` (uv pip compile --generate-hashes); do not edit by hand.\n"
        "# `make demo` and `make test` install exactly these versions with pip --require-hashes.\n"
    )
    LOCK.write_text(header + compiled.stdout, encoding="utf-8")
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["check"]
    if command == "check":
        sys.exit(check())
    if command == "write" and rest:
        sys.exit(write(*rest))
    print("usage: lock.py check | write UV [uv pip compile options]", file=sys.stderr)
    sys.exit(2)
