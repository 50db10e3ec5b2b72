"""Top-ups through the use case, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.topup import AmountBelowMinimum, WrongCurrency
from saldo.services.audit import audit_ledger
from saldo.services.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import LineNotFound, LineRecycled, NewLine, add_line
from saldo.services.top_up import top_up

CLARO_CO = "+573001234567"


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


def given_line(saldo: Saldo, msisdn: str = CLARO_CO, operator: str = "claro-co") -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=saldo.clock.now())


def topup(saldo: Saldo, amount: Money, key: str, msisdn: str = CLARO_CO, **kw: object):  # type: ignore[no-untyped-def]
    return top_up(
        saldo.uow(),
        msisdn=msisdn,
        amount=amount,
        channel=Channel.STORE,
        idempotency_key=key,
        now=kw.get("now", saldo.clock.now()),  # type: ignore[arg-type]
    )


def test_a_claro_colombia_balance_of_50_plus_30_is_80(saldo: Saldo) -> None:
    given_line(saldo)
    topup(saldo, cop("50000"), "k-50")

    receipt = topup(saldo, cop("30000"), "k-30")

    assert receipt.balance == cop("80000")
    assert inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now()).main == cop("80000")
    assert audit_ledger(saldo.uow()).clean


def test_a_replayed_topup_returns_the_first_receipt_and_moves_no_money(saldo: Saldo) -> None:
    given_line(saldo)
    first = topup(saldo, cop("30000"), "same-key")
    saldo.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]

    again = topup(saldo, cop("30000"), "same-key")

    assert again.replayed and not first.replayed
    assert again.topup_id == first.topup_id
    assert again.receipt_number == first.receipt_number
    assert again.balance == first.balance == cop("30000")
    assert again.created_at == first.created_at
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == cop("30000")
    assert audit_ledger(saldo.uow()).transactions == 1


def test_the_same_key_with_another_amount_is_refused(saldo: Saldo) -> None:
    given_line(saldo)
    topup(saldo, cop("30000"), "k")

    with pytest.raises(IdempotencyKeyReused):
        topup(saldo, cop("31000"), "k")

    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == cop("30000")


def test_the_same_key_for_another_line_of_the_operator_is_refused(saldo: Saldo) -> None:
    given_line(saldo)
    given_line(saldo, "+573109876543")
    topup(saldo, cop("30000"), "k")

    with pytest.raises(IdempotencyKeyReused):
        topup(saldo, cop("30000"), "k", msisdn="+573109876543")


def test_a_topup_below_the_minimum_or_in_another_currency_is_refused(saldo: Saldo) -> None:
    given_line(saldo)

    with pytest.raises(AmountBelowMinimum):
        topup(saldo, cop("999"), "k1")
    with pytest.raises(WrongCurrency):
        topup(saldo, Money.of("10", "EUR"), "k2")

    report = audit_ledger(saldo.uow())
    assert report.transactions == 0


def test_web_and_app_top_ups_respect_the_online_minimum(saldo: Saldo) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )

    def pay(amount: str, channel: Channel, key: str) -> None:
        top_up(
            saldo.uow(),
            msisdn="+573001234567",
            amount=Money.of(amount, "COP"),
            channel=channel,
            idempotency_key=key,
            now=saldo.clock.now(),
        )

    with pytest.raises(AmountBelowMinimum, match="online"):
        pay("1000", Channel.APP, "app-1")  # claro-co: 1.000 in stores, 5.000 online
    pay("1000", Channel.STORE, "store-1")
    pay("5000", Channel.WEB, "web-1")

    assert audit_ledger(saldo.uow()).transactions == 2


def test_an_unknown_number_or_a_bad_key_is_refused(saldo: Saldo) -> None:
    with pytest.raises(LineNotFound):
        topup(saldo, cop("30000"), "k", msisdn="+573209999999")
    given_line(saldo)
    with pytest.raises(InvalidIdempotencyKey):
        topup(saldo, cop("30000"), "has spaces")


def test_a_topup_extends_validity_by_the_denomination_rule(saldo: Saldo) -> None:
    given_line(saldo)  # claro-co: 20.000 grants 60 days; validity ends at local midnight

    receipt = topup(saldo, cop("20000"), "k")

    # 22 Nov 2026 10:00 in Bogotá + 60 days → end of 21 Jan 2027, i.e. 22 Jan 00:00 -05:00.
    assert receipt.valid_until == datetime(2027, 1, 22, 5, 0, tzinfo=UTC)


def test_a_small_topup_never_shortens_validity(saldo: Saldo) -> None:
    given_line(saldo)
    long = topup(saldo, cop("50000"), "k-long")  # 90 days

    short = topup(saldo, cop("1000"), "k-short")  # 7 days

    assert short.valid_until == long.valid_until


@pytest.mark.parametrize(
    ("days_after_expiry", "state"), [(10, LineState.GRACE), (45, LineState.SUSPENDED)]
)
def test_a_topup_reactivates_a_line_in_grace_or_suspension(
    saldo: Saldo, clock: FixedClock, days_after_expiry: int, state: LineState
) -> None:
    given_line(saldo)  # valid 30 days; claro-co grace 30 days, then 60 suspended
    clock.advance(timedelta(days=31 + days_after_expiry))
    before = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=clock.now())
    assert before.state is state

    receipt = topup(saldo, cop("5000"), "k")

    assert receipt.state_before is state
    after = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=clock.now())
    assert after.state is LineState.ACTIVE
    assert after.valid_until > clock.now()


def test_a_line_past_suspension_cannot_be_topped_up(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    clock.advance(timedelta(days=31 + 30 + 60 + 1))

    with pytest.raises(LineRecycled):
        topup(saldo, cop("5000"), "k")

    assert audit_ledger(saldo.uow()).transactions == 0


def test_the_balance_view_shows_days_left_before_recycling(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)

    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=clock.now())

    # valid until 23 Dec 00:00 Bogotá, then 30 days grace and 60 suspended: 121 days (a
    # started day counts).
    assert view.state is LineState.ACTIVE
    assert view.days_until_recycling == 121
    assert view.recycles_at == view.valid_until + timedelta(days=90)
    assert view.locale == "es_CO"


def test_every_topup_is_kept_with_its_channel_in_the_ledger(saldo: Saldo) -> None:
    given_line(saldo)
    for number, channel in enumerate([Channel.WEB, Channel.APP, Channel.RESELLER]):
        top_up(
            saldo.uow(),
            msisdn=CLARO_CO,
            amount=cop("5000"),  # the online minimum applies to web and app
            channel=channel,
            idempotency_key=f"k{number}",
            now=saldo.clock.now(),
        )

    report = audit_ledger(saldo.uow())

    assert report.clean
    assert (report.transactions, report.entries) == (3, 6)
