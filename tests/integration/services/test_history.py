"""A line's history on SQLite and PostgreSQL: its movements in a month (a top-up, a voucher,
a plan bought from the balance, calls charged, a staff credit), each with its balance change
and receipt; the statement's opening and closing balances; daily use; the plan advice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.domain.recommendation import Verdict
from saldo.domain.statement import InvalidMonth, MovementKind
from saldo.services.adjust_balance import adjust_balance
from saldo.services.buy_plan import buy_plan
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.daily_use import line_daily_use
from saldo.services.history import line_movements, line_statement
from saldo.services.lines import LineNotFound, NewLine, add_line
from saldo.services.plan_advice import plan_advice
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar, America/Argentina/Buenos_Aires (UTC-3)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def history(saldo: Saldo) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=at(10, 1))
    top_up(saldo.uow(), msisdn=LINE, amount=Money.of("5000", "ARS"), channel=Channel.STORE,
           idempotency_key="october", now=at(10, 20))  # fmt: skip
    # 31 October 23:30 in Buenos Aires is still October there, though 1 November in UTC.
    late = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
    top_up(saldo.uow(), msisdn=LINE, amount=Money.of("2000", "ARS"), channel=Channel.WEB,
           idempotency_key="late-october", now=late)  # fmt: skip
    top_up(saldo.uow(), msisdn=LINE, amount=Money.of("10000", "ARS"), channel=Channel.APP,
           idempotency_key="november", now=at(11, 2))  # fmt: skip
    buy_plan(saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", channel=Channel.SMS,
             idempotency_key="plan", now=at(11, 3))  # fmt: skip
    events = [
        (Service.VOICE, "call-1", at(11, 5), 61, "+541143210000"),
        (Service.DATA, "data-1", at(11, 6), 3 * 1024**3, None),
        (Service.SMS, "sms-1", at(11, 6, 13), 1, "+5491155550000"),
    ]
    rows = [
        (n, UsageEvent(record_id=key, msisdn=LINE, service=service, started_at=started,
                       quantity=quantity, destination=to))
        for n, (service, key, started, quantity, to) in enumerate(events, start=2)
    ]  # fmt: skip
    import_usage(saldo.uow(), rows=iter(rows), now=at(11, 7))
    adjust_balance(saldo.uow(), msisdn=LINE, kind=BucketKind.MAIN, amount=50000,
                   reason="goodwill", actor="ana", idempotency_key="credit",
                   now=at(11, 8))  # fmt: skip
    return saldo


def test_a_month_s_movements_come_in_order_with_their_balance_changes_and_receipts(
    history: Saldo,
) -> None:
    view = line_movements(history.uow(), msisdn=LINE, month="2026-11", now=NOW)

    rows = [
        (m.kind, m.item, m.channel, m.amount.minor, m.balance_change.minor,
         None if m.balance_after is None else m.balance_after.minor)
        for m in view.movements
    ]  # fmt: skip
    assert view.month == "2026-11"
    assert view.starts_at == datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    assert rows[0] == (MovementKind.TOPUP, None, "app", 1_000_000, 1_000_000, 1_700_000)
    assert rows[1] == (
        MovementKind.PLAN, "Pack Mensual 30 días", "sms", -900_000, -900_000, 800_000
    )  # fmt: skip
    assert [r[0] for r in rows[2:5]] == [MovementKind.USAGE] * 3
    assert {r[1] for r in rows[2:5]} == {"voice", "data", "sms"}
    assert rows[5] == (MovementKind.ADJUSTMENT, "goodwill", "staff", 50_000, 50_000, 850_000)
    assert view.movements[0].receipt == "MOVISTAR-AR-T-000000003"
    assert view.movements[1].allowances.data_bytes == 10240 * 1024**2
    assert view.totals.credits == Money(1_050_000, "ARS")
    assert view.totals.debits == Money(-900_000, "ARS")


def test_the_statement_opens_with_the_balance_the_month_started_with(history: Saldo) -> None:
    october = line_statement(history.uow(), msisdn=LINE, month="2026-10", now=NOW)
    november = line_statement(history.uow(), msisdn=LINE, month="2026-11", now=NOW)

    assert (october.opening, october.closing) == (Money(0, "ARS"), Money(700_000, "ARS"))
    assert [m.amount.minor for m in october.movements] == [500_000, 200_000]
    assert (november.opening, november.closing) == (Money(700_000, "ARS"), Money(850_000, "ARS"))
    assert november.opening.minor + november.totals.net.minor == november.closing.minor
    assert november.msisdn_masked == "+54911*****234"
    assert (november.first_day.isoformat(), november.last_day.isoformat()) == (
        "2026-11-01", "2026-11-30"
    )  # fmt: skip


def test_a_month_after_this_one_or_badly_written_is_refused(history: Saldo) -> None:
    for month in ("2026-12", "2026-13", "nov", "1999-12"):
        with pytest.raises(InvalidMonth):
            line_movements(history.uow(), msisdn=LINE, month=month, now=NOW)
    with pytest.raises(LineNotFound):
        line_movements(history.uow(), msisdn="+5491199990000", month=None, now=NOW)


def test_daily_use_has_every_day_and_the_totals(history: Saldo) -> None:
    view = line_daily_use(history.uow(), msisdn=LINE, days=30, now=NOW)

    assert len(view.days) == 30
    assert view.days[0].day.isoformat() == "2026-10-24"
    assert view.days[-1].day.isoformat() == "2026-11-22"
    by_day = {d.day.isoformat(): d for d in view.days if d.voice_seconds or d.sms or d.data_bytes}
    assert set(by_day) == {"2026-11-05", "2026-11-06"}
    assert by_day["2026-11-05"].voice_seconds == 61
    assert (view.total.voice_seconds, view.total.sms, view.total.data_bytes) == (
        61, 1, 3 * 1024**3
    )  # fmt: skip
    assert view.peak.data_bytes == 3 * 1024**3


def test_the_plan_advice_names_the_current_plan_and_what_would_cost_less(
    history: Saldo,
) -> None:
    view = plan_advice(history.uow(), msisdn=LINE, now=NOW)

    assert view.current is not None
    assert (view.current.code, view.current.price) == ("pack-mensual-1m", Money(900_000, "ARS"))
    # 3 GB, a minute and an SMS a month: the yearly pack covers it for $95.000/12 a month.
    assert view.advice.verdict is Verdict.SWITCH
    assert view.advice.best is not None
    assert view.advice.best.code == "pack-anual-12m"
    assert view.advice.best.monthly == Money(791_667, "ARS")
    assert view.advice.paid == Money(900_000, "ARS")
    assert view.advice.saving == Money(108_333, "ARS")
    assert view.names["pack-anual-12m"] == "Pack Anual 12 meses"
