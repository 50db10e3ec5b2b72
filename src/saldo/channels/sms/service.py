"""The SMS keyword service: one inbound SMS in, one reply out.

The sender's number identifies the line and its operator; the short code it was sent to must
be that operator's. The text is matched against the operator's keywords (case, accents and
extra spaces ignored) and becomes one use-case call; the reply is rendered in the line's
language and fits in at most three SMS. A gateway message id seen before gets the reply it got
the first time, and nothing is done again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from saldo.channels.sms import replies
from saldo.channels.sms.replies import Speaker
from saldo.domain.errors import SaldoError
from saldo.domain.keywords import match_keyword
from saldo.domain.lines import Channel
from saldo.domain.numbering import InvalidMsisdn, mask_msisdn, same_number
from saldo.domain.sms_text import fit_sms, plain_spaces
from saldo.i18n import translate
from saldo.services.conversations import (
    confirm_offer,
    offer_plan,
    recall_reply,
    remember_reply,
)
from saldo.services.inquire_balance import balance_view
from saldo.services.lines import LineNotFound, LineRecycled, identify_line
from saldo.services.operators import language_of_code
from saldo.services.vouchers import (
    redeem_voucher,
)

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

log = logging.getLogger(__name__)

# Longer texts are cut before matching: no keyword is that long.
MAX_TEXT = 480


def printable(text: str) -> str:
    """``text`` without control characters (NUL cannot even be stored in PostgreSQL)."""
    return "".join(char for char in text if char.isprintable()).strip()


@dataclass(frozen=True, slots=True)
class InboundSms:
    sender: str
    to: str
    text: str
    message_id: str | None = None


def handle_sms(saldo: Saldo, sms: InboundSms) -> str:
    """The reply to one inbound SMS. Never raises for anything a sender can type."""
    # A gateway's message ids are unique per sender at most: the sender is part of the key,
    # so a reused id can never show one subscriber another's reply.
    message_id = printable(sms.message_id or "")[:96]
    # The sender however the gateway wrote the number (``+57…``, ``57…``, ``0057…``).
    key = f"{same_number(printable(sms.sender)[:24])}:{message_id}" if message_id else ""
    if key:
        earlier = saldo.run(recall_reply, channel="sms", message_id=key)
        if earlier is not None:
            return earlier
    reply = fit_sms(plain_spaces(_reply(saldo, sms)))  # GSM 7-bit: one SMS holds more
    if key:
        saldo.run(remember_reply, channel="sms", message_id=key, reply=reply, now=saldo.clock.now())
    return reply


def _reply(saldo: Saldo, sms: InboundSms) -> str:
    try:
        record = saldo.run(identify_line, msisdn=sms.sender, now=saldo.clock.now())
    except (InvalidMsisdn, LineNotFound):
        language = saldo.run(language_of_code, code=sms.to, channel=Channel.SMS)
        return translate("unknown_sender", language=language)
    except LineRecycled as recycled:
        return translate("recycled", language=recycled.language)
    speaker = Speaker(operator=record.operator, language=record.line.language)
    if not record.operator.answers_short_code(sms.to):
        return speaker.say("unknown_service")
    command = match_keyword(sms.text[:MAX_TEXT], keywords=record.operator.sms.keywords)
    try:
        if command.action == "balance":
            # The line was read with its buckets to identify it: nothing more to read.
            return replies.balance(speaker, balance_view(record, now=saldo.clock.now()))
        return _carry_out(saldo, speaker, command.action, command.argument, record.line.msisdn)
    except SaldoError as error:
        return replies.refusal(speaker, error)
    except Exception:
        log.exception("SMS from %s could not be handled", mask_msisdn(record.line.msisdn))
        return speaker.say("failed")


def _carry_out(saldo: Saldo, speaker: Speaker, action: str, argument: str, msisdn: str) -> str:
    now = saldo.clock.now()
    if action == "topup":
        if not argument:
            return speaker.say("pin_missing", topup=speaker.keyword("topup"))
        receipt = saldo.run(
            redeem_voucher,
            msisdn=msisdn,
            pin=argument,
            channel=Channel.SMS,
            pin_key=saldo.pin_key,
            now=now,
        )
        return replies.topped_up(speaker, receipt)
    if action == "plans":
        return replies.plan_list(speaker)
    if action == "renew":
        if not argument:
            return speaker.say(
                "renew_missing", renew=speaker.keyword("renew"), plans=speaker.keyword("plans")
            )
        offered = saldo.run(offer_plan, msisdn=msisdn, plan_code=argument, now=now)
        return replies.offer(speaker, offered.quote)
    if action == "confirm":
        purchase = saldo.run(confirm_offer, msisdn=msisdn, channel=Channel.SMS, now=now)
        return replies.plan_bought(speaker, purchase)
    return replies.help_text(speaker)
