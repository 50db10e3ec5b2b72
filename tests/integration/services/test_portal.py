"""The portal's line page on SQLite and PostgreSQL: the buckets beside the plan's allowance,
the dates of what happens next, the automatic payments and the APN, for the account's own
lines only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.adjust_balance import adjust_balance
from saldo.services.auto_renewal import set_auto_renewal
from saldo.services.lines import LineNotFound, NewLine, add_line
from saldo.services.portal import BucketLine, line_page
from saldo.services.top_up import top_up
from tests.access import policy_of, signed_in_token
from tests.conftest import NOW

LINE = "+573001234567"
OTHER = "+573109876543"
MB = 1024 * 1024


@pytest.fixture
def token(saldo: Saldo) -> str:
    for msisdn in (LINE, OTHER):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator="claro-co"), now=NOW)
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("50000", "COP"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=NOW,
    )
    return signed_in_token(saldo, LINE, at=NOW)


def test_without_a_plan_only_what_the_line_has_is_shown(saldo: Saldo, token: str) -> None:
    page = line_page(
        saldo.uow(), policy=policy_of(saldo), token=token, kind=TokenKind.APP, msisdn=LINE, now=NOW
    )

    assert page.plan is None
    assert page.buckets == (
        BucketLine(kind=BucketKind.MAIN, amount=5_000_000, allowance=None, expires_at=None),
    )
    assert page.line.state is LineState.ACTIVE
    assert page.grace_ends_at > page.line.valid_until
    assert page.recycles_at > page.grace_ends_at
    assert page.auto_renewal is None and page.auto_topup is None
    assert page.apn is not None and page.apn.name == "internet.comcel.com.co"


def test_the_plan_on_auto_renewal_gives_the_allowances_the_bars_measure(
    saldo: Saldo, token: str
) -> None:
    adjust_balance(
        saldo.uow(),
        msisdn=LINE,
        kind=BucketKind.DATA,
        amount=512 * MB,
        reason="pack",
        actor="test",
        idempotency_key="data",
        expires_at=NOW + timedelta(days=10),
        now=NOW,
    )
    set_auto_renewal(
        saldo.uow(),
        msisdn=LINE,
        plan_code="todo-incluido-1m",
        provider="balance",
        token=None,
        providers=(),
        fallback_to_balance=True,
        days_before=2,
        email=None,
        enabled=True,
        now=NOW,
    )

    page = line_page(
        saldo.uow(), policy=policy_of(saldo), token=token, kind=TokenKind.APP, msisdn=LINE, now=NOW
    )

    assert page.plan is not None and page.plan.code == "todo-incluido-1m"
    kinds = {bucket.kind: bucket for bucket in page.buckets}
    assert kinds[BucketKind.DATA] == BucketLine(
        kind=BucketKind.DATA,
        amount=512 * MB,
        allowance=page.plan.allowances.data_bytes,
        expires_at=NOW + timedelta(days=10),
    )
    assert kinds[BucketKind.VOICE].amount == 0
    assert kinds[BucketKind.VOICE].allowance == page.plan.allowances.voice_seconds
    assert page.auto_renewal is not None and page.auto_renewal.days_before == 2


def test_a_line_of_no_account_of_theirs_is_not_found(saldo: Saldo, token: str) -> None:
    with pytest.raises(LineNotFound):
        line_page(
            saldo.uow(),
            policy=policy_of(saldo),
            token=token,
            kind=TokenKind.APP,
            msisdn=OTHER,
            now=NOW,
        )
