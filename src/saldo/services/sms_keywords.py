"""The SMS keyword service as one use case: one inbound SMS in, one reply out.

The sender's number identifies the line and its operator; the short code it was sent to must
be that operator's. The text is matched against the operator's keywords (case, accents and
extra spaces ignored) and becomes the action it names. A gateway message id seen before gets
the reply it got the first time, and nothing is done again.

What to answer is decided here, as an ``SmsAnswer``; the channel's ``render`` writes it in
the line's language, and that text is the reply remembered for the message id.

Transactions: the reply remembered for the message id and the sender's line are read in one
read transaction; an action that changes something (a top-up by voucher PIN, an offer, its
confirmation) runs in its own, as it does from any channel; the reply is remembered in one
write transaction. A balance inquiry is thus one read, and one write when the gateway gave a
message id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Final, NamedTuple

from saldo.domain.errors import SaldoError
from saldo.domain.keywords import Command, match_keyword
from saldo.domain.lines import Channel
from saldo.domain.numbering import InvalidMsisdn, lookup_msisdn, mask_msisdn, same_number
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpReceipt
from saldo.services.buy_plan import PlanPurchaseReceipt, PlanQuote
from saldo.services.conversations import confirm_offer, offer_plan, remember_reply
from saldo.services.inquire_balance import BalanceView, balance_view
from saldo.services.lines import LineNotFound, LineRecycled, live_line_with_buckets
from saldo.services.operators import language_of_code
from saldo.services.ports import LineWithBuckets, UnitOfWork
from saldo.services.vouchers import redeem_voucher

log = logging.getLogger(__name__)

# Longer texts are cut before matching: no keyword is that long.
MAX_TEXT: Final = 480
# Under this channel name the replies given to gateway message ids are remembered.
_REPLIES: Final = Channel.SMS.value


class Answer(StrEnum):
    """Which reply an SMS gets."""

    UNKNOWN_SENDER = "unknown_sender"  # the number is no line's
    RECYCLED = "recycled"
    UNKNOWN_SERVICE = "unknown_service"  # a short code that is not the line's operator's
    BALANCE = "balance"
    PIN_MISSING = "pin_missing"
    TOPPED_UP = "topped_up"
    PLANS = "plans"
    RENEW_MISSING = "renew_missing"
    OFFER = "offer"
    PLAN_BOUGHT = "plan_bought"
    HELP = "help"
    REFUSED = "refused"  # a SaldoError, in the subscriber's words
    FAILED = "failed"  # anything unexpected (logged)


About = BalanceView | TopUpReceipt | PlanQuote | PlanPurchaseReceipt | SaldoError | None


class SmsAnswer(NamedTuple):
    """The reply to an SMS, decided: which ``answer``, in which ``language``, on behalf of
    which ``operator`` (None when the sender is no line's, or a recycled one's), and what it
    is about: the balance, the top-up's receipt, the plan's quote, the purchase's receipt or
    the refusal. (A named tuple, as ``BalanceView`` is: made on every SALDO.)"""

    answer: Answer
    language: str
    operator: Operator | None = None
    about: About = None


# Writes an answer as the reply's final text (the channel's business: the line's language,
# the SMS alphabet and length).
SmsRenderer = Callable[[SmsAnswer], str]


def answer_sms(
    uow: UnitOfWork,
    *,
    sender: str,
    to: str,
    text: str,
    message_id: str | None,
    pin_key: bytes,
    render: SmsRenderer,
    now: datetime,
) -> str:
    """The reply, written by ``render``, to the SMS ``text`` that ``sender`` sent to the
    short code ``to``; with a ``message_id`` seen before from this sender, the reply given
    then, and nothing is done again. Never raises for anything a sender can type: a refusal
    is an answer, and anything unexpected is logged (the number masked) and answered as
    failed."""
    now = require_aware(now)
    key = _reply_key(sender=sender, message_id=message_id)
    try:
        with uow.reading():
            if key:
                earlier = uow.conversations.recall_reply(channel=_REPLIES, message_id=key)
                if earlier is not None:
                    return earlier
            found = live_line_with_buckets(uow, number=lookup_msisdn(sender), now=now)
    except (InvalidMsisdn, LineNotFound):
        language = language_of_code(uow, code=to, channel=Channel.SMS)
        answer = SmsAnswer(Answer.UNKNOWN_SENDER, language=language)
    except LineRecycled as recycled:
        answer = SmsAnswer(Answer.RECYCLED, language=recycled.language)
    else:
        answer = _answer(uow, found, to=to, text=text, pin_key=pin_key, now=now)
    reply = _written(render, answer, sender=sender)
    if key:
        remember_reply(uow, channel=_REPLIES, message_id=key, reply=reply, now=now)
    return reply


def _printable(text: str) -> str:
    """``text`` without control characters (NUL cannot even be stored in PostgreSQL)."""
    return "".join(char for char in text if char.isprintable()).strip()


def _reply_key(*, sender: str, message_id: str | None) -> str:
    """What a reply is remembered under ("" for a message without an id). A gateway's
    message ids are unique per sender at most: the sender is part of the key, so a reused id
    can never show one subscriber another's reply. The sender is taken however the gateway
    wrote the number (``+57…``, ``57…``, ``0057…``)."""
    kept = _printable(message_id or "")[:96]
    return f"{same_number(_printable(sender)[:24])}:{kept}" if kept else ""


def _answer(
    uow: UnitOfWork, found: LineWithBuckets, *, to: str, text: str, pin_key: bytes, now: datetime
) -> SmsAnswer:
    line, operator = found.line, found.operator
    if not operator.answers_short_code(to):
        return SmsAnswer(Answer.UNKNOWN_SERVICE, language=line.language, operator=operator)
    command = match_keyword(text[:MAX_TEXT], keywords=operator.sms.keywords)
    try:
        answer, about = _carry_out(uow, found, command, pin_key=pin_key, now=now)
    except SaldoError as error:
        answer, about = Answer.REFUSED, error
    except Exception:
        log.exception("SMS from %s could not be handled", mask_msisdn(line.msisdn))
        answer, about = Answer.FAILED, None
    return SmsAnswer(answer, language=line.language, operator=operator, about=about)


def _carry_out(
    uow: UnitOfWork, found: LineWithBuckets, command: Command, *, pin_key: bytes, now: datetime
) -> tuple[Answer, About]:
    msisdn, argument = found.line.msisdn, command.argument
    if command.action == "balance":
        # The line was read with its buckets to identify it: nothing more to read.
        return Answer.BALANCE, balance_view(found, now=now)
    if command.action == "topup":
        if not argument:
            return Answer.PIN_MISSING, None
        receipt = redeem_voucher(
            uow, msisdn=msisdn, pin=argument, channel=Channel.SMS, pin_key=pin_key, now=now
        )
        return Answer.TOPPED_UP, receipt
    if command.action == "plans":
        return Answer.PLANS, None
    if command.action == "renew":
        if not argument:
            return Answer.RENEW_MISSING, None
        offered = offer_plan(uow, msisdn=msisdn, plan_code=argument, now=now)
        return Answer.OFFER, offered.quote
    if command.action == "confirm":
        return Answer.PLAN_BOUGHT, confirm_offer(uow, msisdn=msisdn, channel=Channel.SMS, now=now)
    return Answer.HELP, None


def _written(render: SmsRenderer, answer: SmsAnswer, *, sender: str) -> str:
    """``answer`` as ``render`` writes it; if that fails, the failed reply (logged)."""
    try:
        return render(answer)
    except Exception:
        log.exception("SMS from %s could not be answered", mask_msisdn(sender))
        return render(answer._replace(answer=Answer.FAILED, about=None))
