"""The SMS keyword service's use case, called as the channel calls it, on SQLite and
PostgreSQL: what it hands the channel's renderer, what it remembers, and how many
transactions an inquiry takes (the real unit of work, counting the ones it opens)."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from sqlalchemy import Engine

from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.inquire_balance import BalanceView
from saldo.services.lines import NewLine, add_line
from saldo.services.sms_keywords import Answer, SmsAnswer, answer_sms
from saldo.services.top_up import top_up

PERSONAL_AR = "+5491123456789"
UNKNOWN_AR = "+5491100000000"


class CountingUnitOfWork(SqlUnitOfWork):
    """The real unit of work, noting each transaction it opens: "read" or "write"."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.opened: list[str] = []

    def __enter__(self) -> SqlUnitOfWork:
        self.opened.append("write")
        return super().__enter__()

    def reading(self) -> AbstractContextManager[SqlUnitOfWork]:  # type: ignore[override]
        self.opened.append("read")
        return super().reading()


class Renderer:
    """A channel's renderer that keeps what it was asked to write."""

    def __init__(self) -> None:
        self.asked: list[SmsAnswer] = []

    def __call__(self, answer: SmsAnswer) -> str:
        self.asked.append(answer)
        return f"reply {len(self.asked)}: {answer.answer}"


@pytest.fixture
def personal(saldo: Saldo) -> str:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=PERSONAL_AR, operator="personal-ar"),
        now=saldo.clock.now(),
    )
    top_up(
        saldo.uow(),
        msisdn=PERSONAL_AR,
        amount=Money.of("3000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="store-3000",
        now=saldo.clock.now(),
    )
    return PERSONAL_AR


def ask(
    saldo: Saldo,
    uow: SqlUnitOfWork,
    render: Renderer,
    *,
    sender: str = PERSONAL_AR,
    text: str = "SALDO",
    message_id: str | None = None,
) -> str:
    return answer_sms(
        uow,
        sender=sender,
        to="100",
        text=text,
        message_id=message_id,
        pin_key=saldo.pin_key,
        render=render,
        now=saldo.clock.now(),
    )


def test_a_balance_inquiry_with_a_message_id_is_one_read_and_one_write(
    saldo: Saldo, personal: str
) -> None:
    uow = CountingUnitOfWork(saldo.engine)

    ask(saldo, uow, Renderer(), message_id="kannel-1")

    assert uow.opened == ["read", "write"]


def test_a_balance_inquiry_without_a_message_id_is_one_read(saldo: Saldo, personal: str) -> None:
    uow = CountingUnitOfWork(saldo.engine)

    ask(saldo, uow, Renderer())

    assert uow.opened == ["read"]


def test_a_message_id_seen_before_is_answered_from_one_read_with_the_first_reply(
    saldo: Saldo, personal: str
) -> None:
    render = Renderer()
    first = ask(saldo, saldo.uow(), render, message_id="kannel-1")
    uow = CountingUnitOfWork(saldo.engine)

    again = ask(saldo, uow, render, text="AYUDA", message_id="kannel-1")

    assert again == first == "reply 1: balance"
    assert uow.opened == ["read"]
    assert len(render.asked) == 1


def test_the_renderer_gets_the_balance_view_in_the_line_s_language(
    saldo: Saldo, personal: str
) -> None:
    render = Renderer()

    ask(saldo, saldo.uow(), render)

    [answer] = render.asked
    assert answer.answer is Answer.BALANCE
    assert answer.language == "es"
    assert answer.operator is not None and answer.operator.slug == "personal-ar"
    assert isinstance(answer.about, BalanceView)
    assert answer.about.main == Money.of("3000", "ARS")


def test_an_unknown_sender_is_answered_in_the_short_code_s_language_without_a_line(
    saldo: Saldo,
) -> None:
    render = Renderer()

    ask(saldo, saldo.uow(), render, sender=UNKNOWN_AR)

    assert render.asked == [SmsAnswer(Answer.UNKNOWN_SENDER, language="es")]


def test_a_reply_that_cannot_be_written_is_answered_as_failed_and_remembered(
    saldo: Saldo, personal: str
) -> None:
    asked: list[Answer] = []

    def render(answer: SmsAnswer) -> str:
        asked.append(answer.answer)
        if answer.answer is Answer.BALANCE:
            raise RuntimeError("a renderer's bug")
        return "failed"

    reply = answer_sms(
        saldo.uow(),
        sender=PERSONAL_AR,
        to="100",
        text="SALDO",
        message_id="kannel-1",
        pin_key=saldo.pin_key,
        render=render,
        now=saldo.clock.now(),
    )
    again = ask(saldo, saldo.uow(), Renderer(), message_id="kannel-1")

    assert reply == again == "failed"
    assert asked == [Answer.BALANCE, Answer.FAILED]
