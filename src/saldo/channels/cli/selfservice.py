"""``saldo sms`` and ``saldo ussd``: the subscriber's channels, from a terminal.

They run exactly what the gateway endpoints run, without HTTP: handy to try the keywords and
menus of an operator, and to script checks.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import emit_json, out
from saldo.channels.sms.service import InboundSms, handle_sms
from saldo.channels.ussd.menu import UssdRequest, handle_ussd


def sms_command(
    ctx: typer.Context,
    text: Annotated[list[str], typer.Argument(help="The message, e.g. SALDO or RECARGA <PIN>.")],
    sender: Annotated[str, typer.Option("--from", help="The subscriber's number.")],
    to: Annotated[str, typer.Option("--to", help="The short code, e.g. 100.")],
    message_id: Annotated[str | None, typer.Option("--id", help="Gateway message id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Send an SMS to Saldo as a subscriber would and print the reply.

    Example: saldo sms --from +5492614445566 --to 100 SALDO
    """
    reply = handle_sms(
        state(ctx).saldo(),
        InboundSms(sender=sender, to=to, text=" ".join(text), message_id=message_id),
    )
    if as_json:
        emit_json({"reply": reply})
        return
    out.print(reply, markup=False)


def ussd_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The code dialled, e.g. '*611#'.")],
    sender: Annotated[str, typer.Option("--from", help="The subscriber's number.")],
    choices: Annotated[
        str | None,
        typer.Option(help="Answer these choices (e.g. '3*1*1') instead of asking."),
    ] = None,
) -> None:
    """Dial a USSD code and walk its menus in the terminal.

    Example: saldo ussd --from +573109876543 '*611#'
    """
    saldo = state(ctx).saldo()
    session = f"cli-{uuid.uuid4()}"
    scripted = choices.split("*") if choices else None
    path: list[str] = []
    while True:
        answer = handle_ussd(
            saldo,
            UssdRequest(
                session_id=session, service_code=code, phone_number=sender, text="*".join(path)
            ),
        )
        kind, _, body = answer.partition(" ")
        out.print(body, markup=False)
        if kind != "CON":
            return
        if scripted is not None:
            if not scripted:
                return
            choice = scripted.pop(0)
            out.print(f"> {choice}", markup=False)
        else:
            try:
                choice = input("> ").strip()
            except EOFError:
                return
        path.append(choice)
