"""Imports go one way: channels → services → domain, adapters → services.ports + domain.

Every module under src/saldo is read with ``ast`` (nothing is imported), and each import is
checked against the rule of the importing module's layer. An import inside a function or an
``if TYPE_CHECKING:`` block counts like any other.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "saldo"
ROOT = "saldo"


@dataclass(frozen=True)
class Layer:
    package: str
    may_import: tuple[str, ...]
    # Third-party libraries it may import; None means any.
    libraries: frozenset[str] | None


LAYERS = (
    # The core issue puts locale money parsing (Babel) and MSISDN validation (phonenumbers)
    # in the domain: both are pure libraries without I/O.
    Layer("saldo.domain", ("saldo.domain",), frozenset({"babel", "phonenumbers"})),
    Layer("saldo.services", ("saldo.domain", "saldo.services"), frozenset()),
    # Adapters see the ports only (services/ports/, all of them in one place).
    Layer(
        "saldo.adapters",
        ("saldo.domain", "saldo.services.ports", "saldo.catalog", "saldo.adapters"),
        None,
    ),
    Layer("saldo.catalog", ("saldo.domain", "saldo.catalog"), None),
    # Message catalogs and people's formats: used by channels to render replies.
    Layer("saldo.i18n", ("saldo.i18n",), None),
    Layer("saldo.config", ("saldo.domain", "saldo.config"), None),
    # The few settings a balance read takes without Pydantic: the standard library only.
    Layer("saldo.plain_settings", (), frozenset()),
    Layer(
        "saldo.bootstrap",
        (
            "saldo.domain",
            "saldo.services",
            "saldo.adapters",
            "saldo.catalog",
            "saldo.config",
            "saldo.plain_settings",
            "saldo.bootstrap",
        ),
        None,
    ),
    # Channels reach adapters only through bootstrap.
    Layer(
        "saldo.channels",
        (
            ROOT,
            "saldo.domain",
            "saldo.services",
            "saldo.catalog",
            "saldo.config",
            "saldo.bootstrap",
            "saldo.i18n",
            "saldo.channels",
        ),
        None,
    ),
    Layer("saldo.__main__", ("saldo.channels",), frozenset()),
    Layer(ROOT, (), frozenset()),
)


def belongs_to(module: str, package: str) -> bool:
    """True when ``module`` is ``package`` or inside it; the root package holds only itself."""
    if package == ROOT:
        return module == ROOT
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> Layer | None:
    matching = [layer for layer in LAYERS if belongs_to(module, layer.package)]
    return max(matching, key=lambda layer: len(layer.package), default=None)


def is_saldo_module(name: str) -> bool:
    path = SRC.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """The modules that ``source`` (the text of ``module``) imports, relative imports made
    absolute; ``from saldo.x import y`` counts as ``saldo.x.y`` when that is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_base(node, module=module, is_package=is_package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if is_saldo_module(candidate) else base)
    return found


def absolute_base(node: ast.ImportFrom, *, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def wrong_arrows(module: str, imported: Iterable[str]) -> list[str]:
    """One line per import of ``module`` that goes against its layer's rule."""
    layer = layer_of(module)
    if layer is None:
        return [f"{module} is in no layer; add it to LAYERS"]
    wrong = []
    for name in sorted(imported):
        top = name.split(".")[0]
        if top == ROOT:
            allowed = any(belongs_to(name, package) for package in layer.may_import)
            rule = f"{layer.package} may import only {', '.join(layer.may_import) or 'no saldo'}"
        elif top in sys.stdlib_module_names:
            continue
        else:
            allowed = layer.libraries is None or top in layer.libraries
            rule = f"{layer.package} may use only {sorted(layer.libraries or ())} besides stdlib"
        if not allowed:
            wrong.append(f"{module} imports {name} ({rule})")
    return wrong


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def check_file(path: Path) -> list[str]:
    module = module_name(path)
    source = path.read_text(encoding="utf-8")
    imported = imported_modules(source, module=module, is_package=path.name == "__init__.py")
    return wrong_arrows(module, imported)


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_a_module_imports_only_what_its_layer_allows(path: Path) -> None:
    assert check_file(path) == []


def test_every_module_under_src_is_checked_and_in_a_layer() -> None:
    modules = {module_name(path) for path in MODULES}

    assert {"saldo", "saldo.domain.money", "saldo.services.ports", "saldo.bootstrap"} <= modules
    assert [module for module in sorted(modules) if layer_of(module) is None] == []


# -- the checker itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "wrong"),
    [
        (
            "saldo.domain.money",
            "from saldo.adapters.clock import SystemClock\n",
            "saldo.adapters.clock",
        ),
        ("saldo.domain.money", "from saldo import services\n", "saldo.services"),
        ("saldo.domain.money", "import sqlalchemy\n", "sqlalchemy"),
        ("saldo.domain.money", "def f():\n    import yaml\n", "yaml"),
        ("saldo.services.top_up", "from ..adapters.db import engine\n", "saldo.adapters.db.engine"),
        ("saldo.services.top_up", "import pydantic\n", "pydantic"),
        ("saldo.services.top_up", "from saldo.bootstrap import Saldo\n", "saldo.bootstrap"),
        (
            "saldo.services.top_up",
            "from saldo.catalog.schema import CatalogError\n",
            "saldo.catalog.schema",
        ),
        (
            "saldo.adapters.clock",
            "from saldo.services.top_up import top_up\n",
            "saldo.services.top_up",
        ),
        ("saldo.adapters.clock", "import saldo.channels.cli.render\n", "saldo.channels.cli.render"),
        (
            "saldo.catalog.schema",
            "from saldo.services.ports import UnitOfWork\n",
            "saldo.services.ports",
        ),
        (
            "saldo.channels.cli.main",
            "from saldo.adapters.clock import FixedClock\n",
            "saldo.adapters.clock",
        ),
        (
            "saldo.bootstrap",
            "from saldo.channels.cli.main import main\n",
            "saldo.channels.cli.main",
        ),
        (
            "saldo.domain",
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from saldo.services import ports\n",
            "saldo.services.ports",
        ),
    ],
)
def test_the_checker_catches_a_wrong_arrow(module: str, source: str, wrong: str) -> None:
    imported = imported_modules(source, module=module, is_package=module == "saldo.domain")

    problems = wrong_arrows(module, imported)

    assert len(problems) == 1
    assert problems[0].startswith(f"{module} imports {wrong} ")


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("saldo.domain.money", "from babel.numbers import parse_decimal\nimport re\n"),
        ("saldo.domain.numbering", "import phonenumbers\nfrom .errors import SaldoError\n"),
        ("saldo.services.top_up", "from saldo.domain.money import Money\nfrom . import ports\n"),
        ("saldo.adapters.clock", "from saldo.services.ports import Clock\nimport sqlalchemy\n"),
        ("saldo.adapters.clock", "from saldo.catalog.schema import OperatorSpec\n"),
        (
            "saldo.channels.cli.main",
            "from saldo.bootstrap import Saldo\nfrom saldo import __version__\n",
        ),
        ("saldo.bootstrap", "from saldo.adapters.clock import SystemClock\n"),
    ],
)
def test_the_checker_lets_a_right_arrow_through(module: str, source: str) -> None:
    assert wrong_arrows(module, imported_modules(source, module=module)) == []


