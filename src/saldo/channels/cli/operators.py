"""``saldo operators``: the catalog of operators this instance serves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from saldo.catalog.schema import load_spec_file
from saldo.channels.cli.context import state
from saldo.channels.cli.render import emit_json, money, new_table, out
from saldo.domain.operator import Operator
from saldo.services.operators import OperatorInUse, list_operators, register_operator

app = typer.Typer(help="List the operators, or add or update one from a catalog file.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def summary(operator: Operator) -> dict[str, object]:
    return {
        "slug": operator.slug,
        "name": operator.name,
        "country": operator.country,
        "currency": operator.currency,
        "timezone": operator.timezone,
        "locales": list(operator.locales),
        "hotline": operator.hotline.number,
        "sms_short_code": operator.sms.short_code,
        "balance_keywords": list(operator.sms.keywords.get("balance", ())),
        "ussd_code": operator.ussd_code,
        "minimum_topup": operator.topup.minimum,
        "maximum_topup": operator.topup.maximum,
        "grace_days": operator.lifecycle.grace_days,
        "suspension_days": operator.lifecycle.suspension_days,
        "tax_rate": str(operator.tax_rate),
        "plans": [plan.code for plan in operator.plans],
    }


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the operators loaded in this instance."""
    operators = state(ctx).saldo().run(list_operators)
    if as_json:
        emit_json([summary(op) for op in operators])
        return
    table = new_table("slug", "operator", "country", "currency", "SMS", "USSD", "top-up")
    for op in operators:
        keywords = ", ".join(op.sms.keywords.get("balance", ()))
        table.add_row(
            op.slug,
            op.name,
            op.country,
            op.currency,
            f"{keywords} → {op.sms.short_code}",
            op.ussd_code,
            _bounds(op),
        )
    out.print(table)


@app.command("load")
def load_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An operator YAML file (see docs/operators.md).")],
    as_json: JsonFlag = False,
) -> None:
    """Add an operator from a catalog file, or update it if its slug exists.

    Example: saldo operators load src/saldo/catalog/operators/claro-co.yaml
    """
    spec = load_spec_file(file)
    saldo = state(ctx).saldo()
    try:
        operator = saldo.run(
            register_operator,
            operator=spec.to_operator(),
            spec=spec.model_dump(mode="json"),
            now=saldo.clock.now(),
        )
    except OperatorInUse as refused:  # named like any other bad field of the file
        raise OperatorInUse(f"{file.name}: {refused.message}") from None
    if as_json:
        emit_json(summary(operator))
        return
    out.print(f"Loaded {operator.slug} ({operator.name}, {operator.country}, {operator.currency})")


def _bounds(operator: Operator) -> str:
    """The least and the most one top-up may be, as the operator's people write money."""
    least = money(operator.topup.minimum, operator.default_locale)
    if operator.topup.maximum is None:
        return f"{least} or more"
    return f"{least} to {money(operator.topup.maximum, operator.default_locale)}"
