"""``saldo charging key``: API keys for the network elements that charge in real time."""

from __future__ import annotations

from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import out
from saldo.services.network_elements import new_api_key, register_element

app = typer.Typer(help="Real-time charging: keys for network elements (docs/usage.md).")


@app.command("key")
def key_command(
    ctx: typer.Context,
    operator: Annotated[str, typer.Option(help="The operator whose lines it may charge.")],
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
