"""Manual adjustments of a line's buckets by staff, on SQLite and PostgreSQL: written to the
ledger, never overdrawing, replayed by their key, refused without a reason or in units the
currency does not have; an allowance credited with an expiry stops counting after it. Lines
themselves are in test_lines.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.services.adjust_balance import InsufficientBalance, UnableToAdjust, adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.idempotency import IdempotencyKeyReused
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line

LINE = "+5491123456789"


@pytest.fixture
def line(saldo: Saldo) -> str:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="011 15 2345-6789", operator="movistar-ar", language="zh"),
        now=saldo.clock.now(),
    )
    return LINE


def adjust(
    saldo: Saldo, amount: int, key: str, kind: BucketKind = BucketKind.MAIN, **extra: object
):  # type: ignore[no-untyped-def]
    return adjust_balance(
        saldo.uow(),
        msisdn=LINE,
        kind=kind,
        amount=amount,
        reason=str(extra.get("reason", "goodwill after an outage")),
        actor="ana@movistar",
        idempotency_key=key,
        now=saldo.clock.now(),
        expires_at=extra.get("expires_at"),  # type: ignore[arg-type]
    )


def test_a_credit_and_a_debit_are_written_to_the_ledger(saldo: Saldo, line: str) -> None:
    adjust(saldo, 50000, "credit")

    receipt = adjust(saldo, -20000, "debit")

    assert receipt.balance == 30000
    view = inquire_balance(saldo.uow(), msisdn=line, now=saldo.clock.now())
    assert view.main.minor == 30000
    assert audit_ledger(saldo.uow()).clean


def test_a_debit_never_overdraws(saldo: Saldo, line: str) -> None:
    adjust(saldo, 1000, "credit")

    with pytest.raises(InsufficientBalance):
        adjust(saldo, -1001, "debit")

    assert audit_ledger(saldo.uow()).transactions == 1


def test_an_adjustment_of_colombian_pesos_with_centavos_is_refused_and_writes_nothing(
    saldo: Saldo,
) -> None:
    # given a Claro Colombia line
    colombian = "+573001234567"
    add_line(saldo.uow(), new_line=NewLine(msisdn=colombian, operator="claro-co"),
             now=saldo.clock.now())  # fmt: skip

    # when staff credit 50.000,50 COP in minor units
    with pytest.raises(UnableToAdjust, match="amounts in COP are whole units"):
        adjust_balance(saldo.uow(), msisdn=colombian, kind=BucketKind.MAIN, amount=5_000_050,
                       reason="goodwill", actor="ana", idempotency_key="cents",
                       now=saldo.clock.now())  # fmt: skip

    # then nothing was written
    assert audit_ledger(saldo.uow()).transactions == 0


def test_an_adjustment_needs_a_reason(saldo: Saldo, line: str) -> None:
    with pytest.raises(UnableToAdjust):
        adjust(saldo, 1000, "k", reason="  ")


def test_an_adjustment_key_replays_or_refuses(saldo: Saldo, line: str) -> None:
    first = adjust(saldo, 1000, "k")
    assert adjust(saldo, 1000, "k").adjustment_id == first.adjustment_id
    with pytest.raises(IdempotencyKeyReused):
        adjust(saldo, 2000, "k")


def test_an_expired_allowance_no_longer_counts(saldo: Saldo, clock: FixedClock, line: str) -> None:
    adjust(saldo, 3600, "voice", kind=BucketKind.VOICE, expires_at=clock.now() + timedelta(days=7))
    adjust(saldo, 100, "sms", kind=BucketKind.SMS)

    clock.advance(timedelta(days=8))
    view = inquire_balance(saldo.uow(), msisdn=line, now=clock.now())

    assert view.voice_seconds == 0
    assert view.sms == 100
    assert [b.kind for b in view.buckets] == [BucketKind.MAIN, BucketKind.SMS]
