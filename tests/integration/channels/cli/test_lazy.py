"""What ``saldo`` imports to start: a command loads what it needs when it runs, so that
``saldo --help`` and ``saldo balance`` do not spend their time importing the database layer's
migrations, the HTTP server, the payment processors' SDKs, the gateways, the catalog's schema
or the use cases and repositories of other commands (docs/performance.md, "CLI start").
Checked by the modules a fresh interpreter has loaded, not by a wall clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand

from saldo.bootstrap import Saldo
from saldo.channels.cli.lazy import LAZY_COMMANDS
from saldo.services.lines import NewLine, add_line

NEVER_FOR_A_BALANCE = (
    *("alembic", "fastapi", "uvicorn", "stripe", "mercadopago", "jinja2"),
    # On an SQLite file the balance is read on the standard library's driver; without a .env
    # file the settings are read without pydantic-settings (and the asyncio it imports).
    *("sqlalchemy", "pydantic_settings", "asyncio"),
    # PyYAML reads catalog files; smtplib and urllib.request are the SMTP and Kannel gateways.
    *("yaml", "smtplib", "urllib.request"),
)
NEVER_FOR_HELP = (*NEVER_FOR_A_BALANCE, "pydantic", "phonenumbers")
# Saldo's own modules that a balance inquiry has no use for: other commands' use cases,
# repositories and ports, and a progress bar.
NOT_SALDO_S_FOR_A_BALANCE = (
    "saldo.services.top_up",
    "saldo.services.adjust_balance",
    "saldo.services.outbox",
    "saldo.services.ports.orders",
    "saldo.services.ports.vouchers",
    "saldo.services.ports.outbox",
    "saldo.services.ports.charging",
    "saldo.adapters.db.repositories.orders",
    "saldo.adapters.db.repositories.vouchers",
    "saldo.adapters.db.repositories.movements",
    "saldo.adapters.payments.sandbox",
    "rich.progress",
)
# What builds an operator from its stored catalog entry: not needed once it is kept.
BUILDING_AN_OPERATOR = ("saldo.catalog.schema", "phonenumbers")


# What `saldo balance` does without, run by the entry point as the `saldo` script runs it:
# Typer and the Pydantic it validates arguments with, and the settings' Pydantic model.
NEVER_FOR_A_BALANCE_FROM_THE_ENTRY_POINT = (*NEVER_FOR_A_BALANCE, "typer", "click", "pydantic")


def _loaded_by(
    *args: str, cache_home: Path | None = None, entry: str = "saldo.channels.cli.main"
) -> tuple[int, list[str], str]:
    """Run ``saldo ARGS`` in a fresh interpreter (with operators kept in ``cache_home``, if
    given) through ``entry``'s ``run``; its exit code, every module it loaded and what it
    printed."""
    program = (
        "import json, sys\n"
        f"from {entry} import run\n"
        f"code = run({list(args)!r})\n"
        "sys.stderr.write(json.dumps([code, sorted(sys.modules)]))\n"
    )
    env = dict(os.environ)
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    # Run in this tests' folder, where no .env file is.
    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).parent,
    )
    code, modules = json.loads(finished.stderr.splitlines()[-1])
    return code, modules, finished.stdout


def _packages(modules: list[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


def test_saldo_help_loads_neither_the_database_nor_the_settings_nor_any_processor() -> None:
    # given a fresh interpreter
    # when it runs `saldo --help`
    code, loaded, _ = _loaded_by("--help")

    # then none of the heavy libraries was imported, nor the domain's operators
    assert code == 0
    assert sorted(set(NEVER_FOR_HELP) & _packages(loaded)) == []
    assert "saldo.domain.operator" not in loaded


def test_a_balance_inquiry_loads_no_migrations_server_or_payment_sdk(saldo_sqlite: Saldo) -> None:
    # given a migrated database with a Claro Colombia line
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo_sqlite.clock.now(),
    )

    # when a fresh interpreter runs `saldo balance` on it
    code, loaded, _ = _loaded_by(
        "--database-url", saldo_sqlite.settings.database_url, "balance", "+573001234567"
    )

    # then it answered without SQLAlchemy, Alembic, the HTTP server, the processors' SDKs,
    # the gateways or what only other commands use
    assert code == 0
    assert sorted(set(NEVER_FOR_A_BALANCE) & _packages(loaded)) == []
    assert sorted(set(NOT_SALDO_S_FOR_A_BALANCE) & set(loaded)) == []


def test_the_saldo_script_answers_a_balance_without_typer_or_pydantic(
    saldo_sqlite: Saldo, tmp_path: Path
) -> None:
    # given a migrated database with a Claro Colombia line, its operator already kept
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo_sqlite.clock.now(),
    )
    url = saldo_sqlite.settings.database_url
    cache_home = tmp_path / "cache"
    _loaded_by("--database-url", url, "balance", "+573001234567", cache_home=cache_home)

    # when a fresh interpreter runs `saldo balance` as the `saldo` script does, as a table
    # and as JSON
    entry = "saldo.channels.cli.entry"
    runs = [
        _loaded_by("--database-url", url, "balance", *json, "+573001234567", entry=entry)
        for json in ([], ["--json"])
    ]

    # then it answered without Typer, Click or Pydantic, and without what no balance loads
    for code, loaded, printed in runs:
        assert code == 0
        assert "+573001234567" in printed
        assert sorted(set(NEVER_FOR_A_BALANCE_FROM_THE_ENTRY_POINT) & _packages(loaded)) == []
        assert sorted(set(NOT_SALDO_S_FOR_A_BALANCE) & set(loaded)) == []
        assert "saldo.config" not in loaded


def test_saldo_help_from_the_script_loads_no_pydantic_nor_the_database() -> None:
    # given a fresh interpreter, when it runs `saldo --help` as the `saldo` script does
    code, loaded, printed = _loaded_by("--help", entry="saldo.channels.cli.entry")

    # then it printed the help without the heavy libraries
    assert code == 0
    assert "balance" in printed
    assert sorted(set(NEVER_FOR_HELP) & _packages(loaded)) == []
    assert "saldo.config" not in loaded


def test_the_next_process_reads_the_operator_as_kept_and_answers_the_same(
    saldo_sqlite: Saldo, tmp_path: Path
) -> None:
    # given a line, and no operator kept yet
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo_sqlite.clock.now(),
    )
    url = saldo_sqlite.settings.database_url
    cache_home = tmp_path / "cache"

    # when `saldo balance` runs in a fresh interpreter, then in another
    first = _loaded_by("--database-url", url, "balance", "+573001234567", cache_home=cache_home)
    second = _loaded_by("--database-url", url, "balance", "+573001234567", cache_home=cache_home)

    # then the first built the line's operator from its catalog entry and kept it, the
    # second read it back without the catalog's schema or phonenumbers, and both answered alike
    assert first[0] == second[0] == 0
    assert sorted(set(BUILDING_AN_OPERATOR) & set(first[1])) == sorted(BUILDING_AN_OPERATOR)
    assert len(list((cache_home / "saldo" / "operators").iterdir())) == 1
    assert sorted(set(BUILDING_AN_OPERATOR) & set(second[1])) == []
    assert "Claro (claro-co)" in first[2]
    assert second[2] == first[2]


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
