"""The words of notifications, written from plain data already decided: SMS texts that fit one
message where they can, and the expiry reminder's email.

An SMS travels as GSM-7 (160 characters) unless one character is outside that alphabet, when
the whole text goes as UCS-2 (70 characters). Latin texts are therefore folded before they
are measured: accents GSM-7 lacks (á, í, ó, ú, ê, ç, ë) lose their mark and the no-break
spaces Babel puts in amounts become plain spaces, as operators' own SMS do; texts in other
scripts (Chinese) are left whole. The ways to act ("send RENOVAR … to 121, dial *444# or use
the app Mi Movistar") are offered in that order, as many as fit one SMS, at least one.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from babel.lists import format_list

from saldo.channels.receipts.view import language_tag
from saldo.channels.sms.replies import Speaker
from saldo.domain.lifecycle import LineState
from saldo.domain.money import Money
from saldo.domain.sms_text import GSM7, is_gsm7, plain_spaces, sms_parts
from saldo.domain.topup import TopUpReceipt
from saldo.services.ports.mail import OutgoingEmail


@dataclass(frozen=True, slots=True)
class Ways:
    """How a subscriber can act, best first: an SMS ``keyword`` (with its argument) to the
    ``short_code``, the ``ussd`` code, the ``web`` site, the ``app``."""

    short_code: str
    ussd: str
    keyword: str | None = None
    app: str | None = None
    web: str | None = None


def sms_text(text: str) -> str:
    """``text`` as it should travel by SMS: folded into GSM-7 when only accents or special
    spaces keep it out, else unchanged."""
    spaced = plain_spaces(text)
    if is_gsm7(spaced):
        return spaced
    folded = "".join(char if char in GSM7 else _unaccented(char) for char in spaced)
    return folded if is_gsm7(folded) else spaced


def _unaccented(char: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return bare or char


def _pieces(speaker: Speaker, ways: Ways) -> list[str]:
    pieces = []
    if ways.keyword:
        pieces.append(
            speaker.say("notify_how_keyword", keyword=ways.keyword, short_code=ways.short_code)
        )
    pieces.append(speaker.say("notify_how_ussd", ussd=ways.ussd))
    if ways.web:
        pieces.append(speaker.say("notify_how_web", web=ways.web))
    if ways.app:
        pieces.append(speaker.say("notify_how_app", app=ways.app))
    return pieces


def _either(speaker: Speaker, pieces: Sequence[str]) -> str:
    return str(format_list(list(pieces), style="or", locale=speaker.locale))


def fitted_sms(speaker: Speaker, key: str, *, ways: Ways | None, **values: object) -> str:
    """Message ``key`` for SMS, offering as many of ``ways`` (as ``{how}``) as fit one SMS."""
    if ways is None:
        return sms_text(speaker.say(key, **values))
    pieces = _pieces(speaker, ways)
    texts = [
        sms_text(speaker.say(key, how=_either(speaker, pieces[:count]), **values))
        for count in range(len(pieces), 0, -1)
    ]
    return next((text for text in texts if sms_parts(text) == 1), texts[-1])


def expiry_sms(speaker: Speaker, *, valid_until: datetime, ways: Ways) -> str:
    """ "Movistar: su linea es valida hasta el 29 nov 2026. Para renovarla, envie …"."""
    return fitted_sms(
        speaker,
        "notify_expiry",
        ways=ways,
        operator=speaker.operator.name,
        day=speaker.day(valid_until),
    )


def lapsed_sms(speaker: Speaker, *, state: LineState, keep_until: datetime, ways: Ways) -> str:
    """ "Movistar: su linea vencio y solo puede recibir llamadas. Para conservar su numero,
    renuevela hasta el 22 mar 2027: …" for a line in grace or suspended, ``keep_until`` being
    when the number is recycled."""
    key = "notify_grace" if state is LineState.GRACE else "notify_suspended"
    return fitted_sms(
        speaker, key, ways=ways, operator=speaker.operator.name, day=speaker.day(keep_until)
    )


def low_balance_sms(speaker: Speaker, *, balance: Money, threshold: Money, ways: Ways) -> str:
    return fitted_sms(
        speaker,
        "notify_low_balance",
        ways=ways,
        operator=speaker.operator.name,
        balance=speaker.money(balance),
        threshold=speaker.money(threshold),
    )


def auto_renewal_failed_sms(speaker: Speaker, *, plan_name: str, plan_code: str, ways: Ways) -> str:
    """Names the plan by its name, or by its code when the name would not fit one SMS."""
    texts = [
        fitted_sms(
            speaker,
            "notify_auto_renewal_failed",
            ways=ways,
            operator=speaker.operator.name,
            plan=plan,
        )
        for plan in (plan_name, plan_code)
    ]
    return next((text for text in texts if sms_parts(text) == 1), texts[-1])


def auto_topup_done_sms(speaker: Speaker, *, amount: Money, balance: Money) -> str:
    return fitted_sms(
        speaker,
        "notify_auto_topup_done",
        ways=None,
        operator=speaker.operator.name,
        amount=speaker.money(amount),
        balance=speaker.money(balance),
    )


def auto_topup_failed_sms(speaker: Speaker, *, amount: Money, ways: Ways) -> str:
    return fitted_sms(
        speaker,
        "notify_auto_topup_failed",
        ways=ways,
        operator=speaker.operator.name,
        amount=speaker.money(amount),
    )


def expiry_email(
    speaker: Speaker,
    *,
    msisdn: str,
    valid_until: datetime,
    ways: Ways,
    to: str,
    message_id: str,
) -> OutgoingEmail:
    """The expiry reminder by email: every way to renew, and the hotline for questions.

    Raises ValueError when ``to`` cannot receive email (see OutgoingEmail)."""
    operator = speaker.operator
    day = speaker.day(valid_until)
    heading = speaker.say("notify_expiry_heading")
    paragraphs = [
        speaker.say("notify_expiry_body", operator=operator.name, msisdn=msisdn, day=day),
        speaker.say("notify_expiry_how", how=_either(speaker, _pieces(speaker, ways))),
        speaker.say("receipt_questions", operator=operator.name, hotline=operator.hotline.number),
    ]
    lang = language_tag(speaker.locale)
    body = "".join(f"<p>{html.escape(paragraph)}</p>\n" for paragraph in paragraphs)
    return OutgoingEmail(
        to=to,
        subject=speaker.say(
            "notify_expiry_subject", msisdn=msisdn, day=day, operator=operator.name
        ),
        text=f"{heading}\n\n" + "\n\n".join(paragraphs) + "\n",
        html=(
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(heading)}</title></head>\n<body>\n"
            f"<h1>{html.escape(heading)}</h1>\n{body}</body>\n</html>\n"
        ),
        language=lang,
        message_id=message_id,
        headers={"Auto-Submitted": "auto-generated"},
    )


# The messages of a code by email: one proving the address, or one signing in (to the line's
# proven email): subject, heading, body, and what to do if it was not asked for.
_CODE_EMAIL_KEYS: Final = {
    False: (
        "portal_settings_email_code_subject",
        "portal_settings_email_code_heading",
        "portal_settings_email_code_body",
        "portal_settings_email_code_not_you",
    ),
    True: (
        "notify_sign_in_email_subject",
        "notify_sign_in_email_heading",
        "notify_sign_in_email_body",
        "notify_sign_in_email_not_you",
    ),
}


def code_email(
    speaker: Speaker,
    *,
    msisdn: str,
    code: str,
    minutes: int,
    to: str,
    message_id: str,
    sign_in: bool = False,
) -> OutgoingEmail:
    """The code that proves an email address for a line, by email to that address; or,
    ``sign_in``, a code to sign in with the line, to its proven email.

    Raises ValueError when ``to`` cannot receive email (see OutgoingEmail)."""
    operator = speaker.operator
    subject, heading_key, body_key, not_you = _CODE_EMAIL_KEYS[sign_in]
    heading = speaker.say(heading_key)
    paragraphs = [
        speaker.say(body_key, msisdn=msisdn, code=code, minutes=minutes),
        speaker.say(not_you, operator=operator.name),
    ]
    lang = language_tag(speaker.locale)
    body = "".join(f"<p>{html.escape(paragraph)}</p>\n" for paragraph in paragraphs)
    return OutgoingEmail(
        to=to,
        subject=speaker.say(subject, operator=operator.name),
        text=f"{heading}\n\n" + "\n\n".join(paragraphs) + "\n",
        html=(
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(heading)}</title></head>\n<body>\n"
            f"<h1>{html.escape(heading)}</h1>\n{body}</body>\n</html>\n"
        ),
        language=lang,
        message_id=message_id,
        headers={"Auto-Submitted": "auto-generated"},
    )


def topup_receipt_email(
    speaker: Speaker, *, receipt: TopUpReceipt, to: str, message_id: str
) -> OutgoingEmail:
    """The receipt of a card top-up by email: the amount, the new balance, the validity and
    the receipt number, and the hotline for questions.

    Raises ValueError when ``to`` cannot receive email (see OutgoingEmail)."""
    operator = speaker.operator
    amount = speaker.money(receipt.amount)
    heading = speaker.say("notify_topup_heading")
    paragraphs = [
        speaker.say(
            "notify_topup_body",
            amount=amount,
            operator=operator.name,
            msisdn=receipt.msisdn,
            balance=speaker.money(receipt.balance),
            day=speaker.day(receipt.valid_until),
            number=receipt.receipt_number,
        ),
        speaker.say("receipt_questions", operator=operator.name, hotline=operator.hotline.number),
    ]
    lang = language_tag(speaker.locale)
    body = "".join(f"<p>{html.escape(paragraph)}</p>\n" for paragraph in paragraphs)
    return OutgoingEmail(
        to=to,
        subject=speaker.say(
            "notify_topup_subject",
            number=receipt.receipt_number,
            amount=amount,
            operator=operator.name,
        ),
        text=f"{heading}\n\n" + "\n\n".join(paragraphs) + "\n",
        html=(
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(heading)}</title></head>\n<body>\n"
            f"<h1>{html.escape(heading)}</h1>\n{body}</body>\n</html>\n"
        ),
        language=lang,
        message_id=message_id,
        headers={"Auto-Submitted": "auto-generated"},
    )
