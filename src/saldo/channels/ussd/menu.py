"""USSD menus, in the common gateway convention: each request carries the session id, the
service code dialled, the phone number and every choice so far joined by ``*``; the answer
starts with ``CON`` (show this screen and wait) or ``END`` (show it and close).

Menu (per operator, from the catalog): 1 balance · 2 top up with a voucher PIN · 3 buy or
renew a plan paid from the balance, with a confirm screen · 4 my number and validity ·
0 help. An invalid choice shows the same screen again; a session idle for more than three
minutes is closed. Every screen fits in 182 characters.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from saldo.channels.sms import replies
from saldo.channels.sms.replies import Speaker
from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import state_at
from saldo.domain.lines import Channel
from saldo.domain.numbering import InvalidMsisdn, mask_msisdn
from saldo.domain.sms_text import plain_spaces
from saldo.i18n import translate
from saldo.services.buy_plan import PlanQuote, buy_plan, quote_plan
from saldo.services.conversations import touch_ussd_session
from saldo.services.idempotency import internal_key
from saldo.services.inquire_balance import balance_view
from saldo.services.lines import LineNotFound, LineRecycled, identify_line
from saldo.services.operators import language_of_code
from saldo.services.ports import LineWithBuckets
from saldo.services.vouchers import redeem_voucher

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

log = logging.getLogger(__name__)

MAX_SCREEN: Final = 182
IDLE: Final = timedelta(minutes=3)


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
    try:
        record = saldo.run(identify_line, msisdn=request.phone_number, now=saldo.clock.now())
    except (InvalidMsisdn, LineNotFound):
        language = saldo.run(language_of_code, code=request.service_code, channel=Channel.USSD)
        return screen("END", translate("unknown_sender", language=language))
    except LineRecycled as recycled:
        return screen("END", translate("recycled", language=recycled.language))
    speaker = Speaker(operator=record.operator, language=record.line.language)
    if not record.operator.answers_ussd_code(request.service_code):
        return screen("END", speaker.say("ussd_unknown_service"))
    session = _session_key(request.session_id)
    choices = _choices(request.text)
    started = saldo.run(
        touch_ussd_session,
        session_id=session,
        msisdn=record.line.msisdn,
        now=saldo.clock.now(),
        idle=IDLE,
        opening=not choices,
    )
    if started is None:
        return screen("END", speaker.say("ussd_expired", ussd=record.operator.ussd_code))
    # One dialog: this line, under this session id, since it started.
    dialog = _session_key(f"{session}:{record.line.msisdn}:{started.isoformat()}")
    try:
        return Menu(saldo, speaker, record, dialog).answer(choices)
    except SaldoError as error:
        return screen("END", replies.refusal(speaker, error))
    except Exception:
        log.exception("USSD from %s could not be handled", mask_msisdn(record.line.msisdn))
        return screen("END", speaker.say("failed"))


def _choices(text: str) -> list[str]:
    return [choice.strip() for choice in text.split("*")] if text.strip() else []


class Menu:
    """Walks the choices so far from the main menu and answers with the screen they reach.
    Side effects (a top-up, a purchase) happen only on the last choice: every earlier one
    was answered by an earlier request."""

    def __init__(
        self, saldo: Saldo, speaker: Speaker, record: LineWithBuckets, dialog: str
    ) -> None:
        self.saldo = saldo
        self.speaker = speaker
        self.record = record
        self.dialog = dialog
        # Every request walks the whole path again: a plan is priced once per request.
        self._quotes: dict[int, PlanQuote] = {}

    def answer(self, choices: list[str]) -> str:
        where, invalid = "main", False
        plan_index = -1
        for position, choice in enumerate(choices):
            last = position == len(choices) - 1
            invalid = False
            if where == "main":
                if choice == "1":
                    return self.balance()
                if choice == "2":
                    where = "pin"
                elif choice == "3" and self.record.operator.plans:
                    where = "plans"
                elif choice == "4":
                    return self.my_number()
                elif choice == "0":
                    return self.help()
                else:
                    invalid = True
            elif where == "pin":
                return self.redeem(choice) if last else self.nothing_further()
            elif where == "plans":
                plans = self.record.operator.plans
                if _number(choice) in range(1, len(plans) + 1):
                    plan_index, where = int(choice) - 1, "confirm"
                    if last and not self.quote(plan_index).affordable:
                        # No confirm screen for what the balance cannot pay. (A confirmation
                        # sent again after the purchase goes on to it: it gets its receipt.)
                        return screen("END", replies.offer(self.speaker, self.quote(plan_index)))
                else:
                    invalid = True
            elif where == "confirm":
                if choice == "1":
                    return self.buy(plan_index) if last else self.nothing_further()
                if choice == "2":
                    return screen("END", self.speaker.say("ussd_cancelled"))
                invalid = True
        prefix = self.speaker.say("ussd_invalid") + "\n" if invalid else ""
        return screen("CON", prefix + self.prompt(where, plan_index))

    def prompt(self, where: str, plan_index: int) -> str:
        say, operator = self.speaker.say, self.record.operator
        if where == "pin":
            return say("ussd_enter_pin")
        if where == "plans":
            lines = [say("ussd_choose_plan")]
            lines += [
                f"{n} {self.speaker.name_of(plan)} {self.speaker.money(plan.price)}"
                for n, plan in enumerate(operator.plans, start=1)
            ]
            return "\n".join(lines)
        if where == "confirm":
            quote = self.quote(plan_index)
            return say(
                "ussd_confirm_plan",
                plan=replies.quoted_plan_name(self.speaker, quote),
                price=self.speaker.money(quote.price),
                balance=self.speaker.money(quote.balance),
            )
        return say("ussd_menu", operator=operator.name)

    def nothing_further(self) -> str:
        """What choices typed past the end of a path get."""
        return screen("END", self.speaker.say("ussd_invalid"))

    def quote(self, plan_index: int) -> PlanQuote:
        found = self._quotes.get(plan_index)
        if found is None:
            found = self._quotes[plan_index] = self.saldo.run(
                quote_plan,
                msisdn=self.record.line.msisdn,
                plan_code=self.record.operator.plans[plan_index].code,
                now=self.saldo.clock.now(),
            )
        return found

    def balance(self) -> str:
        # The line was read with its buckets to identify it: nothing more to read.
        view = balance_view(self.record, now=self.saldo.clock.now())
        return screen("END", replies.balance(self.speaker, view))

    def my_number(self) -> str:
        line, operator = self.record.line, self.record.operator
        state = state_at(
            stored_state=line.state,
            valid_until=line.valid_until,
            rules=operator.lifecycle,
            now=self.saldo.clock.now(),
        )
        return screen(
            "END",
            self.speaker.say(
                "ussd_my_number",
                msisdn=line.msisdn,
                valid_until=self.speaker.day(line.valid_until),
                state=self.speaker.say(f"state_name_{state.value}"),
            ),
        )

    def help(self) -> str:
        operator = self.record.operator
        return screen(
            "END",
            self.speaker.say(
                "ussd_help",
                balance=self.speaker.keyword("balance"),
                topup=self.speaker.keyword("topup"),
                short_code=operator.sms.short_code,
                hotline=operator.hotline.number,
            ),
        )

    def redeem(self, pin: str) -> str:
        receipt = self.saldo.run(
            redeem_voucher,
            msisdn=self.record.line.msisdn,
            pin=pin,
            channel=Channel.USSD,
            pin_key=self.saldo.pin_key,
            now=self.saldo.clock.now(),
        )
        return screen("END", replies.topped_up(self.speaker, receipt))

    def buy(self, plan_index: int) -> str:
        plan = self.record.operator.plans[plan_index]
        receipt = self.saldo.run(
            buy_plan,
            msisdn=self.record.line.msisdn,
            plan_code=plan.code,
            channel=Channel.USSD,
            # Once per dialog and plan: gateways reuse session ids, across numbers and time.
            idempotency_key=internal_key("ussd", f"{self.dialog}:{plan.code}"),
            saldo_key=True,
            now=self.saldo.clock.now(),
        )
        return screen("END", replies.plan_bought(self.speaker, receipt))


def _number(choice: str) -> int | None:
    """A menu choice as a number (a few ASCII digits); None for anything else."""
    return int(choice) if choice.isascii() and choice.isdigit() and len(choice) <= 3 else None


def _session_key(session_id: str) -> str:
    """A gateway's session id as Saldo keeps it: a digest, so that any text the gateway sends
    (control characters, any script, any length) is a valid key, and distinct ids stay
    distinct."""
    return hashlib.sha256(session_id.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]
