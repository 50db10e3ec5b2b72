"""Saldo on a PostgreSQL primary with a streaming read replica, both on loopback
(``SALDO_READ_DATABASE_URL``, docs/scaling.md): writes go to the primary and reach the
replica; the reads that may lag (a closed month's movements and statement, the daily use,
the line counts of ``/metrics``) are served by the replica, which the test proves by pausing
its replay and seeing them stale; the token check and the reads of what the subscriber has
just done (this month's movements after a top-up) stay on the primary even then."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo, bootstrap
from saldo.config import Settings
from saldo.domain.access import TokenKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.domain.statement import MovementKind
from saldo.services.access.line_history import (
    account_line_movements,
    account_line_statement,
    account_line_usage,
)
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import UsageEvent
from saldo.services.health import count_lines
from saldo.services.history import line_movements
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import policy_of, signed_in_token
from tests.conftest import load_catalog
from tests.postgres import _bin_dir
from tests.replica import StreamingPair, streaming_pair

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LINE = "+5491155551234"  # movistar-ar, America/Argentina/Buenos_Aires
OTHER_LINE = "+5491155559876"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
OCTOBER = "2026-10"


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pair() -> Iterator[StreamingPair]:
    if _bin_dir() is None:
        reason = "PostgreSQL is not installed (run `make test` as root to install it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
        pytest.skip(reason)
    with streaming_pair() as started:
        yield started


@pytest.fixture(scope="module")
def saldo(pair: StreamingPair) -> Iterator[Saldo]:
    """Saldo wired from its settings: the primary's database and the replica's copy of it."""
    with pair.primary.connect() as connection:
        connection.execute(text("CREATE DATABASE saldo"))
    primary_url, replica_url = pair.database("saldo")
    engine = make_engine(primary_url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=primary_url, read_database_url=replica_url, environment="test")
    wired = bootstrap(settings, clock=FixedClock(NOW))
    load_catalog(wired)
    yield wired
    wired.close()


def top_up_on(saldo: Saldo, when: datetime, amount: str, key: str) -> None:
    top_up(saldo.uow(), msisdn=LINE, amount=Money.of(amount, "ARS"), channel=Channel.WEB,
           idempotency_key=key, now=when)  # fmt: skip


def topups_in(saldo: Saldo, token: str, month: str | None) -> list[int]:
    """The top-ups of ``month`` (None: this month) on the line's movements page, in minor
    units, as the subscriber holding ``token`` sees them."""
    view = saldo.run(account_line_movements, policy=policy_of(saldo), token=token,
                     kind=TokenKind.APP, msisdn=LINE, month=month, now=NOW)  # fmt: skip
    return [m.amount.minor for m in view.movements if m.kind is MovementKind.TOPUP]


def used_sms(saldo: Saldo, token: str) -> int:
    view = saldo.run(account_line_usage, policy=policy_of(saldo), token=token,
                     kind=TokenKind.APP, msisdn=LINE, days=30, now=NOW)  # fmt: skip
    return view.total.sms


def send_sms(saldo: Saldo, record_id: str, when: datetime) -> None:
    event = UsageEvent(record_id=record_id, msisdn=LINE, service=Service.SMS, started_at=when,
                       quantity=1, destination="+5491155550000")  # fmt: skip
    summary = import_usage(saldo.uow(), rows=iter([(2, event)]), now=when)
    assert summary.charged == 1, summary


def lines_counted(saldo: Saldo) -> int:
    return sum(row.count for row in saldo.run(count_lines, now=NOW))


def server_port(saldo: Saldo, *, may_lag: bool) -> int:
    with saldo.uow().reading(may_lag=may_lag) as uow:
        port = uow.connection.execute(text("SELECT inet_server_port()")).scalar()
    assert isinstance(port, int)
    return port


def test_writes_go_to_the_primary_and_reads_that_may_lag_to_the_replica(
    saldo: Saldo, pair: StreamingPair
) -> None:
    # Given a line topped up in October and a subscriber signed in, all on the primary
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=at(10, 1))
    top_up_on(saldo, at(10, 10), "5000", "october-1")
    send_sms(saldo, "sms-1", at(11, 5))
    token = signed_in_token(saldo, LINE, at=NOW)

    # When the replica has replayed the primary's WAL
    pair.wait_caught_up()

    # Then the write is on the replica, and each kind of read goes where it should
    assert saldo.replica is not None
    with saldo.replica.connect() as replica:
        found = replica.execute(text("SELECT count(*) FROM lines WHERE msisdn = :n"), {"n": LINE})
        assert found.scalar() == 1
    assert server_port(saldo, may_lag=True) == pair.replica_port
    assert server_port(saldo, may_lag=False) == pair.primary_port
    assert topups_in(saldo, token, OCTOBER) == [500000]
    assert used_sms(saldo, token) == 1
    assert lines_counted(saldo) == 1


def test_a_lagging_replica_serves_stale_history_while_the_subscriber_s_own_writes_read_fresh(
    saldo: Saldo, pair: StreamingPair
) -> None:
    # Given the replica caught up, then its replay paused: from now on it lags
    pair.wait_caught_up()
    with pair.replay_paused():
        # When October gets a late top-up, an SMS is charged, a line is added, the subscriber
        # signs in again and tops up now: all on the primary only
        top_up_on(saldo, at(10, 25), "2500", "october-2")
        send_sms(saldo, "sms-2", at(11, 6))
        add_line(saldo.uow(), new_line=NewLine(msisdn=OTHER_LINE, operator="movistar-ar"),
                 now=NOW)  # fmt: skip
        token = signed_in_token(saldo, LINE, at=NOW)
        top_up_on(saldo, NOW, "3000", "november")

        # Then the token just issued is accepted (checked on the primary), this month's
        # movements show the top-up just made (read on the primary) ...
        assert topups_in(saldo, token, None) == [300000]
        # ... while October, the daily use and the line counts come from the replica, stale
        assert topups_in(saldo, token, OCTOBER) == [500000]
        statement = saldo.run(account_line_statement, policy=policy_of(saldo), token=token,
                              kind=TokenKind.APP, msisdn=LINE, month=OCTOBER, now=NOW)  # fmt: skip
        assert statement.closing.minor == 500000
        assert used_sms(saldo, token) == 1
        assert lines_counted(saldo) == 1
        # and the primary has them all (a staff read, never routed to the replica)
        on_primary = saldo.run(line_movements, msisdn=LINE, month=OCTOBER, now=NOW)
        topups = [m.amount.minor for m in on_primary.movements if m.kind is MovementKind.TOPUP]
        assert topups == [500000, 250000]

    # When replay resumes and the replica catches up, the reads that may lag see it all
    pair.wait_caught_up()
    assert topups_in(saldo, token, OCTOBER) == [500000, 250000]
    assert used_sms(saldo, token) == 2
    assert lines_counted(saldo) == 2
