"""What Saldo tells subscribers and operators, as outbox rows queued in the same transaction
as their cause.

A row holds facts, not text: its ``payload`` names a ``kind`` and the ids and values the
message needs. The text is written when the row is delivered (``saldo.channels.notifications``
renders it in the line's language from the database as it is then), so a reminder for a
line renewed meanwhile is dropped rather than sent. Each row's ``key`` is stable: queuing the
same notification twice queues it once, and a retried send carries the same message id.

Kinds and their payloads (all carry ``line_id``):

- ``expiry_reminder`` (sms, email): ``valid_until`` (ISO 8601) and ``days`` before it;
- ``low_balance`` (sms): ``balance`` and ``threshold`` in minor units;
- ``auto_renewal_failed`` (sms): ``plan``;
- ``auto_topup_done`` (sms): ``amount`` in minor units; ``auto_topup_failed`` (sms): ``amount``
  and ``reason``;
- ``line_in_grace``, ``line_suspended`` (sms): ``valid_until`` (ISO 8601), the end of
  validity the line lapsed from;
- ``line_state_changed`` (webhook, to the operator): ``msisdn``, ``from``, ``to``,
  ``effective_at``;
- ``order_receipt`` (email): ``order_id`` (lines of orders, see ``orders``);
- ``topup_receipt`` (email): ``payment_id`` (a card top-up, see ``topup_settlement``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from saldo.services.ports import UnitOfWork

SMS: Final = "sms"
EMAIL: Final = "email"
WEBHOOK: Final = "webhook"

# No SMS reaches a subscriber between 21:00 and 09:00 in the operator's time zone.
QUIET_FROM: Final = time(21, 0)
QUIET_UNTIL: Final = time(9, 0)


def sms_allowed_from(moment: datetime, *, timezone: str) -> datetime:
    """``moment`` if an SMS may be sent then, else the end of the quiet hours (09:00 local
    the same or the next morning)."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return moment
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    morning = datetime.combine(day, QUIET_UNTIL, tzinfo=zone)
    return morning.astimezone(moment.tzinfo)


def queue(
    uow: UnitOfWork,
    *,
    operator_id: int,
    line_id: int | None,
    channel: str,
    key: str,
    recipient: str,
    payload: Mapping[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Queue one notification in the open unit of work; False when one with this key was
    queued before. ``not_before`` defers it (quiet hours)."""
    message_id = uow.outbox.add(
        operator_id=operator_id,
        line_id=line_id,
        channel=channel,
        key=key,
        recipient=recipient,
        payload=payload,
        now=now,
        not_before=not_before,
    )
    return message_id is not None
