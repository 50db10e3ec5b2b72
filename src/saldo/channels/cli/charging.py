"""``saldo charging key|keys|revoke``: API keys for the network elements that charge in real
time: make one, list an operator's, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import emit_json, local_time, new_table, out
from saldo.services.network_elements import (
    element_keys,
    new_api_key,
    register_element,
    revoke_element,
)

app = typer.Typer(help="Real-time charging: keys for network elements (docs/usage.md).")

Operator = Annotated[str, typer.Option(help="The operator whose lines it may charge.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("key")
def key_command(
    ctx: typer.Context,
    operator: Operator,
    name: Annotated[str, typer.Option(help="The element's name, e.g. msc-buenos-aires-1.")],
) -> None:
    """Register a network element and print its API key, once: Saldo keeps only a hash.

    Example: saldo charging key --operator movistar-ar --name msc-1
    """
    saldo = state(ctx).saldo()
    key = new_api_key()
    saldo.run(
        register_element,
        operator_slug=operator,
        name=name,
        key_hash=saldo.element_key_hash(key),
        now=saldo.clock.now(),
    )
    out.print(f"API key of {name} ({operator}), shown once:\n{key}")


@app.command("keys")
def keys_command(ctx: typer.Context, operator: Operator, as_json: JsonFlag = False) -> None:
    """The operator's network elements: when each key was made, last used (noted at most
    once a minute) and revoked.

    Example: saldo charging keys --operator movistar-ar
    """
    saldo = state(ctx).saldo()
    shown = saldo.run(element_keys, operator_slug=operator)
    if as_json:
        emit_json(shown.keys)
        return
    if not shown.keys:
        out.print(f"{shown.operator} has no network elements.")
        return

    def when(moment: datetime | None) -> str:
        return local_time(moment, shown.timezone) if moment else "never"

    table = new_table("element", "created", "last used", "state")
    for key in shown.keys:
        state_text = f"revoked {when(key.revoked_at)}" if key.revoked_at else "active"
        table.add_row(key.name, when(key.created_at), when(key.last_used_at), state_text)
    out.print(table)


@app.command("revoke")
def revoke_command(
    ctx: typer.Context,
    operator: Operator,
    name: Annotated[str, typer.Option(help="The element whose key is revoked.")],
) -> None:
    """Revoke a network element's key: every server refuses it (401) from its next request.

    Example: saldo charging revoke --operator movistar-ar --name msc-1
    """
    saldo = state(ctx).saldo()
    revoked = saldo.run(revoke_element, operator_slug=operator, name=name, now=saldo.clock.now())
    out.print(f"Key of {name} ({operator}) revoked at {local_time(revoked.at, revoked.timezone)}.")
