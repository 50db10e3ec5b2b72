"""Card top-ups of an account's line, on SQLite and PostgreSQL, sent twice at the same moment
under one key (a client retrying at once): one payment is claimed and charged, the line is
credited once, and both answers name that payment."""

from __future__ import annotations

import threading

from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.services.access.line_topups import CardTopUp, top_up_by_card
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from tests.access import policy_of, signed_in_token

MOVISTAR = "+5491123456789"


def test_one_key_sent_twice_at_once_charges_and_credits_once(saldo: Saldo) -> None:
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=now)
    token = signed_in_token(saldo, MOVISTAR, at=now)
    barrier = threading.Barrier(2)
    answers: list[CardTopUp] = []

    def send() -> None:
        barrier.wait(timeout=30)
        answers.append(
            saldo.run_paying(
                top_up_by_card, policy=policy_of(saldo), token=token, kind=TokenKind.APP,
                msisdn=MOVISTAR, amount="2000", currency=None, provider=None,
                card_token="tok_approve", idempotency_key="same", now=now,
            )
        )  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == 2
    assert answers[0].id == answers[1].id
    assert {answer.replayed for answer in answers} == {False, True}
    view = inquire_balance(saldo.uow(), msisdn=MOVISTAR, now=now)
    assert view.main.minor == 200000
    assert audit_ledger(saldo.uow()).clean
