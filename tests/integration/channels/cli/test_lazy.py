"""What ``saldo`` imports to start: a command loads what it needs when it runs, so that
``saldo --help`` and ``saldo balance`` do not spend their time importing the database layer's
migrations, the HTTP server or the payment processors' SDKs (docs/performance.md). Checked by
the modules a fresh interpreter has loaded, not by a wall clock."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.core import TyperCommand

from saldo.bootstrap import Saldo
from saldo.channels.cli.lazy import LAZY_COMMANDS
from saldo.services.lines import NewLine, add_line

NEVER_FOR_A_BALANCE = ("alembic", "fastapi", "uvicorn", "stripe", "mercadopago", "jinja2")
NEVER_FOR_HELP = (*NEVER_FOR_A_BALANCE, "sqlalchemy", "pydantic", "yaml")


def _loaded_by(*args: str) -> tuple[int, list[str]]:
    """Run ``saldo ARGS`` in a fresh interpreter; its exit code and every module it loaded."""
    program = (
        "import json, sys\n"
        "from saldo.channels.cli.main import run\n"
        f"code = run({list(args)!r})\n"
        "sys.stderr.write(json.dumps([code, sorted(sys.modules)]))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    code, modules = json.loads(finished.stderr.splitlines()[-1])
    return code, modules


def _packages(modules: list[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


def test_saldo_help_loads_neither_the_database_nor_the_settings_nor_any_processor() -> None:
    # given a fresh interpreter
    # when it runs `saldo --help`
    code, loaded = _loaded_by("--help")

    # then none of the heavy libraries was imported
    assert code == 0
    assert sorted(set(NEVER_FOR_HELP) & _packages(loaded)) == []


def test_a_balance_inquiry_loads_no_migrations_server_or_payment_sdk(saldo_sqlite: Saldo) -> None:
    # given a migrated database with a Claro Colombia line
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo_sqlite.clock.now(),
    )

    # when a fresh interpreter runs `saldo balance` on it
    code, loaded = _loaded_by(
        "--database-url", saldo_sqlite.settings.database_url, "balance", "+573001234567"
    )

    # then it answered without Alembic, the HTTP server or the processors' SDKs
    assert code == 0
    assert sorted(set(NEVER_FOR_A_BALANCE) & _packages(loaded)) == []


@pytest.mark.parametrize("name", list(LAZY_COMMANDS))
def test_each_command_is_listed_with_its_own_help(name: str) -> None:
    # given a command whose module is imported only when it runs
    lazy = LAZY_COMMANDS[name]

    # when it is loaded
    command = lazy.load(name)

    # then `saldo --help` lists it with the same words as its own help starts with
    listed = TyperCommand(name=name, help=lazy.summary)
    assert command.name == name
    for width in (40, 80, 1000):
        assert listed.get_short_help_str(width) == command.get_short_help_str(width)


def _command_tree(*, import_every_module_first: bool) -> object:
    """Every command and sub-command name ``saldo`` offers, as a fresh interpreter sees it."""
    program = (
        "import json, pkgutil, importlib, sys\n"
        "import saldo.channels.cli as cli\n"
        f"if {import_every_module_first!r}:\n"
        "    for found in pkgutil.iter_modules(cli.__path__):\n"
        "        importlib.import_module(f'saldo.channels.cli.{found.name}')\n"
        "from saldo.channels.cli.lazy import LAZY_COMMANDS\n"
        "tree = {}\n"
        "for name, lazy in LAZY_COMMANDS.items():\n"
        "    command = lazy.load(name)\n"
        "    tree[name] = sorted(getattr(command, 'commands', {}))\n"
        "sys.stdout.write(json.dumps(tree))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return json.loads(finished.stdout)


def test_a_command_loaded_on_first_use_has_every_sub_command_other_modules_add_to_it() -> None:
    # given the commands as they are when every CLI module has been imported
    everything = _command_tree(import_every_module_first=True)

    # when each is loaded on first use in a fresh interpreter, as `saldo` does
    on_first_use = _command_tree(import_every_module_first=False)

    # then each has the same sub-commands (`lines usage` comes from the usage module)
    assert on_first_use == everything
    assert isinstance(everything, dict) and "usage" in everything["lines"]
