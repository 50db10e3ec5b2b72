"""What a top-up writes, row by row, on both databases. Every top-up, bonus included, goes
through ``TopUpRepository.credit`` (one statement on PostgreSQL, one statement after the other
on SQLite): the rows must be the same either way, and no write may reach a bucket or a line
of another operator than the top-up's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import IntegrityViolation
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.domain.ledger import OperatorAccount, transfer
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel, Line
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.idempotency import IdempotencyKeyReused
from saldo.services.lines import NewLine, add_line
from saldo.services.ports import DuplicateIdempotencyKey, NewTopUp, TopUpBonus
from saldo.services.top_up import top_up

CLARO_CO = "+573001234567"


def _top_up(saldo: Saldo, amount: str, key: str) -> object:
    return top_up(
        saldo.uow(),
        msisdn=CLARO_CO,
        amount=Money.of(amount, "COP"),
        channel=Channel.STORE,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def _rows(saldo: Saldo, statement: object) -> list[tuple[object, ...]]:
    with saldo.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]  # type: ignore[call-overload]


def test_a_plain_topup_writes_the_bucket_the_topup_its_ledger_and_the_validity(
    saldo: Saldo,
) -> None:
    add_line(
        saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=saldo.clock.now()
    )
    first = _top_up(saldo, "5000", "a")
    second = _top_up(saldo, "20000", "b")

    main = _rows(
        saldo,
        select(t.accounts.c.id, t.accounts.c.balance).where(t.accounts.c.kind == "main"),
    )
    assert [balance for _, balance in main] == [2_500_000]
    main_id = main[0][0]
    topups = _rows(
        saldo,
        select(
            t.topups.c.id, t.topups.c.amount, t.topups.c.balance_after, t.topups.c.bonus
        ).order_by(t.topups.c.id),
    )
    assert [row[1:] for row in topups] == [(500_000, 500_000, None), (2_000_000, 2_500_000, None)]
    assert [row[0] for row in topups] == [first.topup_id, second.topup_id]  # type: ignore[attr-defined]

    entries = _rows(
        saldo,
        select(
            t.ledger_transactions.c.event_id,
            t.ledger_transactions.c.memo,
            t.ledger_entries.c.account_id,
            t.ledger_entries.c.amount,
            t.ledger_entries.c.balance_after,
        )
        .join(t.ledger_entries)
        .where(t.ledger_transactions.c.event_type == "topup")
        .order_by(t.ledger_entries.c.id),
    )
    source = next(row[2] for row in entries if row[2] != main_id)
    assert entries == [
        (topups[0][0], "top-up via store", source, -500_000, None),
        (topups[0][0], "top-up via store", main_id, 500_000, 500_000),
        (topups[1][0], "top-up via store", source, -2_000_000, None),
        (topups[1][0], "top-up via store", main_id, 2_000_000, 2_500_000),
    ]
    [(valid_until,)] = _rows(saldo, select(t.lines.c.valid_until))
    assert valid_until is not None
    assert audit_ledger(saldo.uow()).clean


PERSONAL = "+5491123456789"  # personal-ar: 10 % bonus on top-ups of $5.000 or more


def test_a_topup_with_a_bonus_writes_both_buckets_and_their_balances_in_one_transaction(
    saldo: Saldo,
) -> None:
    # given a Personal line, whose top-ups of $5.000 or more earn a 10 % bonus
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=PERSONAL, operator="personal-ar"),
        now=saldo.clock.now(),
    )

    # when it is topped up twice on the same day
    for amount, key in (("5000", "a"), ("8000", "b")):
        top_up(
            saldo.uow(),
            msisdn=PERSONAL,
            amount=Money.of(amount, "ARS"),
            channel=Channel.APP,
            idempotency_key=key,
            now=saldo.clock.now(),
        )

    # then each top-up is one ledger transaction whose main and bonus entries carry their
    # bucket's balance after, and the top-up row its bonus
    buckets = dict(
        _rows(
            saldo,
            select(t.accounts.c.kind, t.accounts.c.id).where(t.accounts.c.line_id.isnot(None)),
        )
    )
    main, bonus = buckets["main"], buckets["bonus"]
    entries = _rows(
        saldo,
        select(
            t.ledger_transactions.c.event_id,
            t.ledger_entries.c.account_id,
            t.ledger_entries.c.amount,
            t.ledger_entries.c.balance_after,
        )
        .join(t.ledger_entries)
        .where(t.ledger_entries.c.account_id.in_([main, bonus]))
        .order_by(t.ledger_entries.c.id),
    )
    topups = _rows(
        saldo,
        select(t.topups.c.id, t.topups.c.balance_after, t.topups.c.bonus).order_by(t.topups.c.id),
    )
    assert [row[1:] for row in topups] == [(500_000, 50_000), (1_300_000, 80_000)]
    first, second = topups[0][0], topups[1][0]
    assert entries == [
        (first, main, 500_000, 500_000),
        (first, bonus, 50_000, 50_000),
        (second, main, 800_000, 1_300_000),
        (second, bonus, 80_000, 130_000),
    ]
    memos = _rows(saldo, select(t.ledger_transactions.c.memo).order_by(t.ledger_transactions.c.id))
    assert memos == [("top-up via app, bonus bono-10",)] * 2
    assert audit_ledger(saldo.uow()).clean


def _put_in_grace(saldo: Saldo) -> None:
    """Store the line in grace, its validity unchanged."""
    with saldo.uow() as uow:
        record = uow.lines.get_by_msisdn(CLARO_CO, for_update=True)
        assert record is not None
        uow.lines.set_validity(
            record.line.id,
            valid_until=record.line.valid_until,
            state=LineState.GRACE,
            now=saldo.clock.now(),
        )
        uow.commit()


def test_a_topup_of_a_lapsed_line_stores_it_active_again(saldo: Saldo, clock: FixedClock) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=clock.now())
    clock.advance(timedelta(days=45))
    _put_in_grace(saldo)  # as the lifecycle worker would have

    _top_up(saldo, "5000", "back")

    [(state, changed_at)] = _rows(saldo, select(t.lines.c.state, t.lines.c.state_changed_at))
    assert state == LineState.ACTIVE.value
    assert changed_at is not None
    assert audit_ledger(saldo.uow()).clean


def test_a_key_used_twice_writes_once_and_another_payload_is_refused(saldo: Saldo) -> None:
    add_line(
        saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=saldo.clock.now()
    )
    _top_up(saldo, "5000", "same")
    _top_up(saldo, "5000", "same")
    with pytest.raises(IdempotencyKeyReused):
        _top_up(saldo, "6000", "same")

    assert len(_rows(saldo, select(t.topups.c.id))) == 1
    assert len(_rows(saldo, select(t.ledger_entries.c.id))) == 2
    assert audit_ledger(saldo.uow()).clean


def _operator_id(saldo: Saldo, slug: str) -> int:
    with saldo.uow().reading() as uow:
        operator = uow.operators.get_by_slug(slug)
    assert operator is not None and operator.id is not None
    return operator.id


def _new_topup(
    saldo: Saldo, *, line_id: int, key: str, operator: str = "claro-co", days: int = 30
) -> NewTopUp:
    now = saldo.clock.now()
    return NewTopUp(
        operator_id=_operator_id(saldo, operator),
        line_id=line_id,
        idempotency_key=key,
        request_fingerprint="f",
        amount=500_000,
        currency="COP",
        channel="store",
        validity_days=days,
        state_before=LineState.ACTIVE,
        valid_until_before=now,
        valid_until_after=now + timedelta(days=days),
        now=now,
    )


def _credit(
    uow: SqlUnitOfWork, topup: NewTopUp, *, main_bucket_id: int, bonus: TopUpBonus | None = None
) -> tuple[int, int]:
    """Every write of ``topup`` through the one write path, from the operator's TOPUPS
    account to ``main_bucket_id`` (and its PROMOTIONS account to ``bonus``'s bucket)."""
    accounts = uow.accounts
    source = accounts.operator_account(
        operator_id=topup.operator_id, kind=OperatorAccount.TOPUPS, unit="COP", now=topup.now
    )
    postings = transfer(
        from_account=source, to_account=main_bucket_id, unit="COP", amount=topup.amount
    )
    if bonus is not None:
        promotions = accounts.operator_account(
            operator_id=topup.operator_id,
            kind=OperatorAccount.PROMOTIONS,
            unit="COP",
            now=topup.now,
        )
        postings += transfer(
            from_account=promotions, to_account=bonus.bucket_id, unit="COP", amount=bonus.amount
        )
    return uow.topups.credit(
        topup,
        main_bucket_id=main_bucket_id,
        bonus=bonus,
        postings=postings,
        memo="top-up via store",
        reactivate=False,
    )


def _main_bucket(saldo: Saldo, msisdn: str) -> int:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(msisdn)
    assert record is not None
    return record.main_bucket_id


def test_only_a_taken_key_reads_as_a_replay_other_refusals_are_faults(saldo: Saldo) -> None:
    line = add_line(
        saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=saldo.clock.now()
    )
    main = _main_bucket(saldo, CLARO_CO)
    _top_up(saldo, "5000", "taken")
    uow = saldo.uow()
    with uow, pytest.raises(DuplicateIdempotencyKey):
        _credit(uow, _new_topup(saldo, line_id=line.id, key="taken"), main_bucket_id=main)
    with uow, pytest.raises(IntegrityViolation) as refused:  # no such line
        _credit(uow, _new_topup(saldo, line_id=line.id + 1000, key="fresh"), main_bucket_id=main)
    assert not isinstance(refused.value, DuplicateIdempotencyKey)
    assert len(_rows(saldo, select(t.topups.c.id))) == 1


MOVISTAR_CO = "+573151234567"


def _two_operators_lines(saldo: Saldo) -> tuple[Line, Line]:
    """A Claro Colombia line and a Movistar Colombia line, each with its main bucket."""
    now = saldo.clock.now()
    claro = add_line(saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=now)
    movistar = add_line(
        saldo.uow(), new_line=NewLine(msisdn=MOVISTAR_CO, operator="movistar-co"), now=now
    )
    return claro, movistar


def _untouched(saldo: Saldo) -> None:
    assert _rows(saldo, select(t.topups.c.id)) == []
    assert _rows(saldo, select(t.ledger_transactions.c.id)) == []
    assert _rows(saldo, select(t.accounts.c.balance).where(t.accounts.c.kind == "main")) == [
        (0,),
        (0,),
    ]


def test_a_unit_of_work_scoped_to_one_operator_writes_no_topup_of_another(saldo: Saldo) -> None:
    # given a Claro line, and a unit of work scoped to Movistar (a Movistar store's)
    claro, _ = _two_operators_lines(saldo)
    main = _main_bucket(saldo, CLARO_CO)
    valid_until = _rows(saldo, select(t.lines.c.valid_until).where(t.lines.c.id == claro.id))
    scoped = saldo.uow(operator_id=_operator_id(saldo, "movistar-co"))

    # when it writes a top-up of the Claro line
    with scoped, pytest.raises(PermissionError):
        _credit(scoped, _new_topup(saldo, line_id=claro.id, key="k"), main_bucket_id=main)
        scoped.commit()

    # then nothing of Claro's is written
    _untouched(saldo)
    assert _rows(saldo, select(t.lines.c.valid_until).where(t.lines.c.id == claro.id)) == (
        valid_until
    )


def test_a_topup_credits_no_bucket_and_extends_no_line_of_another_operator(
    saldo: Saldo,
) -> None:
    # given a Claro line and a Movistar line
    claro, movistar = _two_operators_lines(saldo)
    claro_main = _main_bucket(saldo, CLARO_CO)
    lines_before = _rows(saldo, select(t.lines.c.id, t.lines.c.valid_until).order_by(t.lines.c.id))

    # when a Movistar top-up names the Claro line's bucket, or the Claro line, or the Claro
    # line's bucket as its bonus's
    uow = saldo.uow()
    with uow, pytest.raises(IntegrityViolation):
        _credit(
            uow,
            _new_topup(saldo, line_id=movistar.id, key="k", operator="movistar-co"),
            main_bucket_id=claro_main,
        )
        uow.commit()
    with uow, pytest.raises(IntegrityViolation):
        _credit(
            uow,
            _new_topup(saldo, line_id=claro.id, key="k", operator="movistar-co", days=90),
            main_bucket_id=claro_main,
        )
        uow.commit()
    with uow, pytest.raises(IntegrityViolation):
        _credit(
            uow,
            _new_topup(saldo, line_id=movistar.id, key="k", operator="movistar-co"),
            main_bucket_id=_main_bucket(saldo, MOVISTAR_CO),
            bonus=TopUpBonus(bucket_id=claro_main, amount=50_000),
        )
        uow.commit()

    # then the database refuses it: no balance, top-up, ledger or validity is written
    _untouched(saldo)
    assert (
        _rows(saldo, select(t.lines.c.id, t.lines.c.valid_until).order_by(t.lines.c.id))
        == lines_before
    )


@pytest.fixture
def line_writes(saldo: Saldo) -> Iterator[Callable[[], int]]:
    """How many times the lines table's rows have been written (a trigger counts them)."""
    postgres = saldo.engine.dialect.name == "postgresql"
    with saldo.engine.begin() as connection:
        connection.execute(text("CREATE TABLE line_writes (line_id BIGINT)"))
        if postgres:
            connection.execute(
                text(
                    "CREATE FUNCTION count_line_write() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO line_writes VALUES (NEW.id); RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER count_line_writes AFTER UPDATE ON lines "
                    "FOR EACH ROW EXECUTE FUNCTION count_line_write()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER count_line_writes AFTER UPDATE ON lines "
                    "BEGIN INSERT INTO line_writes VALUES (NEW.id); END"
                )
            )

    def count() -> int:
        with saldo.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM line_writes")).scalar_one())

    try:
        yield count
    finally:
        with saldo.engine.begin() as connection:
            connection.execute(
                text("DROP TRIGGER count_line_writes" + (" ON lines" if postgres else ""))
            )
            if postgres:
                connection.execute(text("DROP FUNCTION count_line_write()"))
            connection.execute(text("DROP TABLE line_writes"))


def test_a_topup_that_extends_nothing_leaves_the_line_row_alone(
    saldo: Saldo, line_writes: Callable[[], int]
) -> None:
    add_line(
        saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=saldo.clock.now()
    )
    [(valid_until,)] = _rows(saldo, select(t.lines.c.valid_until))

    small = _top_up(saldo, "1000", "seven-days")  # 7 days, on a line valid for 30

    assert small.valid_until == valid_until  # type: ignore[attr-defined]
    assert line_writes() == 0
    assert _rows(saldo, select(t.lines.c.valid_until)) == [(valid_until,)]

    large = _top_up(saldo, "20000", "sixty-days")

    assert large.valid_until > valid_until  # type: ignore[attr-defined]
    assert line_writes() == 1
    assert _rows(saldo, select(t.lines.c.valid_until)) == [(large.valid_until,)]  # type: ignore[attr-defined]
    assert audit_ledger(saldo.uow()).clean


def test_a_small_topup_of_a_lapsed_line_still_reactivates_it(
    saldo: Saldo, clock: FixedClock, line_writes: Callable[[], int]
) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"), now=clock.now())
    _put_in_grace(saldo)  # with validity left, as an operator may
    before = line_writes()

    _top_up(saldo, "1000", "small")

    assert line_writes() == before + 1
    assert _rows(saldo, select(t.lines.c.state)) == [(LineState.ACTIVE.value,)]
