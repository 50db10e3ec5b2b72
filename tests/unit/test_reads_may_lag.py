"""Which reads may lag behind the primary (a read replica serves them) is decided in one
place per read, ``with uow.reading(may_lag=...):`` in a use case, and written down in
docs/scaling.md ("Read replicas"). Every module under src/saldo is read with ``ast``:

- only use cases (``saldo.services``) ask for a read that may lag, and each one that does
  is named in docs/scaling.md;
- no token, session or account check is made inside such a read: a sign-in a moment ago,
  or a token revoked a moment ago, must be seen (read-your-writes), so they stay on the
  primary.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "saldo"
SCALING = ROOT / "docs" / "scaling.md"
# Calls that decide who the caller is, or what is theirs: never on a replica.
ON_THE_PRIMARY = frozenset({"signed_in", "own_line", "authenticate_element", "access"})


def _lagging_reads() -> Iterator[tuple[str, str, ast.With]]:
    """Every ``with ….reading(may_lag=X):`` whose X is not the constant False: the module,
    the function it is in, and the block."""
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.With) and any(_may_lag(item) for item in node.items):
                    yield module, function.name, node


def _may_lag(item: ast.withitem) -> bool:
    call = item.context_expr
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return False
    if call.func.attr != "reading":
        return False
    for keyword in call.keywords:
        if keyword.arg == "may_lag":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    return False


def _names_called(block: ast.With) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(block):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def test_only_use_cases_named_in_docs_scaling_read_what_may_lag() -> None:
    found = {(module, function) for module, function, _ in _lagging_reads()}
    assert found, "no read may lag: docs/scaling.md says some do"
    page = SCALING.read_text()
    for module, function in sorted(found):
        assert module.startswith("saldo.services."), f"{module}.{function}"
        assert f"`{function}`" in page, f"{module}.{function} is not in docs/scaling.md"


def test_no_token_session_or_account_check_is_made_in_a_read_that_may_lag() -> None:
    for module, function, block in _lagging_reads():
        checked = _names_called(block) & ON_THE_PRIMARY
        assert not checked, f"{module}.{function} reads {sorted(checked)} on a replica"
