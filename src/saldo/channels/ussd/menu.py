"""USSD menus, in the common gateway convention: each request carries the session id, the
service code dialled, the phone number and every choice so far joined by ``*``; the answer
starts with ``CON`` (show this screen and wait) or ``END`` (show it and close).

One use case (``saldo.services.ussd_menu.answer_ussd``) walks the menu to the screen the
choices reach; this module writes that screen in the line's language, to fit in 182
characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from saldo.channels.sms import replies
from saldo.channels.sms.replies import Speaker
from saldo.domain.errors import SaldoError
from saldo.domain.sms_text import plain_spaces
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import translate
from saldo.services.buy_plan import PlanPurchaseReceipt, PlanQuote
from saldo.services.inquire_balance import BalanceView
from saldo.services.ussd_menu import Screen, UssdScreen, answer_ussd

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

MAX_SCREEN: Final = 182


@dataclass(frozen=True, slots=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone_number: str
    text: str


def screen(kind: str, text: str) -> str:
    """``CON``/``END`` and the text (with plain spaces, as handsets show USSD in the GSM
    alphabet), cut to fit one USSD screen."""
    text = plain_spaces(text)
    body = text if len(text) <= MAX_SCREEN else text[: MAX_SCREEN - 1].rstrip() + "…"
    return f"{kind} {body}"


def handle_ussd(saldo: Saldo, request: UssdRequest) -> str:
    """The next screen. Never raises for anything a handset can send."""
    shown = saldo.run(
        answer_ussd,
        session_id=request.session_id,
        service_code=request.service_code,
        phone_number=request.phone_number,
        text=request.text,
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )
    return screen("END" if shown.ends else "CON", _said(shown))


_WITHOUT_A_LINE = {Screen.UNKNOWN_SENDER: "unknown_sender", Screen.RECYCLED: "recycled"}


def _said(shown: UssdScreen) -> str:
    if shown.operator is None:  # no line to speak for: the number is unknown, or recycled
        return translate(_WITHOUT_A_LINE.get(shown.screen, "failed"), language=shown.language)
    speaker = Speaker(operator=shown.operator, language=shown.language)
    text = _screen_text(speaker, shown)
    return speaker.say("ussd_invalid") + "\n" + text if shown.invalid else text


def _screen_text(speaker: Speaker, shown: UssdScreen) -> str:
    say, operator = speaker.say, speaker.operator
    match shown.screen, shown.about:
        case Screen.MENU, _:
            return say("ussd_menu", operator=operator.name)
        case Screen.ENTER_PIN, _:
            return say("ussd_enter_pin")
        case Screen.PLANS, _:
            lines = [say("ussd_choose_plan")]
            lines += [
                f"{n} {speaker.name_of(plan)} {speaker.money(plan.price)}"
                for n, plan in enumerate(operator.plans, start=1)
            ]
            return "\n".join(lines)
        case Screen.CONFIRM_PLAN, PlanQuote() as quote:
            return say(
                "ussd_confirm_plan",
                plan=replies.quoted_plan_name(speaker, quote),
                price=speaker.money(quote.price),
                balance=speaker.money(quote.balance),
            )
        case Screen.UNKNOWN_SERVICE, _:
            return say("ussd_unknown_service")
        case Screen.EXPIRED, _:
            return say("ussd_expired", ussd=operator.ussd_code)
        case Screen.BALANCE, BalanceView() as view:
            return replies.balance(speaker, view)
        case Screen.MY_NUMBER, BalanceView() as view:
            return say(
                "ussd_my_number",
                msisdn=view.msisdn,
                valid_until=speaker.day(view.valid_until),
                state=say(f"state_name_{view.state.value}"),
            )
        case Screen.HELP, _:
            return say(
                "ussd_help",
                balance=speaker.keyword("balance"),
                topup=speaker.keyword("topup"),
                short_code=operator.sms.short_code,
                hotline=operator.hotline.number,
            )
        case Screen.TOPPED_UP, TopUpReceipt() as receipt:
            return replies.topped_up(speaker, receipt)
        case Screen.UNAFFORDABLE, PlanQuote() as quote:
            return replies.offer(speaker, quote)
        case Screen.PLAN_BOUGHT, PlanPurchaseReceipt() as bought:
            return replies.plan_bought(speaker, bought)
        case Screen.CANCELLED, _:
            return say("ussd_cancelled")
        case Screen.NOTHING_FURTHER, _:
            return say("ussd_invalid")
        case Screen.REFUSED, SaldoError() as error:
            return replies.refusal(speaker, error)
    return say("failed")
