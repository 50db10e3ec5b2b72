"""The SMS keyword service: one inbound SMS in, one reply out.

One use case (``saldo.services.sms_keywords.answer_sms``) identifies the sender's line,
matches the keyword, carries it out and remembers the reply for the gateway's message id;
this module writes the answer it decides in the line's language, fitted in at most three SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from saldo.channels.sms import replies
from saldo.channels.sms.replies import Speaker
from saldo.domain.errors import SaldoError
from saldo.domain.sms_text import fit_sms, plain_spaces
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import translate
from saldo.services.buy_plan import PlanPurchaseReceipt, PlanQuote
from saldo.services.inquire_balance import BalanceView
from saldo.services.sms_keywords import Answer, SmsAnswer, answer_sms

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo


@dataclass(frozen=True, slots=True)
class InboundSms:
    sender: str
    to: str
    text: str
    message_id: str | None = None


def handle_sms(saldo: Saldo, sms: InboundSms) -> str:
    """The reply to one inbound SMS. Never raises for anything a sender can type."""
    return saldo.run(
        answer_sms,
        sender=sms.sender,
        to=sms.to,
        text=sms.text,
        message_id=sms.message_id,
        pin_key=saldo.pin_key,
        render=reply_text,
        now=saldo.clock.now(),
    )


_WITHOUT_A_LINE = {Answer.UNKNOWN_SENDER: "unknown_sender", Answer.RECYCLED: "recycled"}


def reply_text(answer: SmsAnswer) -> str:
    """``answer`` written in the line's language, as one to three SMS (plain spaces: GSM
    7-bit SMS hold more)."""
    return fit_sms(plain_spaces(_said(answer)))


def _said(answer: SmsAnswer) -> str:
    if answer.operator is None:  # no line to speak for: the sender is unknown, or recycled
        key = _WITHOUT_A_LINE.get(answer.answer, "failed")
        return translate(key, language=answer.language)
    speaker = Speaker(operator=answer.operator, language=answer.language)
    match answer.answer, answer.about:
        case Answer.BALANCE, BalanceView() as view:
            return replies.balance(speaker, view)
        case Answer.TOPPED_UP, TopUpReceipt() as receipt:
            return replies.topped_up(speaker, receipt)
        case Answer.OFFER, PlanQuote() as quote:
            return replies.offer(speaker, quote)
        case Answer.PLAN_BOUGHT, PlanPurchaseReceipt() as bought:
            return replies.plan_bought(speaker, bought)
        case Answer.REFUSED, SaldoError() as error:
            return replies.refusal(speaker, error)
        case Answer.PIN_MISSING, _:
            return speaker.say("pin_missing", topup=speaker.keyword("topup"))
        case Answer.RENEW_MISSING, _:
            return speaker.say(
                "renew_missing", renew=speaker.keyword("renew"), plans=speaker.keyword("plans")
            )
        case Answer.PLANS, _:
            return replies.plan_list(speaker)
        case Answer.HELP, _:
            return replies.help_text(speaker)
        case Answer.UNKNOWN_SERVICE, _:
            return speaker.say("unknown_service")
    return speaker.say("failed")
