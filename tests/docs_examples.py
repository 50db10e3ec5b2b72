"""The examples in the README, docs/cli.md and docs/api.md, read back out of the Markdown and
run for real.

A fenced block holds examples in one of two shapes:

- a transcript (docs/cli.md): ``$ command`` lines, each followed by the output it prints
  (stdout and stderr, as a terminal shows them). In the expected output a line ``...`` stands
  for any number of lines, and ``...`` inside a line for any text, so long tables and JSON may
  be trimmed; everything else must match exactly (trailing spaces aside).
- a script (the README's ``sh`` blocks): one command per line with an optional ``# comment``;
  each must exit 0.

HTML comments on the lines before a block steer it (they do not show on the page):
``<!-- docs-test: skip (why) -->`` leaves it out (a server that never returns);
``<!-- docs-test: serve [PORT] -->`` starts ``saldo serve`` on a free port first and points
the block's ``127.0.0.1:PORT`` (8000 by default) at it; ``<!-- docs-test: setup COMMAND -->``
runs a shell command first, e.g. to copy a file the block reads from ``$DOCS_DATA``
(tests/data/docs); ``<!-- docs-test: script -->`` runs a ``sh`` block as one script (an ``if``
or ``case`` over several lines), whose output is the plain ``text`` block right after it.

All examples of a page run in order in one fresh directory after ``saldo demo --no-serve``,
with the clock frozen (``SALDO_FROZEN_NOW``) so dates are the same on every run. Their
``saldo`` commands go through a fork server (tests/forkserver.py) that has imported Saldo
once; ``SALDO_DOCS_FORK=0`` runs the installed script instead, one new process per command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.forkserver import SOCKET_VARIABLE, write_client

ROOT = Path(__file__).resolve().parent.parent
FROZEN_NOW = "2026-11-22T10:58:00+00:00"
DEMO_PORT = "8000"
DOCS_DATA = ROOT / "tests" / "data" / "docs"

_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(\w+)(.*?)-->\s*$")
_PROMPT = "$ "
_ELLIPSIS = "..."


@dataclass
class Example:
    """One command of a page, with what it must print (None: it must only exit 0)."""

    page: str
    line: int
    command: str
    expected: list[str] | None
    serve: str | None = None
    setup: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Block:
    language: str
    first_line: int
    lines: list[str]
    directives: dict[str, list[str]] = field(default_factory=dict)


def blocks(path: Path) -> Iterator[Block]:
    """The fenced blocks of a Markdown page, with the directive written just before each."""
    text = path.read_text(encoding="utf-8").splitlines()
    directives: dict[str, list[str]] = {}
    current: Block | None = None
    for number, line in enumerate(text, start=1):
        fence = _FENCE.match(line)
        if current is None:
            if fence:
                current = Block(fence.group(1), number + 1, [], directives)
                directives = {}
            elif directive := _DIRECTIVE.match(line):
                directives.setdefault(directive.group(1), []).append(directive.group(2).strip())
            elif line.strip():
                directives = {}
        elif line.strip() == "```":
            yield current
            current = None
        else:
            current.lines.append(line)


def examples(path: Path) -> list[Example]:
    """Every runnable example of a page, in order."""
    page = str(path.relative_to(ROOT))
    found: list[Example] = []
    every = list(blocks(path))
    shown_by_script: set[int] = set()
    for index, block in enumerate(every):
        if "skip" in block.directives or index in shown_by_script:
            continue
        if "script" in block.directives:
            output = every[index + 1]
            shown_by_script.add(index + 1)
            found.append(Example(page, output.first_line - 1, "\n".join(block.lines), output.lines))
            continue
        serve = None
        if "serve" in block.directives:
            serve = block.directives["serve"][0] or DEMO_PORT
        if any(line.startswith(_PROMPT) for line in block.lines):
            block_examples = list(_transcript(page, block, serve=serve))
        elif block.language in {"sh", "bash"}:
            block_examples = list(_script(page, block, serve=serve))
        else:
            continue
        if block_examples and "setup" in block.directives:
            block_examples[0].setup = " && ".join(block.directives["setup"])
        found.extend(block_examples)
    return found


def _transcript(page: str, block: Block, *, serve: str | None) -> Iterator[Example]:
    example: Example | None = None
    for offset, line in enumerate(block.lines):
        if line.startswith(_PROMPT):
            if example is not None:
                yield example
            example = Example(page, block.first_line + offset, line[2:], [], serve)
        elif example is not None and example.expected is not None:
            example.expected.append(line)
    if example is not None:
        yield example


def _script(page: str, block: Block, *, serve: str | None) -> Iterator[Example]:
    for offset, line in enumerate(block.lines):
        command = _without_comment(line).strip()
        if command:
            yield Example(page, block.first_line + offset, command, None, serve)


def _without_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` filled in."""
    expected = [line.rstrip() for line in expected]
    actual = [line.rstrip() for line in actual]
    while expected and not expected[-1]:
        expected.pop()
    while actual and not actual[-1]:
        actual.pop()
    pattern = "\n".join(_line_pattern(line) for line in expected)
    return re.fullmatch(pattern, "\n".join(actual), flags=re.DOTALL) is not None


