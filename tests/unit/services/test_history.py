"""A statement lists a line's usage as one movement a local day and service, summed; a month
is closed (a replica may serve it) once it has ended in the operator's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saldo.catalog.schema import bundled_specs
from saldo.domain.money import Money
from saldo.domain.operator import Allowances, Operator
from saldo.domain.statement import InvalidMonth, MovementKind
from saldo.services.history import Movement, month_is_closed, usage_by_day

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


def movistar() -> Operator:
    return next(spec for spec in bundled_specs() if spec.slug == "movistar-ar").to_operator()


def test_a_month_is_closed_once_it_has_ended_in_the_operator_s_time_zone() -> None:
    operator = movistar()
    # 1 November 02:30 UTC is still 31 October in Buenos Aires: October is open there.
    late_october = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
    november = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)

    assert not month_is_closed("2026-10", operator=operator, now=late_october)
    assert month_is_closed("2026-10", operator=operator, now=november)
    assert month_is_closed("2026-09", operator=operator, now=late_october)
    assert not month_is_closed("2026-11", operator=operator, now=november)
    assert not month_is_closed(None, operator=operator, now=november)


def test_a_month_badly_written_or_ahead_is_refused_as_reading_it_would() -> None:
    with pytest.raises(InvalidMonth):
        month_is_closed("2026-13", operator=movistar(), now=datetime(2026, 11, 22, tzinfo=UTC))
    with pytest.raises(InvalidMonth):
        month_is_closed("2026-12", operator=movistar(), now=datetime(2026, 11, 22, tzinfo=UTC))
