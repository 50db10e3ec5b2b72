"""``saldo audit`` finds every difference between cached balances and the ledger."""

from __future__ import annotations

from sqlalchemy import text

from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

LINE = "+32470123456"


def given_a_topped_up_line(saldo: Saldo) -> None:
    add_line(
        saldo.uow(), new_line=NewLine(msisdn=LINE, operator="proximus-be"), now=saldo.clock.now()
    )
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("15", "EUR"),
        channel=Channel.APP,
        idempotency_key="t1",
        now=saldo.clock.now(),
    )
    adjust_balance(
        saldo.uow(),
        msisdn=LINE,
        kind=BucketKind.DATA,
        amount=1024,
        reason="welcome",
        actor="test",
        idempotency_key="a1",
        now=saldo.clock.now(),
    )


def test_a_clean_ledger_passes(saldo: Saldo) -> None:
    given_a_topped_up_line(saldo)

    report = audit_ledger(saldo.uow())

    assert report.clean
    assert (report.transactions, report.entries, report.buckets) == (2, 4, 2)


def test_a_cached_balance_changed_behind_the_ledger_is_found(saldo: Saldo) -> None:
    given_a_topped_up_line(saldo)
    with saldo.engine.begin() as connection:
        connection.execute(text("UPDATE accounts SET balance = balance + 1 WHERE kind = 'main'"))

    report = audit_ledger(saldo.uow())

    assert not report.clean
    assert [(d.msisdn, d.kind, d.cached, d.ledger) for d in report.drifted] == [
        (LINE, "main", 1501, 1500)
    ]


def test_an_entry_without_its_counterpart_is_found(saldo: Saldo) -> None:
    given_a_topped_up_line(saldo)
    with saldo.engine.begin() as connection:
        account = connection.execute(text("SELECT id FROM accounts WHERE kind = 'topups'")).scalar()
        connection.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account_id, amount) "
                "VALUES (1, :account, -7)"
            ),
            {"account": account},
        )

    report = audit_ledger(saldo.uow())

    assert [(u.transaction_id, u.unit, u.total) for u in report.unbalanced] == [(1, "EUR", -7)]


def test_an_audit_scoped_to_one_operator_sees_only_its_ledger(saldo: Saldo) -> None:
    given_a_topped_up_line(saldo)
    with saldo.uow().reading() as uow:
        other = uow.operators.get_by_slug("claro-co")
    assert other is not None and other.id is not None

    report = audit_ledger(saldo.uow(operator_id=other.id))

    assert (report.transactions, report.entries, report.buckets) == (0, 0, 0)
