"""Notifications to subscribers, written from a notice already read and decided at delivery
(``saldo.services.notices``): the text in the line's language, money in its locale."""

from __future__ import annotations

from saldo.channels.notifications.texts import (
    Ways,
    auto_renewal_failed_sms,
    auto_topup_done_sms,
    auto_topup_failed_sms,
    code_email,
    expiry_email,
    expiry_sms,
    lapsed_sms,
    low_balance_sms,
    sms_text,
    topup_receipt_email,
)
from saldo.channels.sms.replies import Speaker
from saldo.domain.operator import Operator
from saldo.services.notices import (
    AUTO_RENEWAL_FAILED,
    AUTO_TOPUP_DONE,
    AUTO_TOPUP_FAILED,
    CODE_KINDS,
    EMAIL_CODE,
    EXPIRY_REMINDER,
    LAPSED,
    LOW_BALANCE,
    SIGN_IN_CODE,
    LineNotice,
    TopUpReceiptNotice,
    Undeliverable,
)
from saldo.services.outbox import OutgoingSms, message_id
from saldo.services.ports.mail import OutgoingEmail


def subscriber_sms(notice: LineNotice) -> OutgoingSms:
    """The SMS ``notice`` says, from the operator's short code. Raises Undeliverable for a
    kind it cannot write."""
    operator, kind = notice.operator, notice.kind
    speaker = Speaker(operator=operator, language=notice.language)
    if kind == EXPIRY_REMINDER and notice.valid_until is not None:
        text = expiry_sms(
            speaker,
            valid_until=notice.valid_until,
            ways=renewal_ways(speaker, plan_code=None),
        )
    elif kind == LOW_BALANCE and notice.balance is not None and notice.threshold is not None:
        text = low_balance_sms(
            speaker,
            balance=notice.balance,
            threshold=notice.threshold,
            ways=topup_ways(operator),
        )
    elif kind == AUTO_RENEWAL_FAILED and notice.plan_code is not None:
        text = auto_renewal_failed_sms(
            speaker,
            plan_name=notice.plan_name or notice.plan_code,
            plan_code=notice.plan_code,
            ways=renewal_ways(speaker, plan_code=notice.plan_code),
        )
    elif kind == AUTO_TOPUP_DONE and notice.amount is not None and notice.balance is not None:
        text = auto_topup_done_sms(speaker, amount=notice.amount, balance=notice.balance)
    elif kind == AUTO_TOPUP_FAILED and notice.amount is not None:
        text = auto_topup_failed_sms(speaker, amount=notice.amount, ways=topup_ways(operator))
    elif kind in LAPSED and notice.lapsed_to is not None and notice.keep_until is not None:
        text = lapsed_sms(
            speaker,
            state=notice.lapsed_to,
            keep_until=notice.keep_until,
            ways=renewal_ways(speaker, plan_code=None),
        )
    elif kind in CODE_KINDS and notice.code is not None and notice.code_minutes is not None:
        text = code_sms(speaker, kind=kind, code=notice.code, minutes=notice.code_minutes)
    else:
        raise Undeliverable(f"no SMS is written for outbox message {notice.message.key} ({kind!r})")
    return OutgoingSms(to=notice.message.recipient, sender=operator.sms.short_code, text=text)


def code_sms(speaker: Speaker, *, kind: str, code: str, minutes: int) -> str:
    """ "Movistar: 123456 es su código para ingresar. Vale por 10 min. …": a sign-in code, or
    a code to add the line to an account, which says so (its holder may not have asked)."""
    key = "notify_sign_in_code" if kind == SIGN_IN_CODE else "notify_add_line_code"
    return sms_text(speaker.say(key, operator=speaker.operator.name, code=code, minutes=minutes))


def expiry_reminder_email(notice: LineNotice) -> OutgoingEmail:
    """The expiry reminder by email to the message's recipient, the code that proves an
    email address, or a sign-in code to the line's proven email. Raises Undeliverable for
    another kind, or when the recipient cannot receive email."""
    message = notice.message
    code_kind = notice.kind in (EMAIL_CODE, SIGN_IN_CODE)
    if code_kind and notice.code is not None and notice.code_minutes:
        speaker = Speaker(operator=notice.operator, language=notice.language)
        try:
            return code_email(
                speaker, msisdn=notice.msisdn, code=notice.code, minutes=notice.code_minutes,
                to=message.recipient, message_id=message_id(message.key),
                sign_in=notice.kind == SIGN_IN_CODE,
            )  # fmt: skip
        except ValueError as error:
            raise Undeliverable(f"outbox message {message.key}: {error}") from None
    if notice.kind != EXPIRY_REMINDER or notice.valid_until is None:
        raise Undeliverable(f"no email is written for outbox message {message.key}")
    speaker = Speaker(operator=notice.operator, language=notice.language)
    try:
        return expiry_email(
            speaker,
            msisdn=notice.msisdn,
            valid_until=notice.valid_until,
            ways=renewal_ways(speaker, plan_code=None),
            to=message.recipient,
            message_id=message_id(message.key),
        )
    except ValueError as error:
        raise Undeliverable(f"outbox message {message.key}: {error}") from None


def topup_receipt(notice: TopUpReceiptNotice) -> OutgoingEmail:
    """A card top-up's receipt by email to the message's recipient. Raises Undeliverable
    when the recipient cannot receive email."""
    message = notice.message
    speaker = Speaker(operator=notice.operator, language=notice.language)
    try:
        return topup_receipt_email(
            speaker, receipt=notice.receipt, to=message.recipient,
            message_id=message_id(message.key),
        )  # fmt: skip
    except ValueError as error:
        raise Undeliverable(f"outbox message {message.key}: {error}") from None


def renewal_ways(speaker: Speaker, *, plan_code: str | None) -> Ways:
    """Renewing by SMS names a plan: the one given, else the operator's shortest."""
    operator = speaker.operator
    if plan_code is None and operator.plans:
        plan_code = min(operator.plans, key=lambda plan: plan.months).code
    keyword = f"{speaker.keyword('renew')} {plan_code}" if plan_code else None
    return Ways(
        short_code=operator.sms.short_code,
        ussd=operator.ussd_code,
        keyword=keyword,
        app=operator.apps[0] if operator.apps else None,
        web=operator.web,
    )


def topup_ways(operator: Operator) -> Ways:
    # A top-up by SMS needs a voucher PIN: the USSD menu and the app are the ways to offer.
    return Ways(
        short_code=operator.sms.short_code,
        ussd=operator.ussd_code,
        app=operator.apps[0] if operator.apps else None,
        web=operator.web,
    )