def test_a_module_outside_every_layer_is_reported() -> None:
    assert wrong_arrows("saldo.utils", ["re"]) == ["saldo.utils is in no layer; add it to LAYERS"]


# -- channels touch no storage ------------------------------------------------------------------

# What a channel must not hold: the unit of work (made by Saldo.run), the database engine, a
# repository. Payment processors and gateways are the bootstrap's wiring, passed by Saldo.
FORBIDDEN_ATTRIBUTES = frozenset({"uow", "engine", "connection", "payment_providers"})


def storage_touches(source: str) -> list[str]:
    """Where ``source`` (a channel module) reaches for storage: a unit of work, the engine or a
    repository, by attribute, by name or by import."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "UnitOfWork" or alias.name.endswith("Repository"):
                    found.append(f"line {node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.arg) and node.arg == "uow":
            found.append(f"line {node.lineno}: takes a uow")
    return found


CHANNEL_MODULES = [path for path in MODULES if module_name(path).startswith("saldo.channels")]


@pytest.mark.parametrize("path", CHANNEL_MODULES, ids=module_name)
def test_a_channel_touches_no_unit_of_work_engine_or_repository(path: Path) -> None:
    assert storage_touches(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "view = inquire_balance(saldo.uow(), msisdn=m, now=n)\n",
        "with saldo.uow().reading() as found:\n    pass\n",
        "saldo.engine.connect()\n",
        "from saldo.services.ports import UnitOfWork\n",
        "from saldo.services.ports import LineRepository\n",
        "def render(uow, message):\n    pass\n",
        "providers = saldo.payment_providers()\n",
    ],
)
def test_the_storage_check_catches_a_channel_reaching_for_storage(source: str) -> None:
    assert len(storage_touches(source)) == 1


def test_the_storage_check_lets_a_use_case_call_through() -> None:
    source = "view = saldo.run(inquire_balance, msisdn=m, now=saldo.clock.now())\n"

    assert storage_touches(source) == []


USE_CASE_CALLS = frozenset({"run", "run_paying"})


def use_case_calls(source: str) -> dict[str, int]:
    """How many use cases each function (or lambda) of ``source`` calls itself, through
    ``saldo.run`` or ``saldo.run_paying``: calls in a nested function count for that one."""
    counts: dict[str, int] = {}

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                where = f"line {child.lineno}, column {child.col_offset}"
                name = f"{getattr(child, 'name', 'lambda')} ({where})"
                counts[name] = 0
                visit(child, name)
                continue
            called = child.func if isinstance(child, ast.Call) else None
            is_use_case = isinstance(called, ast.Attribute) and called.attr in USE_CASE_CALLS
            if is_use_case and owner is not None:
                counts[owner] += 1
            visit(child, owner)

    visit(ast.parse(source), None)
    return counts


@pytest.mark.parametrize("path", CHANNEL_MODULES, ids=module_name)
def test_a_channel_request_makes_one_use_case_call(path: Path) -> None:
    calls = use_case_calls(path.read_text(encoding="utf-8"))

    assert {name: count for name, count in calls.items() if count > 1} == {}


def test_the_one_call_check_counts_each_function_for_itself() -> None:
    source = (
        "def command(saldo):\n"
        "    line = saldo.run(find_line, msisdn=m)\n"
        "    return saldo.run(show_line, msisdn=line.msisdn)\n"
        "def worker(saldo):\n"
        "    jobs = [lambda: saldo.run(sweep), lambda: saldo.run_paying(renew_due)]\n"
    )

    calls = use_case_calls(source)

    assert calls["command (line 1, column 0)"] == 2
    assert calls["worker (line 4, column 0)"] == 0
    assert sorted(calls.values()) == [0, 1, 1, 2]
