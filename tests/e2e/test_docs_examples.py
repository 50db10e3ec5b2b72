"""Every example in the README, docs/cli.md and docs/api.md is true: each page's commands
run in order in a fresh demo directory (tests/docs_examples.py says how they are read and
compared).

When the output of a command changes on purpose, ``SALDO_DOCS_REWRITE=1 pytest
tests/e2e/test_docs_examples.py`` writes the new output into the page; read the diff before
committing it, and trim long output again with ``...``.
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import pytest

from tests.docs_examples import ROOT, Example, Shell, examples, matches
from tests.serving import free_port

pytestmark = pytest.mark.slow

PAGES = ["README.md", "docs/cli.md", "docs/api.md"]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    error: OSError | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError as refused:
            error = refused
            time.sleep(0.2)
    raise AssertionError(f"saldo serve did not answer on 127.0.0.1:{port}: {error}")


def _rewrite(page: Path, fixes: list[tuple[Example, list[str]]]) -> None:
    """Put each example's actual output in place of the expected one, bottom up."""
    lines = page.read_text(encoding="utf-8").split("\n")
    for example, actual in sorted(fixes, key=lambda fix: fix[0].line, reverse=True):
        assert example.expected is not None
        start = example.line  # the line after the command (lines are numbered from 1)
        lines[start : start + len(example.expected)] = [line.rstrip() for line in actual]
    page.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("page", PAGES)
def test_every_example_on_the_page_prints_what_the_page_says(page: str, tmp_path: Path) -> None:
    path = ROOT / page
    shell = Shell(tmp_path)
    code, output = shell.run("saldo demo --no-serve")
    assert code == 0, "\n".join(output)
    wrong: list[str] = []
    fixes: list[tuple[Example, list[str]]] = []
    try:
        for example in examples(path):
            if example.serve and not shell.serving:
                port = free_port()
                shell.serve(port, documented=example.serve)
                _wait_for(port)
            if example.setup:
                code, output = shell.run(example.setup)
                assert code == 0, f"{example.where}: setup failed:\n" + "\n".join(output)
            code, actual = shell.run(example.command)
            if example.expected is None:
                if code != 0:
                    wrong.append(
                        f"{example.where}: `{example.command}` exited {code}:\n  "
                        + "\n  ".join(actual[-5:])
                    )
                continue
            # a refusal must exit non-zero; a non-zero exit without one (`lines import`'s 3
            # for rejected rows) is shown by the page's own `echo $?`
            refused = any(line.startswith("saldo: error:") for line in example.expected)
            if (refused and code == 0) or not matches(example.expected, actual):
                fixes.append((example, actual))
                wrong.append(
                    f"{example.where}: `{example.command}` (exit {code}) printed:\n  "
                    + "\n  ".join(actual)
                )
    finally:
        shell.close()
    if fixes and os.environ.get("SALDO_DOCS_REWRITE") == "1":
        _rewrite(path, fixes)
    assert not wrong, f"{len(wrong)} example(s) of {page} differ:\n" + "\n".join(wrong)