def _line_pattern(line: str) -> str:
    if line.strip() == _ELLIPSIS:
        return "(?:.*?)"
    return ".*?".join(re.escape(part) for part in line.split(_ELLIPSIS))


class Shell:
    """A fresh demo directory where a page's commands run one after the other."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # as in a clone: `source .venv/bin/activate` and the bundled catalog's paths work
        for name in (".venv", "src"):
            (directory / name).symlink_to(ROOT / name)
        self.last_exit = 0
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("SALDO_")}
        self.env.update(
            SALDO_FROZEN_NOW=FROZEN_NOW,
            COLUMNS="100",
            LC_ALL="C.UTF-8",
            PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{self.env.get('PATH', '')}",
            DOCS_DATA=str(DOCS_DATA),
        )
        self.env.pop("NO_COLOR", None)
        self.env.pop("FORCE_COLOR", None)
        self._server: subprocess.Popen[bytes] | None = None
        self._ports: tuple[str, str] | None = None
        self._forkserver: ForkServer | None = None
        if os.environ.get("SALDO_DOCS_FORK", "1") != "0":
            self._forkserver = ForkServer(self.env, cwd=directory)
            self.env[SOCKET_VARIABLE] = str(self._forkserver.socket)
            self.env["PATH"] = f"{self._forkserver.bin}{os.pathsep}{self.env['PATH']}"

    def run(self, command: str, *, timeout: float = 60) -> tuple[int, list[str]]:
        if self._ports is not None:
            documented, actual = self._ports
            command = command.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{actual}")
        done = subprocess.run(
            # `$?` is the exit code of the example before, as in the terminal
            ["bash", "-c", f"(exit {self.last_exit}); {command}"],
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        self.last_exit = done.returncode
        return done.returncode, done.stdout.decode("utf-8", "replace").splitlines()

    def serve(self, port: int, *, documented: str) -> None:
        """Start ``saldo serve`` on ``port`` and send the curls to the ``documented`` port
        there."""
        # the installed script, not the fork server's client: the server must stop with it
        saldo = shutil.which("saldo", path=str(ROOT / ".venv" / "bin"))
        assert saldo is not None
        self._server = subprocess.Popen(
            [saldo, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=self.directory,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "serve.log").open("wb"),
        )
        self._ports = (documented, str(port))

    @property
    def serving(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        if self._server is not None:
            self._server.terminate()
            self._server.wait(timeout=10)
        if self._forkserver is not None:
            self._forkserver.close()


class ForkServer:
    """tests/forkserver.py running for one page, with its ``saldo`` client in ``bin``."""

    def __init__(self, env: dict[str, str], *, cwd: Path) -> None:
        # A Unix socket's path is short (108 bytes): not under pytest's tmp_path.
        self._folder = Path(tempfile.mkdtemp(prefix="saldo-fork-"))
        self.socket = self._folder / "socket"
        self.bin = self._folder / "bin"
        write_client(self.bin, self.socket)
        self._process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "tests.forkserver", str(self.socket)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=(cwd / "forkserver.log").open("wb"),
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()
        if ready.strip() != b"ready":
            self.close()
            raise AssertionError(f"the fork server did not start: see {cwd / 'forkserver.log'}")

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self._folder, ignore_errors=True)
