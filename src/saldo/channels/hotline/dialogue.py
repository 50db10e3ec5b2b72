"""The hotline's dialogue: what a caller hears and what each key does (issue 15), on the seam
``call`` describes. One ``HotlineDialogue`` per answered call (``new_dialogue``).

The call is identified first (the number dialled and the caller's number; a withheld or
unknown one is asked to key the number in, then ``#``), the operator's verification runs
where its catalog sets one (three tries, then a polite goodbye), then the main menu:
1 balance · 2 top up with a voucher PIN, then ``#`` · 3 renew a plan from the balance,
confirmed by 1 · 9 language · 0 (or the catalog's agent digit) an agent · ``*`` repeat. A
silence repeats the prompt once; a second says goodbye and hangs up.

Each step makes one use-case call and turns its view into ``Play`` and ``Listen`` actions;
the dialogue keeps only where the call is (in memory: a call lives in one process) and
never touches storage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import Enum, auto
from pathlib import Path
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry

from saldo.channels.hotline import prompts
from saldo.channels.hotline.call import (
    Action,
    Caller,
    Dialogue,
    DialogueFactory,
    HangUp,
    Listen,
    Play,
    Transfer,
    TransferOutcome,
)
from saldo.channels.hotline.metrics import HotlineMetrics
from saldo.channels.hotline.prompts import Saying, Voice
from saldo.channels.hotline.speech import Speech
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.numbering import mask_msisdn
from saldo.services.buy_plan import PlanQuote, buy_plan
from saldo.services.hotline import (
    HotlineCaller,
    Known,
    identify_hotline_caller,
    verify_hotline_caller,
)
from saldo.services.hotline_menu import hotline_balance, hotline_plans, set_line_language
from saldo.services.idempotency import internal_key
from saldo.services.vouchers import WrongPin, redeem_voucher

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

log = logging.getLogger(__name__)

# How long the caller has to choose after a menu ends, and between the digits of an entry.
MENU_WAIT: Final = 6.0
DIGIT_WAIT: Final = 5.0
# Longer entries are no number, PIN or four digits: the entry starts again.
MAX_DIGITS: Final = 24


class Step(Enum):
    ASK_NUMBER = auto()  # digits, then #
    VERIFY = auto()  # digits, then #
    MENU = auto()
    ENTER_PIN = auto()  # digits, then #
    PLANS = auto()
    CONFIRM_PLAN = auto()
    LANGUAGE = auto()
    TRANSFERRING = auto()  # waiting for the transfer's outcome
    LEAVING = auto()  # the last words play, then the call is hung up
    ENDED = auto()


_ENTRIES: Final = frozenset({Step.ASK_NUMBER, Step.VERIFY, Step.ENTER_PIN})


class HotlineDialogue:
    """One call's dialogue (``saldo.channels.hotline.call.Dialogue``)."""

    def __init__(self, saldo: Saldo, *, speech: Speech, metrics: HotlineMetrics) -> None:
        self.saldo = saldo
        self.speech = speech
        self.metrics = metrics
        self.call = Caller(number=None, dialled="", call_id="")
        self.caller = HotlineCaller(Known.UNKNOWN, language="en")
        self.voice = Voice(None, "en")
        self.step = Step.ASK_NUMBER
        self.prompt: tuple[Path, ...] = ()  # what * and a first silence play again
        self.digits = ""
        self.failed = 0  # wrong answers to the current question
        self.silences = 0
        self.after_play: list[Action] = []
        self.quotes: tuple[PlanQuote, ...] = ()
        self.quote: PlanQuote | None = None
        self.purchases = 0  # plans bought in this call

    # The seam's events.

    def begin(self, caller: Caller) -> Sequence[Action]:
        self.call = caller
        return self._guarded(self._identify, caller.number, False)

    def key(self, digit: str) -> Sequence[Action]:
        if self.step in (Step.LEAVING, Step.ENDED, Step.TRANSFERRING):
            return []
        self.silences = 0
        if self.step in _ENTRIES:
            return self._guarded(self._entry_key, digit)
        return self._guarded(self._choice, digit)

    def played(self) -> Sequence[Action]:
        after, self.after_play = self.after_play, []
        return after

    def silence(self) -> Sequence[Action]:
        if self.step in (Step.LEAVING, Step.ENDED, Step.TRANSFERRING):
            return []
        self.silences += 1
        self.digits = ""
        if self.silences > 1:
            return self._leave_with(prompts.goodbye(self.voice))
        return self._ask(self.step, [], again=True)

    def transferred(self, outcome: TransferOutcome) -> Sequence[Action]:
        self.metrics.transfers.labels(self._slug, outcome.value).inc()
        log.info(
            "hotline call %s from %s: transfer to an agent %s",
            self.call.call_id,
            mask_msisdn(self.caller.msisdn or ""),
            outcome.value,
        )
        if outcome is TransferOutcome.ACCEPTED:
            self.step = Step.ENDED
            return []
        return self._ask(Step.MENU, [self.voice.say("transfer_failed")])

    def ended(self) -> None:
        self.step = Step.ENDED

    # Steps.

    def _identify(self, number: str | None, keyed: bool) -> list[Action]:
        self.caller = self.saldo.run(
            identify_hotline_caller,
            dialled=self.call.dialled,
            number=number,
            keyed=keyed,
            failed_before=self.failed,
            now=self.saldo.clock.now(),
        )
        return self._identified(keyed)

    def _identified(self, keyed: bool) -> list[Action]:
        caller = self.caller
        self.voice = Voice(caller.operator, caller.language)
        say = self.voice.say
        if caller.known is Known.NO_SERVICE:
            return self._leave_with([say("no_service")])
        if caller.known is Known.RECYCLED:
            return self._leave_with([self.voice.said("recycled")])
        if caller.known is Known.UNKNOWN:
            if not keyed:
                return self._ask(Step.ASK_NUMBER, prompts.welcome(self.voice))
            self.failed += 1
            if caller.tries_left <= 0:
                return self._leave_with([say("unknown_number"), say("too_many_tries")])
            return self._ask(Step.ASK_NUMBER, [say("unknown_number")])
        self.failed = 0
        welcome = [] if keyed else prompts.welcome(self.voice)
        if caller.verification is not None:
            return self._ask(Step.VERIFY, welcome)
        return self._ask(Step.MENU, welcome)

    def _entry_key(self, digit: str) -> list[Action]:
        if digit == prompts.REPEAT:
            self.digits = ""
            return self._ask(self.step, [], again=True)
        if digit != prompts.ENTER:
            self.digits = (self.digits + digit)[-MAX_DIGITS:]
            return [Listen(DIGIT_WAIT)]
        entered, self.digits = self.digits, ""
        if not entered:
            return self._ask(self.step, [], again=True)
        if self.step is Step.ASK_NUMBER:
            return self._identify(entered, True)
        if self.step is Step.VERIFY:
            return self._verify(entered)
        return self._redeem(entered)

    def _verify(self, digits: str) -> list[Action]:
        assert self.caller.msisdn is not None
        result = self.saldo.run(
            verify_hotline_caller,
            msisdn=self.caller.msisdn,
            digits=digits,
            failed_before=self.failed,
            now=self.saldo.clock.now(),
        )
        say = self.voice.say
        if result.passed:
            self.metrics.verified.labels(self._slug, "passed").inc()
            self.failed = 0
            return self._ask(Step.MENU, [])
        self.failed += 1
        if result.tries_left <= 0:
            self.metrics.verified.labels(self._slug, "refused").inc()
            return self._leave_with([say("wrong_digits"), say("too_many_tries")])
        self.metrics.verified.labels(self._slug, "failed").inc()
        return self._ask(Step.VERIFY, [say("wrong_digits")])

    def _choice(self, digit: str) -> list[Action]:
        if digit == prompts.REPEAT:
            self._count("repeat")
            return self._ask(self.step, [], again=True)
        if self.step is Step.MENU:
            return self._menu(digit)
        if self.step is Step.PLANS:
            return self._plan_chosen(digit)
        if self.step is Step.CONFIRM_PLAN:
            if digit == prompts.CONFIRM:
                return self._buy()
            if digit == prompts.CANCEL:
                return self._ask(Step.MENU, [self.voice.say("cancelled")])
        if self.step is Step.LANGUAGE:
            return self._language_chosen(digit)
        return self._ask(self.step, [self.voice.say("invalid")])

    def _menu(self, digit: str) -> list[Action]:
        operator = self.caller.operator
        assert operator is not None
        if digit == prompts.BALANCE:
            self._count("balance")
            return self._balance()
        if digit == prompts.TOP_UP:
            self._count("topup")
            return self._ask(Step.ENTER_PIN, [])
        if digit == prompts.PLANS and operator.plans:
            self._count("plans")
            return self._plans()
        if digit == prompts.LANGUAGE and len(operator.languages) > 1:
            self._count("language")
            return self._ask(Step.LANGUAGE, [])
        if digit in (prompts.AGENT, operator.hotline.agent_digit):
            self._count("agent")
            return self._to_agent(operator.hotline.agent)
        self._count("invalid")
        return self._ask(Step.MENU, [self.voice.say("invalid")])

    def _balance(self) -> list[Action]:
        assert self.caller.msisdn is not None
        shown = self.saldo.run(
            hotline_balance, msisdn=self.caller.msisdn, now=self.saldo.clock.now()
        )
        return self._ask(Step.MENU, prompts.balance(self.voice, shown))

    def _redeem(self, pin: str) -> list[Action]:
        assert self.caller.msisdn is not None
        try:
            receipt = self.saldo.run(
                redeem_voucher,
                msisdn=self.caller.msisdn,
                pin=pin,
                channel=Channel.HOTLINE,
                pin_key=self.saldo.pin_key,
                now=self.saldo.clock.now(),
            )
        except WrongPin as wrong:
            if wrong.attempts_left > 0:
                return self._ask(Step.ENTER_PIN, prompts.refusal(self.voice, wrong))
            return self._ask(Step.MENU, prompts.refusal(self.voice, wrong))
        except SaldoError as refused:
            return self._ask(Step.MENU, prompts.refusal(self.voice, refused))
        return self._ask(Step.MENU, prompts.topped_up(self.voice, receipt))

    def _plans(self) -> list[Action]:
        assert self.caller.msisdn is not None
        self.quotes = self.saldo.run(
            hotline_plans, msisdn=self.caller.msisdn, now=self.saldo.clock.now()
        )
        return self._ask(Step.PLANS, [])

    def _plan_chosen(self, digit: str) -> list[Action]:
        chosen = int(digit) if digit.isdigit() else 0
        if not 1 <= chosen <= len(self.quotes):
            return self._ask(Step.PLANS, [self.voice.say("invalid")])
        self.quote = self.quotes[chosen - 1]
        if not self.quote.affordable:
            return self._ask(Step.MENU, prompts.unaffordable(self.voice, self.quote))
        return self._ask(Step.CONFIRM_PLAN, [])

    def _buy(self) -> list[Action]:
        assert self.caller.msisdn is not None and self.quote is not None
        code = self.quote.plan.code
        try:
            receipt = self.saldo.run(
                buy_plan,
                msisdn=self.caller.msisdn,
                plan_code=code,
                channel=Channel.HOTLINE,
                # Each confirmation of this call buys once, however often it is sent.
                idempotency_key=internal_key(
                    "hotline", f"{self.call.call_id}:{self.purchases}:{code}"
                ),
                saldo_key=True,
                expected_price=self.quote.price,
                now=self.saldo.clock.now(),
            )
        except SaldoError as refused:
            return self._ask(Step.MENU, prompts.refusal(self.voice, refused))
        self.purchases += 1
        return self._ask(Step.MENU, prompts.plan_bought(self.voice, receipt))

    def _language_chosen(self, digit: str) -> list[Action]:
        operator = self.caller.operator
        assert operator is not None and self.caller.msisdn is not None
        chosen = int(digit) if digit.isdigit() else 0
        if not 1 <= chosen <= len(operator.languages):
            return self._ask(Step.LANGUAGE, [self.voice.say("invalid")])
        language = self.saldo.run(
            set_line_language,
            msisdn=self.caller.msisdn,
            language=operator.languages[chosen - 1],
        )
        self.voice = Voice(operator, language)
        return self._ask(Step.MENU, [])

    def _to_agent(self, agent: str | None) -> list[Action]:
        if not agent:
            self.metrics.transfers.labels(self._slug, "no_agent").inc()
            return self._ask(Step.MENU, [self.voice.say("no_agent")])
        self.metrics.transfers.labels(self._slug, "requested").inc()
        log.info(
            "hotline call %s from %s: transfer to an agent requested",
            self.call.call_id,
            mask_msisdn(self.caller.msisdn or ""),
        )
        self.step = Step.TRANSFERRING
        self.after_play = [Transfer(agent)]
        return [Play(self._files([self.voice.say("transferring")]), interruptible=False)]

    # Saying things.

    def _ask(self, step: Step, before: list[Saying], *, again: bool = False) -> list[Action]:
        """Go to ``step``: say ``before``, then the step's question, and wait for keys."""
        self.step = step
        if step not in (Step.ASK_NUMBER, Step.VERIFY):
            self.failed = 0  # wrong PINs are counted by the redemption, across channels
        if not again or not self.prompt:
            self.prompt = self._files(self._question(step))
        wait = DIGIT_WAIT if step in _ENTRIES else MENU_WAIT
        return [Play(self._files(before) + self.prompt), Listen(wait)]

    def _question(self, step: Step) -> list[Saying]:
        voice = self.voice
        if step is Step.ASK_NUMBER:
            return prompts.ask_number(voice)
        if step is Step.VERIFY:
            assert self.caller.verification is not None
            return prompts.verify(voice, self.caller.verification)
        if step is Step.ENTER_PIN:
            return [voice.say("enter_pin")]
        if step is Step.PLANS:
            return prompts.plans(voice, self.quotes)
        if step is Step.CONFIRM_PLAN:
            assert self.quote is not None
            return prompts.confirm_plan(voice, self.quote)
        if step is Step.LANGUAGE:
            return prompts.languages(voice)
        return prompts.menu(voice)

    def _leave_with(self, said: list[Saying]) -> list[Action]:
        """Say ``said`` to the end, then hang up."""
        self.step = Step.LEAVING
        self.after_play = [HangUp()]
        return [Play(self._files(said), interruptible=False)]

    def _files(self, said: list[Saying]) -> tuple[Path, ...]:
        operator = self.caller.operator.slug if self.caller.operator else "_any"
        return tuple(self.speech.wav(saying, operator=operator) for saying in said)

    def _count(self, choice: str) -> None:
        self.metrics.choices.labels(self._slug, choice).inc()

    @property
    def _slug(self) -> str:
        return self.caller.operator.slug if self.caller.operator else ""

    def _guarded(self, step: Callable[..., list[Action]], *args: object) -> list[Action]:
        """``step``; anything unexpected is logged and the caller told, then hung up on."""
        try:
            return step(*args)
        except Exception:
            log.exception("hotline call %s could not be handled", self.call.call_id)
            return self._leave_with([self.voice.said("failed")])


def new_dialogue(
    saldo: Saldo, *, registry: CollectorRegistry | None = None, speech: Speech | None = None
) -> DialogueFactory:
    """Makes a dialogue per call, sharing the speech cache and the counters (registered on
    ``registry``, the endpoint's; a private one when None)."""
    metrics = HotlineMetrics(registry if registry is not None else CollectorRegistry())
    settings = saldo.settings
    spoken = speech or Speech(
        cache=saldo.beside_database(settings.hotline_speech_cache),
        prompts=saldo.beside_database(settings.hotline_prompts_folder),
    )

    def make() -> Dialogue:
        return HotlineDialogue(saldo, speech=spoken, metrics=metrics)

    return make
