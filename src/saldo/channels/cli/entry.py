"""``saldo``'s entry point: ``saldo balance`` without Typer, every other command with it.

``saldo balance NUMBER`` is what scripts run, often. Importing Typer, which validates every
argument through a Pydantic ``TypeAdapter``, cost it more than the balance read itself
(docs/performance.md, "CLI start"). So the command line is looked at first: when it is
exactly ``[--database-url URL] balance NUMBER [--json]`` in a form Click would read the same
way, the command runs here, with the same code (``saldo.channels.cli.balance``), the same
output, the same error lines and the same exit codes as through Typer. Anything else (help,
another command, an option it does not know, a value that starts with ``-``) goes to
``saldo.channels.cli.main``, which tells and refuses as before.
tests/integration/channels/cli/test_entry.py runs both ways and compares them byte for byte.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import NamedTuple

from saldo.domain.errors import SaldoError

# Set by a shell asking Click to complete a command line: left to Typer.
COMPLETION_VARIABLE = "_SALDO_COMPLETE"


class BalanceCommand(NamedTuple):
    database_url: str | None
    msisdn: str
    as_json: bool


def balance_command(argv: list[str]) -> BalanceCommand | None:
    """``argv`` read as Typer reads a balance inquiry, when it is one in a plain form
    (``--database-url URL`` or ``--database-url=URL`` first, once; ``--json`` before or after
    the number, once); None for anything else."""
    args = list(argv)
    database_url = None
    if args and args[0].startswith("--database-url"):
        option = args.pop(0)
        if option == "--database-url" and args:
            database_url = args.pop(0)
        elif option.startswith("--database-url="):
            database_url = option.removeprefix("--database-url=")
        else:
            return None
        if not database_url or database_url.startswith("-"):
            return None
    if not args or args.pop(0) != "balance":
        return None
    as_json = args.count("--json") == 1
    if as_json:
        args.remove("--json")
    if len(args) != 1 or not args[0] or args[0].startswith("-"):
        return None
    return BalanceCommand(database_url=database_url, msisdn=args[0], as_json=as_json)


def run(argv: list[str]) -> int:
    """Run ``saldo ARGV``; return the exit code (``saldo.channels.cli.main.run``'s)."""
    command = balance_command(argv)
    if command is None or COMPLETION_VARIABLE in os.environ:
        from saldo.channels.cli.main import run as run_with_typer

        return run_with_typer(argv)
    return run_balance(command)


def run_balance(command: BalanceCommand) -> int:
    """``saldo balance`` as Typer runs it: the state closed after the command, then each
    exception told as ``saldo.channels.cli.main.run`` (and Click before it) tells it."""
    from saldo.channels.cli.balance import show_balance
    from saldo.channels.cli.context import CliState
    from saldo.channels.cli.render import fail

    cli = CliState(database_url=command.database_url)
    try:
        try:
            show_balance(cli, msisdn=command.msisdn, as_json=command.as_json)
        finally:
            cli.close()
    except SaldoError as error:
        fail(error.message)
        return 1
    except EOFError:
        # Click: a new line, then Abort, which saldo tells as "aborted".
        sys.stderr.write("\n")
        fail("aborted")
        return 130
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        if error.errno != errno.EPIPE:
            return _told(error)
        # Click: the reader of the output went away; quiet, and exit 1.
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        sys.exit(1)
    except Exception as error:
        return _told(error)
    return 0


def _told(error: Exception) -> int:
    from saldo.channels.cli.render import fail

    message = setup_failure(error)
    if message is None:
        raise error
    fail(message)
    return 1


def setup_failure(error: Exception) -> str | None:
    """What to tell about bad settings or an unreachable database; None for anything else.

    Pydantic and SQLAlchemy are imported only by the commands that read the settings or the
    database (not by ``--help``); an error cannot come from a library that was never loaded,
    so neither is imported here to find out."""
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        if isinstance(error, ValidationError):
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            return f"invalid setting {where or 'SALDO_*'}: {first['msg']}"
    if "sqlite3" in sys.modules:
        # A balance read on SQLite's own driver (saldo.bootstrap.Reader): said as SQLAlchemy's
        # error for the same cause is, below.
        from sqlite3 import OperationalError as SqliteOperationalError

        if isinstance(error, SqliteOperationalError):
            return f"the database is unavailable: {str(error).splitlines()[0]}"
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import ArgumentError, OperationalError

        if isinstance(error, OperationalError):
            return f"the database is unavailable: {str(error.orig).splitlines()[0]}"
        if isinstance(error, ArgumentError):
            return f"invalid database URL: {error}"
    return None


def main() -> None:
    sys.exit(run(sys.argv[1:]))
