"""Commands whose module is imported only when they run.

Importing every command's module (and, through them, most of Saldo) made each ``saldo``
invocation, ``--help`` included, spend most of its second in imports. The root command lists
these commands from the one-line summaries below, and imports a command's module when it is
invoked or its own ``--help`` is asked. A test checks that each summary is the command's own
short help, so the listing cannot drift from the modules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer

# Typer carries its own copy of Click; its commands are of these types.
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A command (a function) or a command group (a ``typer.Typer``) named ``attribute`` in
    ``module``; ``extends`` are modules that add commands to that group when imported."""

    module: str
    attribute: str
    summary: str
    extends: tuple[str, ...] = ()

    def load(self, name: str) -> Command:
        """The command, imported and built as the root command's own would be."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        for module in self.extends:
            importlib.import_module(module)
        # Built under a root of the same settings, so that it reads and prints as if it had
        # been registered there.
        root = typer.Typer(rich_markup_mode=None, add_completion=False)
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=name)
        else:
            root.command(name)(target)
        root.callback()(_no_options)
        group = typer.main.get_command(root)
        assert isinstance(group, TyperGroup)
        return group.commands[name]


def _no_options() -> None:
    """A callback, so that the root above is a group even with a single command."""


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "sms": LazyCommand(
        "saldo.channels.cli.selfservice",
        "sms_command",
        "Send an SMS to Saldo as a subscriber would and print the reply.",
    ),
    "ussd": LazyCommand(
        "saldo.channels.cli.selfservice",
        "ussd_command",
        "Dial a USSD code and walk its menus in the terminal.",
    ),
    "worker": LazyCommand(
        "saldo.channels.cli.worker",
        "worker_command",
        "Run Saldo's jobs: expire unpaid orders, move lines into grace, suspension and "
        "recycling, queue expiry reminders, run auto top-ups and auto-renewals, reconcile "
        "pending payments and deliver the outbox.",
    ),
    "operators": LazyCommand(
        "saldo.channels.cli.operators",
        "app",
        "List the operators, or add or update one from a catalog file.",
    ),
    "lines": LazyCommand(
        "saldo.channels.cli.lines",
        "app",
        "Register subscriber lines, import them from CSV, look them up.",
        extends=(
            "saldo.channels.cli.line_settings",
            "saldo.channels.cli.usage",
            "saldo.channels.cli.history",
        ),
    ),
    "vouchers": LazyCommand(
        "saldo.channels.cli.vouchers", "app", "Generate, list, void and redeem voucher PINs."
    ),
    "fx": LazyCommand(
        "saldo.channels.cli.fx", "app", "Load, list and convert with exchange rates."
    ),
    "orders": LazyCommand(
        "saldo.channels.cli.orders",
        "app",
        "Quote, place and pay plan orders; keep their receipts.",
        extends=("saldo.channels.cli.ordering",),
    ),
    "cdr": LazyCommand(
        "saldo.channels.cli.usage",
        "app",
        "Rate and charge call detail records (CDRs) from other systems.",
    ),
    "charging": LazyCommand(
        "saldo.channels.cli.charging",
        "app",
        "Real-time charging: keys for network elements (docs/usage.md).",
    ),
    "outbox": LazyCommand(
        "saldo.channels.cli.outbox",
        "app",
        "Notifications queued for delivery (SMS, email, operator webhooks).",
    ),
}


class LazyGroup(TyperGroup):
    """The root command: its own commands, then LAZY_COMMANDS, each loaded on first use."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.commands, *(name for name in LAZY_COMMANDS if name not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        found = self.commands.get(cmd_name)
        lazy = LAZY_COMMANDS.get(cmd_name)
        if found is not None or lazy is None:
            return found
        if self._listing:
            return TyperCommand(name=cmd_name, help=lazy.summary)
        command = lazy.load(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        # Listing needs each command's summary only: nothing is imported for it.
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False
