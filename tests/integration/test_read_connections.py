"""SQLite reads run on a connection their thread keeps open between units of work
(``ThreadReaders``). What that must never change: a read sees every commit made before it,
reads cannot write, a read inside a read still works, threads do not share a connection, and
disposing of the engine closes them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine, readers_for
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.conftest import load_catalog, wire

NUMBER = "+573001234567"


@pytest.fixture
def saldo(sqlite_url: str, clock: FixedClock) -> Iterator[Saldo]:
    wired = wire(sqlite_url, clock)
    load_catalog(wired)
    add_line(wired.uow(), new_line=NewLine(msisdn=NUMBER, operator="claro-co"), now=clock.now())
    yield wired
    wired.close()


def _top_up(saldo: Saldo, key: str) -> None:
    top_up(
        saldo.uow(),
        msisdn=NUMBER,
        amount=Money.of("5000", "COP"),
        channel=Channel.STORE,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def _main(saldo: Saldo) -> int:
    return inquire_balance(saldo.uow(), msisdn=NUMBER, now=saldo.clock.now()).main.minor


def test_a_kept_connection_sees_every_commit_made_after_it_was_opened(saldo: Saldo) -> None:
    assert _main(saldo) == 0  # the thread's read connection is open from here on
    for n in range(1, 4):
        _top_up(saldo, f"k{n}")
        assert _main(saldo) == n * 500_000


def test_a_commit_from_another_process_is_seen_too(saldo: Saldo, sqlite_url: str) -> None:
    assert _main(saldo) == 0
    other = make_engine(sqlite_url)  # as another process would, with its own connections
    with other.begin() as connection:
        connection.execute(text("UPDATE accounts SET balance = 123 WHERE kind = 'main'"))
    other.dispose()
    assert _main(saldo) == 123


def test_the_same_connection_serves_the_thread_again(saldo: Saldo) -> None:
    with saldo.uow().reading() as first:
        kept = first.connection
    with saldo.uow().reading() as second:
        assert second.connection is kept


def test_reads_cannot_write(saldo: Saldo) -> None:
    with saldo.uow().reading() as uow, pytest.raises(OperationalError, match="readonly"):
        uow.connection.execute(text("UPDATE accounts SET balance = 1"))
    assert _main(saldo) == 0


def test_a_read_inside_a_read_takes_another_connection(saldo: Saldo) -> None:
    with saldo.uow().reading() as outer:
        with saldo.uow().reading() as inner:
            assert inner.connection is not outer.connection
            assert inner.lines.get_with_buckets(NUMBER) is not None
        assert outer.lines.get_with_buckets(NUMBER) is not None


def test_threads_keep_connections_of_their_own(saldo: Saldo) -> None:
    seen: list[object] = []

    def read() -> None:
        with saldo.uow().reading() as uow:
            seen.append(uow.connection)
            assert uow.lines.get_with_buckets(NUMBER) is not None

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read()
    assert len({id(connection) for connection in seen}) == 5


def test_disposing_of_the_engine_closes_them_and_reads_go_on(saldo: Saldo) -> None:
    with saldo.uow().reading() as uow:
        kept = uow.connection
    saldo.engine.dispose()
    assert kept.closed
    assert _main(saldo) == 0
    with saldo.uow().reading() as uow:
        assert uow.connection is not kept


def test_an_in_memory_database_has_none(clock: FixedClock) -> None:
    engine = make_engine("sqlite://")
    assert readers_for(engine) is None
    engine.dispose()
