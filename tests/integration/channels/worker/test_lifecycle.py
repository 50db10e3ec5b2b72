"""The lifecycle worker with a controlled clock, on SQLite and PostgreSQL: a line's whole
life (reminders, grace, suspension, recycling with its balances forfeited, the number
reassigned after quarantine), reactivation, quiet hours, and catching up after downtime."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.notifications import notification_renderer
from saldo.channels.worker import run_forever, run_pass
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, NumberInQuarantine, add_line, set_low_balance_alert
from saldo.services.operators import register_operator
from saldo.services.outbox import Senders, deliver_outbox
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar: 30 days' validity, 30 of grace, 60 suspended, 180 resting
ACTIVATED = datetime.fromisoformat("2026-11-22T15:00:00+00:00")
VALID_UNTIL = datetime.fromisoformat("2026-12-23T03:00:00+00:00")  # midnight in Buenos Aires


@pytest.fixture
def line(saldo: Saldo, clock: FixedClock) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("1000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="t1",
        now=clock.now(),
    )  # fmt: skip  (1000 ARS grants 15 days: the validity stays at 30)
    return saldo


def at(clock: FixedClock, saldo: Saldo, moment: str) -> None:
    clock.set(datetime.fromisoformat(moment))
    report = run_pass(saldo)
    assert report.failed == []


def stored_state(saldo: Saldo) -> LineState:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        return record.line.state


def outbox(saldo: Saldo) -> list[tuple[str, str, dict[str, object], datetime]]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(
            select(t.outbox.c.key, t.outbox.c.channel, t.outbox.c.payload,
                   t.outbox.c.next_attempt_at).order_by(t.outbox.c.id)
        ).all()  # fmt: skip
    return [(key, channel, payload, due) for key, channel, payload, due in rows]


def reminders(saldo: Saldo) -> list[tuple[str, str, dict[str, object], datetime]]:
    return [row for row in outbox(saldo) if row[2]["kind"] == "expiry_reminder"]


def told_of_state(saldo: Saldo) -> list[tuple[str, str, dict[str, object], datetime]]:
    """The SMS that tell the subscriber the line entered grace or was suspended."""
    kinds = ("line_in_grace", "line_suspended")
    return [row for row in outbox(saldo) if row[2]["kind"] in kinds]


def deliver(saldo: Saldo, sms: FakeSmsSender, *, at: str) -> list[str]:
    """The texts of the SMS delivered at ``at`` through a fake gateway."""
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    before = len(sms.sent)
    deliver_outbox(
        saldo.uow(),
        senders=Senders(sms=sms, email=None, webhook=None),
        render=render,
        now=datetime.fromisoformat(at),
    )
    return [sent.text for sent in sms.sent[before:]]


def events(saldo: Saldo) -> list[tuple[str, str, str]]:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        return [
            (f"{a}>{b}", reason, f"{when:%Y-%m-%d %H:%M}")
            for a, b, reason, when in uow.lines.events(record.line.id)
        ]


def test_a_line_lives_through_reminders_grace_suspension_and_recycling(
    line: Saldo, clock: FixedClock
) -> None:
    at(clock, line, "2026-12-16T12:00:00-03:00")  # 7 days before: first reminder
    at(clock, line, "2026-12-16T12:01:00-03:00")  # nothing new
    at(clock, line, "2026-12-20T12:00:00-03:00")  # 3 days before
    at(clock, line, "2026-12-22T12:00:00-03:00")  # 1 day before
    at(clock, line, "2026-12-23T00:30:00-03:00")  # expired: grace
    in_grace = stored_state(line)
    at(clock, line, "2027-01-22T00:30:00-03:00")  # 30 days of grace: suspended
    in_suspension = stored_state(line)
    at(clock, line, "2027-03-23T00:30:00-03:00")  # 60 days suspended: recycled
    recycled = stored_state(line)

    assert [key.rsplit("-", 1)[1] for key, *_ in reminders(line)] == ["7", "3", "1"]
    assert [payload["kind"] for _, _, payload, _ in told_of_state(line)] == [
        "line_in_grace",
        "line_suspended",
    ]
    assert (in_grace, in_suspension, recycled) == (
        LineState.GRACE,
        LineState.SUSPENDED,
        LineState.RECYCLED,
    )
    assert events(line) == [
        ("active>grace", "validity ended", "2026-12-23 03:00"),
        ("grace>suspended", "30 days of grace ended", "2027-01-22 03:00"),
        (
            "suspended>recycled",
            "60 days of suspension ended; the number rests 180 days",
            "2027-03-23 03:00",
        ),
    ]
    with line.uow().reading() as uow:
        found = uow.lines.get_with_buckets(LINE)
        assert found is not None
        assert [b.balance for b in found.buckets if b.kind is BucketKind.MAIN] == [0]
    assert audit_ledger(line.uow()).clean


def test_a_recycled_number_is_given_to_a_new_line_only_after_quarantine(
    line: Saldo, clock: FixedClock
) -> None:
    at(clock, line, "2027-03-23T00:30:00-03:00")

    clock.set(datetime.fromisoformat("2027-09-18T12:00:00-03:00"))
    with pytest.raises(NumberInQuarantine):
        add_line(line.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    clock.set(datetime.fromisoformat("2027-09-20T12:00:00-03:00"))
    again = add_line(
        line.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now()
    )

    assert again.state is LineState.ACTIVE
    assert stored_state(line) is LineState.ACTIVE  # the number's live line is the new one


@pytest.mark.parametrize(
    ("moment", "before"),
    [("2026-12-30T12:00:00-03:00", LineState.GRACE), ("2027-02-01T12:00:00-03:00",
                                                     LineState.SUSPENDED)],
)  # fmt: skip
def test_a_top_up_in_grace_or_suspension_brings_the_line_back(
    line: Saldo, clock: FixedClock, moment: str, before: LineState
) -> None:
    at(clock, line, moment)
    was = stored_state(line)

    top_up(
        line.uow(), msisdn=LINE, amount=Money.of("2000", "ARS"), channel=Channel.STORE,
        idempotency_key="back", now=clock.now(),
    )  # fmt: skip
    at(clock, line, moment.replace("12:00", "12:05"))

    assert (was, stored_state(line)) == (before, LineState.ACTIVE)


def test_an_sms_reminder_waits_for_the_end_of_the_quiet_hours(
    line: Saldo, clock: FixedClock
) -> None:
    at(clock, line, "2026-12-16T23:30:00-03:00")  # 23:30 in Buenos Aires

    ((_, channel, _, due),) = outbox(line)
    assert channel == "sms"
    assert due == datetime.fromisoformat("2026-12-17T09:00:00-03:00")


def test_after_three_days_down_the_worker_catches_up_once_and_in_order(
    line: Saldo, clock: FixedClock
) -> None:
    at(clock, line, "2026-12-14T12:00:00-03:00")  # nothing due yet (9 days before)
    at(clock, line, "2026-12-21T12:00:00-03:00")  # down since: 7 and 3 days were missed

    caught_up = [key.rsplit("-", 1)[1] for key, *_ in outbox(line)]
    at(clock, line, "2027-01-23T12:00:00-03:00")  # down through grace and into suspension
    states = [e[0] for e in events(line)]

    assert caught_up == ["3"]  # the nearest only, never a triple reminder
    assert states == ["active>grace", "grace>suspended"]


def test_no_reminder_for_a_line_renewed_before_it_was_due(line: Saldo, clock: FixedClock) -> None:
    at(clock, line, "2026-12-10T12:00:00-03:00")
    top_up(
        line.uow(),
        msisdn=LINE,
        amount=Money.of("5000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="renew",
        now=clock.now(),
    )  # fmt: skip  (30 more days from now)
    at(clock, line, "2026-12-20T12:00:00-03:00")

    assert outbox(line) == []


def test_a_debit_below_the_threshold_queues_one_low_balance_alert(
    line: Saldo, clock: FixedClock
) -> None:
    for key in ("a1", "a2", "a3"):
        adjust_balance(
            line.uow(), msisdn=LINE, amount=-30000, kind=BucketKind.MAIN, reason="test",
            actor="qa", idempotency_key=key, now=clock.now(),
        )  # fmt: skip

    alerts = [payload for _, _, payload, _ in outbox(line) if payload["kind"] == "low_balance"]
    assert alerts == [
        {"kind": "low_balance", "line_id": alerts[0]["line_id"], "balance": 40000,
         "threshold": 50000},
    ]  # fmt: skip


def test_an_operator_with_a_webhook_url_hears_of_each_transition(
    line: Saldo, clock: FixedClock
) -> None:
    spec = next(s for s in bundled_specs() if s.slug == "movistar-ar")
    spec = spec.model_copy(update={"webhook_url": "https://hooks.movistar.example/saldo"})
    register_operator(
        line.uow(), operator=spec.to_operator(), spec=spec.model_dump(mode="json"),
        now=clock.now(),
    )  # fmt: skip

    at(clock, line, "2027-01-23T12:00:00-03:00")

    changes = [
        (payload["from"], payload["to"], payload["effective_at"])
        for _, channel, payload, _ in outbox(line)
        if channel == "webhook"
    ]
    assert changes == [
        ("active", "grace", "2026-12-23T03:00:00+00:00"),
        ("grace", "suspended", "2027-01-22T03:00:00+00:00"),
    ]


def test_a_line_s_own_threshold_replaces_the_operator_s(line: Saldo, clock: FixedClock) -> None:
    set_low_balance_alert(line.uow(), msisdn=LINE, threshold=Money.of("800", "ARS"))

    adjust_balance(
        line.uow(), msisdn=LINE, amount=-30000, kind=BucketKind.MAIN, reason="test",
        actor="qa", idempotency_key="a1", now=clock.now(),
    )  # fmt: skip

    alerts = [payload for _, _, payload, _ in outbox(line) if payload["kind"] == "low_balance"]
    assert [(a["balance"], a["threshold"]) for a in alerts] == [(70000, 80000)]


def test_the_scheduled_worker_says_what_it_does_then_logs_only_the_passes_that_did_something(
    saldo_sqlite: Saldo, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a line whose validity ran out 40 days ago (due for grace),
    now = saldo_sqlite.clock.now()
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn=LINE, operator="movistar-ar"),
        now=now - timedelta(days=40),
    )
    caplog.set_level(logging.INFO, logger="saldo.channels.worker")
    stop = threading.Event()

    # When the worker runs on a schedule for a few passes,
    worker = threading.Thread(
        target=run_forever,
        args=(saldo_sqlite,),
        kwargs={"interval": timedelta(seconds=0.05), "stop": stop},
    )
    worker.start()
    time.sleep(1)
    stop.set()
    worker.join(timeout=10)

    # Then it said once what it does, and logged the one pass that moved the line.
    said = [r.getMessage() for r in caplog.records if r.name == "saldo.channels.worker"]
    assert said[0].startswith("a pass every 0.05 s: expires unpaid orders")
    passes = [message for message in said if message.startswith("pass at")]
    assert len(passes) == 1, said
    assert "lifecycle moved grace 1" in passes[0]


def test_the_subscriber_is_told_by_sms_when_the_line_enters_grace_and_when_it_is_suspended(
    line: Saldo, clock: FixedClock
) -> None:
    # given a line whose validity ends at midnight starting 23 December in Buenos Aires
    sms = FakeSmsSender()

    # when the worker moves it into grace at 00:30, and into suspension 30 days later
    at(clock, line, "2026-12-23T00:30:00-03:00")
    (queued_in_grace,) = told_of_state(line)
    in_grace = deliver(line, sms, at="2026-12-23T09:00:00-03:00")
    at(clock, line, "2027-01-22T00:30:00-03:00")
    _, queued_suspended = told_of_state(line)
    suspended = deliver(line, sms, at="2027-01-22T09:00:00-03:00")

    # then each SMS waited out the quiet hours and says, in Spanish, until when and how the
    # number can be kept (it is recycled at midnight starting 23 March)
    assert [
        (payload["kind"], due) for _, _, payload, due in (queued_in_grace, queued_suspended)
    ] == [
        ("line_in_grace", datetime.fromisoformat("2026-12-23T09:00:00-03:00")),
        ("line_suspended", datetime.fromisoformat("2027-01-22T09:00:00-03:00")),
    ]
    assert in_grace == [
        "Movistar: su linea vencio y solo puede recibir llamadas. Para conservar su numero, "
        "renuévela hasta el 22 mar 2027: envie RENOVAR pack-mensual-1m al 121."
    ]
    assert suspended == [
        "Movistar: su linea esta suspendida. Para conservar su numero y su saldo, renuévela "
        "hasta el 22 mar 2027: envie RENOVAR pack-mensual-1m al 121 o marque *444#."
    ]


def test_a_line_that_lapsed_through_grace_while_the_worker_was_down_hears_only_of_suspension(
    line: Saldo, clock: FixedClock
) -> None:
    # given a worker that was down from before the end of validity until suspension
    at(clock, line, "2026-12-21T12:00:00-03:00")

    # when it runs again at noon
    at(clock, line, "2027-01-23T12:00:00-03:00")
    at(clock, line, "2027-01-23T12:05:00-03:00")

    # then one SMS is queued, about where the line is now, to go at once
    assert [(payload["kind"], due) for _, _, payload, due in told_of_state(line)] == [
        ("line_suspended", datetime.fromisoformat("2027-01-23T12:00:00-03:00")),
    ]


def test_news_of_grace_is_dropped_when_the_line_is_renewed_before_it_goes_out(
    line: Saldo, clock: FixedClock
) -> None:
    # given a line that entered grace at night, its SMS held until 09:00
    at(clock, line, "2026-12-23T00:30:00-03:00")
    sms = FakeSmsSender()

    # when it is topped up back to active at 08:00
    clock.set(datetime.fromisoformat("2026-12-23T08:00:00-03:00"))
    top_up(
        line.uow(), msisdn=LINE, amount=Money.of("5000", "ARS"), channel=Channel.STORE,
        idempotency_key="back", now=clock.now(),
    )  # fmt: skip
    sent = deliver(line, sms, at="2026-12-23T09:00:00-03:00")

    # then nothing is sent: the line is no longer in grace
    assert sent == []
    assert len(told_of_state(line)) == 1


def test_a_dutch_speaking_line_is_told_of_its_grace_in_dutch(
    saldo: Saldo, clock: FixedClock
) -> None:
    # given a Proximus line that speaks Dutch
    dutch = NewLine(msisdn="+32470123456", operator="proximus-be", language="nl")
    valid_until = add_line(saldo.uow(), new_line=dutch, now=clock.now()).valid_until
    sms = FakeSmsSender()

    # when its validity has ended and the worker runs at noon
    noon = valid_until + timedelta(hours=12)
    clock.set(noon)
    run_pass(saldo)
    sent = deliver(saldo, sms, at=noon.isoformat())

    # then its SMS is in Dutch, with the last day before recycling (30 days of grace and 180
    # suspended from 23 December: recycled at midnight starting 21 July)
    assert valid_until == datetime.fromisoformat("2026-12-23T00:00:00+01:00")
    assert sent == [
        "Proximus: uw lijn is verlopen, enkel inkomende oproepen. Verleng uiterlijk 20 jul 2027 "
        "om uw nummer te houden: stuur VERLENGEN mobile-smart-1m naar 6000."
    ]
