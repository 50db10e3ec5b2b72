"""Units of work on SQLite run on connections their thread keeps open between them
(``ThreadConnections``), one for reads and one for writes. What that must never change: a
read sees every commit made before it, reads cannot write, a read inside a read still works,
threads do not share a connection, a failed write leaves nothing open behind it, and
disposing of the engine closes them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import kept_connections, make_engine
from saldo.bootstrap import Saldo
from saldo.domain.ledger import OperatorAccount
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


def test_disposing_of_the_engine_closes_them_and_work_goes_on(saldo: Saldo) -> None:
    with saldo.uow().reading() as uow:
        reader = uow.connection
    with saldo.uow() as uow:
        writer = uow.connection
    saldo.engine.dispose()
    assert reader.closed and writer.closed
    assert _main(saldo) == 0
    _top_up(saldo, "after-dispose")
    with saldo.uow().reading() as uow:
        assert uow.connection is not reader


def test_an_in_memory_database_has_none(clock: FixedClock) -> None:
    engine = make_engine("sqlite://")
    assert kept_connections(engine) is None
    engine.dispose()


def test_the_thread_keeps_its_writer_too(saldo: Saldo) -> None:
    with saldo.uow() as first:
        kept = first.connection
        first.commit()
    with saldo.uow() as second:
        assert second.connection is kept


def test_a_failed_write_leaves_no_transaction_open(saldo: Saldo) -> None:
    uow = saldo.uow()
    with pytest.raises(RuntimeError), uow:
        uow.connection.execute(text("UPDATE accounts SET balance = 77 WHERE kind = 'main'"))
        raise RuntimeError("the use case refused")
    assert _main(saldo) == 0  # rolled back
    _top_up(saldo, "after-the-failure")  # the same kept writer begins again
    assert _main(saldo) == 500_000


def test_a_write_and_a_read_of_the_same_thread_use_different_connections(saldo: Saldo) -> None:
    uow = saldo.uow()
    with uow:
        uow.connection.execute(text("UPDATE accounts SET balance = 77 WHERE kind = 'main'"))
        assert _main(saldo) == 0  # a read sees only what is committed
        uow.commit()
    assert _main(saldo) == 77


def test_writers_of_several_threads_each_apply_once(saldo: Saldo) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for k in range(5):
                _top_up(saldo, f"thread-{n}-{k}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _main(saldo) == 20 * 500_000


def test_a_failed_commit_leaves_no_lock_behind(saldo: Saldo, sqlite_url: str) -> None:
    # A COMMIT can fail (a full disk, an I/O error; here a deferred foreign key) and leave
    # the driver inside the transaction, holding the database's write lock.
    uow = saldo.uow()
    with pytest.raises(IntegrityError), uow:
        uow.connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        uow.connection.exec_driver_sql(
            "INSERT INTO accounts (operator_id, kind, unit, balance, created_at)"
            " VALUES (9999, 'topups', 'COP', 0, '2026-11-22 15:00:00.000000')"
        )
        uow.commit()

    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.5)
    other.execute("BEGIN IMMEDIATE")  # would raise "database is locked"
    other.execute("ROLLBACK")
    other.close()
    _top_up(saldo, "after-a-failed-commit")  # this thread writes again
    assert _main(saldo) == 500_000


def test_a_rollback_forgets_the_operator_accounts_it_opened(saldo: Saldo) -> None:
    uow = saldo.uow()
    with uow:
        operator = uow.operators.get_by_slug("claro-co")
        assert operator is not None and operator.id is not None
        uow.accounts.operator_account(
            operator_id=operator.id,
            kind=OperatorAccount.FORFEITS,
            unit="COP",
            now=saldo.clock.now(),
        )
        uow.rollback()
        uow.commit()  # commits nothing: the account is gone with the rollback
    with saldo.engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM accounts WHERE kind = 'forfeits'"
        ).scalar_one()
    assert found == 0
    uow = saldo.uow()
    with uow:
        opened = uow.accounts.operator_account(
            operator_id=operator.id,
            kind=OperatorAccount.FORFEITS,
            unit="COP",
            now=saldo.clock.now(),
        )
        uow.commit()
    with saldo.engine.connect() as connection:
        kind = connection.exec_driver_sql(
            f"SELECT kind FROM accounts WHERE id = {opened}"
        ).scalar_one()
    assert kind == "forfeits"
