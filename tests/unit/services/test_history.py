"""A statement lists a line's usage as one movement a local day and service, summed."""

from __future__ import annotations

from datetime import UTC, datetime

from saldo.domain.money import Money
from saldo.domain.operator import Allowances
from saldo.domain.statement import MovementKind
from saldo.services.history import Movement, usage_by_day

BUENOS_AIRES = "America/Argentina/Buenos_Aires"


def movement(at: datetime, kind: MovementKind, item: str | None, change: int, after: int,
             sms: int = 0) -> Movement:  # fmt: skip
    return Movement(
        at=at,
        kind=kind,
        item=item,
        channel="network",
        amount=Money(change, "ARS"),
        balance_change=Money(change, "ARS"),
        balance_after=Money(after, "ARS"),
        bonus=Money(0, "ARS"),
        allowances=Allowances(sms=sms),
        receipt=None,
    )


def test_a_day_s_usage_of_one_service_is_one_movement_at_its_last_use() -> None:
    usage, topup = MovementKind.USAGE, MovementKind.TOPUP
    listed = (
        movement(datetime(2026, 11, 5, 12, tzinfo=UTC), usage, "sms", -4500, 95500, sms=-1),
        movement(datetime(2026, 11, 5, 13, tzinfo=UTC), topup, None, 100000, 195500),
        movement(datetime(2026, 11, 5, 14, tzinfo=UTC), usage, "sms", -4500, 191000, sms=-1),
        movement(datetime(2026, 11, 5, 15, tzinfo=UTC), usage, "data", -1200, 189800),
        # 6 November 01:00 UTC is still the 5th in Buenos Aires.
        movement(datetime(2026, 11, 6, 1, tzinfo=UTC), usage, "sms", -4500, 185300, sms=-1),
        movement(datetime(2026, 11, 6, 12, tzinfo=UTC), usage, "sms", -4500, 180800, sms=-1),
    )

    grouped = usage_by_day(listed, timezone=BUENOS_AIRES)

    assert [
        (m.kind, m.item, m.amount.minor, m.balance_after, m.allowances.sms) for m in grouped
    ] == [
        (topup, None, 100000, Money(195500, "ARS"), 0),
        (usage, "data", -1200, Money(189800, "ARS"), 0),
        (usage, "sms", -13500, Money(185300, "ARS"), -3),
        (usage, "sms", -4500, Money(180800, "ARS"), -1),
    ]
    assert sum(m.balance_change.minor for m in grouped) == sum(
        m.balance_change.minor for m in listed
    )
