"""``saldo outbox list|show|retry|secret``: the notifications waiting, sent, skipped or given
up, what one of them says, and the secret an operator checks its webhooks with. Numbers and
addresses are shown masked, webhook URLs by their host only."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer
from rich.table import Table

from saldo.channels.cli.context import state
from saldo.channels.cli.render import emit_json, local_time, out, to_jsonable
from saldo.channels.notifications import notification_renderer
from saldo.services.operators import get_operator
from saldo.services.outbox import (
    OutgoingSms,
    masked_recipient,
    outbox_messages,
    retry_dead_message,
    write_message,
)
from saldo.services.ports import OutboxMessage
from saldo.services.ports.mail import OutgoingEmail
from saldo.services.ports.webhooks import WebhookRequest, shown_url

app = typer.Typer(help="Notifications queued for delivery (SMS, email, operator webhooks).")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class State(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    SKIPPED = "skipped"


@app.command("list")
def list_command(
    ctx: typer.Context,
    state_: Annotated[
        State | None, typer.Option("--state", help="Only messages in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List outbox messages, newest first: channel, key, recipient (masked), state, attempts,
    next attempt and last error.

    Example: saldo outbox list --state dead
    """
    saldo = state(ctx).saldo()
    messages = saldo.run(outbox_messages, state=state_.value if state_ else None, limit=limit)
    if as_json:
        emit_json([_message_json(message) for message in messages])
        return
    if not messages:
        out.print(f"No {state_.value} messages." if state_ else "The outbox is empty.")
        return
    table = Table()
    for name in ("id", "channel", "key", "recipient", "state", "attempts", "next attempt (UTC)"):
        table.add_column(name, no_wrap=True)
    table.add_column("last error", overflow="fold", min_width=12)
    for message in messages:
        due = message.next_attempt_at if message.state == "pending" else None
        table.add_row(
            str(message.id),
            message.channel,
            message.key,
            masked_recipient(message),
            message.state,
            str(message.attempts),
            local_time(due, "UTC") if due else "",
            message.last_error or "",
        )
    out.print(table)


@app.command("retry")
def retry_command(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="The dead message's id.", min=1)],
    as_json: JsonFlag = False,
) -> None:
    """Put a dead message back to pending: the next delivery pass sends it, with all its
    attempts ahead of it.

    Example: saldo outbox retry 42
    """
    saldo = state(ctx).saldo()
    message = saldo.run(retry_dead_message, message_id=message_id, now=saldo.clock.now())
    if as_json:
        emit_json(_message_json(message))
        return
    out.print(
        f"Outbox message {message.id} ({message.key}, {message.channel} to "
        f"{masked_recipient(message)}) is pending again."
    )


@app.command("show")
def show_command(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="The message's id (outbox list).", min=1)],
    as_json: JsonFlag = False,
) -> None:
    """Print what an outbox message says to its recipient, written now as its delivery
    writes it: the SMS text, the email's subject and text, or the webhook's body.

    Example: saldo outbox show 3
    """
    saldo = state(ctx).saldo()
    written = saldo.run(
        write_message,
        message_id=message_id,
        render=notification_renderer(webhook_secret=saldo.webhook_secret),
        now=saldo.clock.now(),
    )
    message, outgoing = written.message, written.outgoing
    shown: dict[str, Any] = {"sender": None, "subject": None, "text": None}
    if isinstance(outgoing, OutgoingSms):
        shown.update(sender=outgoing.sender, text=outgoing.text)
    elif isinstance(outgoing, OutgoingEmail):
        shown.update(subject=outgoing.subject, text=outgoing.text)
    elif isinstance(outgoing, WebhookRequest):
        shown.update(text=outgoing.body.decode())
    if as_json:
        emit_json({**_message_json(message), **shown, "no_longer_true": outgoing is None})
        return
    kind = message.payload.get("kind")
    out.print(
        f"Outbox message {message.id}: {message.channel} {kind}, {message.state}", markup=False
    )
    if outgoing is None:
        out.print("No longer true now: a delivery would skip it (nothing to show).")
        return
    if shown["sender"] is not None:
        out.print(f"From: {shown['sender']}", markup=False)
    out.print(f"To: {masked_recipient(message)}", markup=False)
    if shown["subject"] is not None:
        out.print(f"Subject: {shown['subject']}", markup=False)
    out.print()
    out.print(shown["text"], markup=False)


@app.command("secret")
def secret_command(
    ctx: typer.Context,
    operator: Annotated[str, typer.Argument(help="The operator's slug, e.g. proximus-be.")],
    as_json: JsonFlag = False,
) -> None:
    """Print the secret an operator's webhooks are signed with, for the operator to check
    the Saldo-Signature header (see docs/channels.md). It follows from SALDO_SECRET_KEY.

    Example: saldo outbox secret proximus-be
    """
    saldo = state(ctx).saldo()
    found = saldo.run(get_operator, slug=operator)
    secret = saldo.webhook_secret(found.slug)
    url = shown_url(found.webhook_url) if found.webhook_url else None
    if as_json:
        emit_json({"operator": found.slug, "webhook_url": url, "secret": secret})
        return
    out.print(secret)
    if url is None:
        typer.echo(f"note: {found.slug} has no webhook_url: no webhooks are sent to it", err=True)


def _message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "kind": message.payload.get("kind"),
        "key": message.key,
        "recipient": masked_recipient(message),
        "state": message.state,
        "attempts": message.attempts,
        "next_attempt_at": to_jsonable(message.next_attempt_at)
        if message.state == "pending"
        else None,
        "last_error": message.last_error,
        "created_at": to_jsonable(message.created_at),
        "sent_at": to_jsonable(message.sent_at),
    }
