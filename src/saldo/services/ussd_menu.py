"""USSD menus as one use case, in the common gateway convention: each request carries the
session id, the service code dialled, the phone number and every choice so far joined by
``*``; the answer is the screen they reach, one to show and wait on (``CON``) or to show and
close (``END``).

Menu (per operator, from the catalog): 1 balance · 2 top up with a voucher PIN · 3 buy or
renew a plan paid from the balance, with a confirm screen · 4 my number and validity ·
0 help. An invalid choice shows the same screen again, saying so; a session idle for more
than three minutes is closed. The channel writes each screen in the line's language.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.numbering import InvalidMsisdn, mask_msisdn
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpReceipt
from saldo.services.buy_plan import PlanPurchaseReceipt, PlanQuote, buy_plan, quote_plan
from saldo.services.conversations import touch_ussd_session
from saldo.services.idempotency import internal_key
from saldo.services.inquire_balance import BalanceView, balance_view
from saldo.services.lines import LineNotFound, LineRecycled, identify_line
from saldo.services.operators import language_of_code
from saldo.services.ports import LineWithBuckets, UnitOfWork
from saldo.services.vouchers import redeem_voucher

log = logging.getLogger(__name__)

IDLE: Final = timedelta(minutes=3)


class Screen(StrEnum):
    """Which screen a USSD request reaches."""

    # Screens that wait for a choice (CON).
    MENU = "menu"
    ENTER_PIN = "enter_pin"
    PLANS = "plans"
    CONFIRM_PLAN = "confirm_plan"  # about the plan's quote
    # Screens that close the session (END).
    UNKNOWN_SENDER = "unknown_sender"  # the number is no line's
    RECYCLED = "recycled"
    UNKNOWN_SERVICE = "unknown_service"  # a code that is not the line's operator's
    EXPIRED = "expired"  # the session was idle too long
    BALANCE = "balance"  # about the balance
    MY_NUMBER = "my_number"  # about the balance view's number, validity and state
    HELP = "help"
    TOPPED_UP = "topped_up"  # about the top-up's receipt
    UNAFFORDABLE = "unaffordable"  # about the quote of a plan the balance cannot pay
    PLAN_BOUGHT = "plan_bought"  # about the purchase's receipt
    CANCELLED = "cancelled"
    NOTHING_FURTHER = "nothing_further"  # choices typed past the end of a path
    REFUSED = "refused"  # about a SaldoError
    FAILED = "failed"  # anything unexpected (logged)


_WAITING: Final = frozenset({Screen.MENU, Screen.ENTER_PIN, Screen.PLANS, Screen.CONFIRM_PLAN})

About = BalanceView | TopUpReceipt | PlanQuote | PlanPurchaseReceipt | SaldoError | None


@dataclass(frozen=True, slots=True)
class UssdScreen:
    """The screen a USSD request reaches, decided: which ``screen``, in which ``language``,
    on behalf of which ``operator`` (None when the number is no line's, or a recycled
    one's), whether the last choice was ``invalid`` (the screen is shown again), and what it
    is about."""

    screen: Screen
    language: str
    operator: Operator | None = None
    invalid: bool = False
    about: About = None

    @property
    def ends(self) -> bool:
        """True when the screen closes the session (``END``), False when it waits (``CON``)."""
        return self.screen not in _WAITING


def answer_ussd(
    uow: UnitOfWork,
    *,
    session_id: str,
    service_code: str,
    phone_number: str,
    text: str,
    pin_key: bytes,
    now: datetime,
) -> UssdScreen:
    """The screen that the choices in ``text`` reach from the main menu of ``service_code``
    dialled by ``phone_number``, in the gateway's session ``session_id``. Side effects (a
    top-up, a purchase) happen only on the last choice: every earlier one was answered by an
    earlier request. Never raises for anything a handset can send: a refusal is a screen, and
    anything unexpected is logged (the number masked) and answered as failed."""
    now = require_aware(now)
    try:
        found = identify_line(uow, msisdn=phone_number, now=now)
    except (InvalidMsisdn, LineNotFound):
        language = language_of_code(uow, code=service_code, channel=Channel.USSD)
        return UssdScreen(Screen.UNKNOWN_SENDER, language=language)
    except LineRecycled as recycled:
        return UssdScreen(Screen.RECYCLED, language=recycled.language)
    line, operator = found.line, found.operator
    if not operator.answers_ussd_code(service_code):
        return UssdScreen(Screen.UNKNOWN_SERVICE, language=line.language, operator=operator)
    session = _session_key(session_id)
    choices = _choices(text)
    started = touch_ussd_session(
        uow, session_id=session, msisdn=line.msisdn, now=now, idle=IDLE, opening=not choices
    )
    if started is None:
        return UssdScreen(Screen.EXPIRED, language=line.language, operator=operator)
    # One dialog: this line, under this session id, since it started.
    dialog = _session_key(f"{session}:{line.msisdn}:{started.isoformat()}")
    walk = _Walk(uow, found, dialog=dialog, pin_key=pin_key, now=now)
    try:
        return walk.answer(choices)
    except SaldoError as error:
        return walk.reached(Screen.REFUSED, error)
    except Exception:
        log.exception("USSD from %s could not be handled", mask_msisdn(line.msisdn))
        return walk.reached(Screen.FAILED)


def _choices(text: str) -> list[str]:
    return [choice.strip() for choice in text.split("*")] if text.strip() else []


class _Walk:
    """Walks the choices so far from the main menu to the screen they reach."""

    def __init__(
        self, uow: UnitOfWork, found: LineWithBuckets, *, dialog: str, pin_key: bytes, now: datetime
    ) -> None:
        self.uow = uow
        self.found = found
        self.dialog = dialog
        self.pin_key = pin_key
        self.now = now
        # Every request walks the whole path again: a plan is priced once per request.
        self._quotes: dict[int, PlanQuote] = {}

    def answer(self, choices: list[str]) -> UssdScreen:
        plans = self.found.operator.plans
        where, invalid = Screen.MENU, False
        plan_index = -1
        for position, choice in enumerate(choices):
            last = position == len(choices) - 1
            invalid = False
            if where is Screen.MENU:
                if choice == "1":
                    # The line was read with its buckets to identify it: nothing more to read.
                    return self.reached(Screen.BALANCE, balance_view(self.found, now=self.now))
                if choice == "2":
                    where = Screen.ENTER_PIN
                elif choice == "3" and plans:
                    where = Screen.PLANS
                elif choice == "4":
                    return self.reached(Screen.MY_NUMBER, balance_view(self.found, now=self.now))
                elif choice == "0":
                    return self.reached(Screen.HELP)
                else:
                    invalid = True
            elif where is Screen.ENTER_PIN:
                return self.redeem(choice) if last else self.reached(Screen.NOTHING_FURTHER)
            elif where is Screen.PLANS:
                if _number(choice) in range(1, len(plans) + 1):
                    plan_index, where = int(choice) - 1, Screen.CONFIRM_PLAN
                    if last and not self.quote(plan_index).affordable:
                        # No confirm screen for what the balance cannot pay. (A confirmation
                        # sent again after the purchase goes on to it: it gets its receipt.)
                        return self.reached(Screen.UNAFFORDABLE, self.quote(plan_index))
                else:
                    invalid = True
            elif where is Screen.CONFIRM_PLAN:
                if choice == "1":
                    return self.buy(plan_index) if last else self.reached(Screen.NOTHING_FURTHER)
                if choice == "2":
                    return self.reached(Screen.CANCELLED)
                invalid = True
        about = self.quote(plan_index) if where is Screen.CONFIRM_PLAN else None
        return self.reached(where, about, invalid=invalid)

    def reached(self, screen: Screen, about: About = None, *, invalid: bool = False) -> UssdScreen:
        """``screen``, shown to this line (whether it waits or ends is the screen's)."""
        return UssdScreen(
            screen,
            language=self.found.line.language,
            operator=self.found.operator,
            invalid=invalid,
            about=about,
        )

    def quote(self, plan_index: int) -> PlanQuote:
        found = self._quotes.get(plan_index)
        if found is None:
            found = self._quotes[plan_index] = quote_plan(
                self.uow,
                msisdn=self.found.line.msisdn,
                plan_code=self.found.operator.plans[plan_index].code,
                now=self.now,
            )
        return found

    def redeem(self, pin: str) -> UssdScreen:
        receipt = redeem_voucher(
            self.uow,
            msisdn=self.found.line.msisdn,
            pin=pin,
            channel=Channel.USSD,
            pin_key=self.pin_key,
            now=self.now,
        )
        return self.reached(Screen.TOPPED_UP, receipt)

    def buy(self, plan_index: int) -> UssdScreen:
        plan = self.found.operator.plans[plan_index]
        receipt = buy_plan(
            self.uow,
            msisdn=self.found.line.msisdn,
            plan_code=plan.code,
            channel=Channel.USSD,
            # Once per dialog and plan: gateways reuse session ids, across numbers and time.
            idempotency_key=internal_key("ussd", f"{self.dialog}:{plan.code}"),
            saldo_key=True,
            now=self.now,
        )
        return self.reached(Screen.PLAN_BOUGHT, receipt)


def _number(choice: str) -> int | None:
    """A menu choice as a number (a few ASCII digits); None for anything else."""
    return int(choice) if choice.isascii() and choice.isdigit() and len(choice) <= 3 else None


def _session_key(session_id: str) -> str:
    """A gateway's session id as Saldo keeps it: a digest, so that any text the gateway sends
    (control characters, any script, any length) is a valid key, and distinct ids stay
    distinct."""
    return hashlib.sha256(session_id.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]
