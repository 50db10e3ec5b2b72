"""The hotline's dialogue driven as the SIP endpoint drives it (``begin``, ``key``,
``played``, ``silence``, ``transferred``) on the demo database, on SQLite and PostgreSQL.

Prompts are "synthesised" by writing their text into the file, so that what a caller hears
is read back from the files played; the real synthesis is tested in test_speech.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.hotline.call import (
    Action,
    Caller,
    HangUp,
    Listen,
    Play,
    Transfer,
    TransferOutcome,
)
from saldo.channels.hotline.dialogue import DIGIT_WAIT, MENU_WAIT, new_dialogue
from saldo.channels.hotline.speech import Speech
from saldo.channels.hotline.warm_up import warm_up
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.demo import set_up_demo
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line, find_line
from saldo.services.vouchers import GeneratedBatch, WrongPin, generate_vouchers, redeem_voucher

MOVISTAR_AR = "+5491123456789"  # es: 5.000 ARS, 100 minutes, 2 GB
CLARO_AR = "+5493515550123"  # es: last four digits 0123
CLARO_CO = "+573001234567"  # es: 50.000 COP, the design's worked example
PERSONAL_AR = "+5492614445566"
ICCID = "8954341000000012342"  # a SIM card's number: its last four, 2342
CLARO_CO_MENU = [
    "Para conocer su saldo, marque 1. Para recargar con el PIN de una tarjeta, marque 2.",
    "Para renovar un plan con su saldo, marque 3.",
    "Para cambiar de idioma, marque 9.",
    "Para hablar con un representante, marque 0.",
    "Para escuchar de nuevo estas opciones, marque asterisco.",
]


def write_text(text: str, voice: str, target: Path) -> None:
    target.write_text(f"{voice}|{text}", encoding="utf-8")


@pytest.fixture
def demo(saldo: Saldo) -> Saldo:
    saldo.run(
        set_up_demo,
        operators=[(spec.to_operator(), spec.model_dump(mode="json")) for spec in bundled_specs()],
        pin_key=saldo.pin_key,
        deliver_pins=None,
        rate_max_age=timedelta(hours=24),
        now=saldo.clock.now(),
    )
    return saldo


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


class Phone:
    """One call: the dialogue's actions, and what the caller heard, as text."""

    def __init__(self, saldo: Saldo, registry: CollectorRegistry, tmp_path: Path) -> None:
        speech = Speech(
            cache=tmp_path / "speech", prompts=tmp_path / "prompts", synthesise=write_text
        )
        self.dialogue = new_dialogue(saldo, registry=registry, speech=speech)()
        self.actions: Sequence[Action] = ()

    def call(self, number: str | None, dialled: str) -> list[str]:
        return self._did(self.dialogue.begin(Caller(number=number, dialled=dialled, call_id="c1")))

    def press(self, keys: str) -> list[str]:
        heard: list[str] = []
        for key in keys:
            heard = self._did(self.dialogue.key(key))
        return heard

    def silence(self) -> list[str]:
        return self._did(self.dialogue.silence())

    def played(self) -> list[str]:
        return self._did(self.dialogue.played())

    def transferred(self, outcome: TransferOutcome) -> list[str]:
        return self._did(self.dialogue.transferred(outcome))

    def _did(self, actions: Sequence[Action]) -> list[str]:
        self.actions = actions
        return [
            path.read_text(encoding="utf-8").split("|", 1)[1]
            for action in actions
            if isinstance(action, Play)
            for path in action.files
        ]

    @property
    def waits(self) -> list[float]:
        return [action.seconds for action in self.actions if isinstance(action, Listen)]


@pytest.fixture
def phone(demo: Saldo, registry: CollectorRegistry, tmp_path: Path) -> Iterator[Phone]:
    yield Phone(demo, registry, tmp_path)


def money(saldo: Saldo, msisdn: str) -> Money:
    return saldo.run(inquire_balance, msisdn=msisdn, now=saldo.clock.now()).main


def test_movistar_argentina_announces_money_minutes_and_data(phone: Phone) -> None:
    heard = phone.call(MOVISTAR_AR, "121")

    assert heard[0] == "Bienvenido a Movistar."
    assert phone.waits == [MENU_WAIT]

    heard = phone.press("1")

    assert heard[:3] == [
        "Su saldo es de cinco mil pesos.",
        "Tiene cien minutos.",
        "Tiene dos gigas de datos.",
    ]
    assert heard[3].startswith("Para conocer su saldo, marque 1.")
    assert phone.waits == [MENU_WAIT]


def test_claro_argentina_lets_in_a_caller_who_keys_the_last_four_digits(
    phone: Phone, registry: CollectorRegistry
) -> None:
    heard = phone.call(CLARO_AR, "123")

    assert heard == [
        "Bienvenido a Claro.",
        "Por su seguridad, marque los últimos cuatro dígitos de su número de celular y luego "
        "la tecla numeral.",
    ]
    assert phone.press("0") == [] and phone.waits == [DIGIT_WAIT]

    heard = phone.press("123#")

    assert heard[0].startswith("Para conocer su saldo, marque 1.")
    assert (
        registry.get_sample_value(
            "saldo_hotline_verifications_total", {"operator": "claro-ar", "outcome": "passed"}
        )
        == 1
    )


def test_claro_argentina_says_goodbye_after_three_wrong_answers(phone: Phone, demo: Saldo) -> None:
    before = money(demo, CLARO_AR)
    phone.call(CLARO_AR, "123")

    assert phone.press("1111#") == [
        "Los dígitos no coinciden.",
        "Por su seguridad, marque los últimos cuatro dígitos de su número de celular y luego "
        "la tecla numeral.",
    ]
    phone.press("2222#")
    heard = phone.press("3333#")

    assert heard == [
        "Los dígitos no coinciden.",
        "No pudimos confirmar su identidad. Por favor, llame más tarde. Adiós.",
    ]
    assert [action.interruptible for action in phone.actions if isinstance(action, Play)] == [False]
    phone.played()
    assert phone.actions == [HangUp()]
    assert phone.press("1") == [] and phone.actions == []
    assert money(demo, CLARO_AR) == before


def test_a_claro_colombia_voucher_keyed_by_phone_takes_the_balance_from_50_to_80(
    phone: Phone, demo: Saldo
) -> None:
    pins: list[str] = []

    def keep(batch: GeneratedBatch) -> None:
        pins.extend(voucher.pin for voucher in batch.vouchers)

    demo.run(
        generate_vouchers,
        operator="claro-co",
        value=Money.of("30000", "COP"),
        count=1,
        expires_at=demo.clock.now() + timedelta(days=30),
        created_by="test",
        pin_key=demo.pin_key,
        now=demo.clock.now(),
        deliver=keep,
    )
    assert money(demo, CLARO_CO) == Money.of("50000", "COP")

    assert phone.call(CLARO_CO, "123") == ["Bienvenido a Claro.", *CLARO_CO_MENU]
    assert phone.press("2") == ["Marque el PIN de su tarjeta de recarga y luego la tecla numeral."]
    heard = phone.press(pins[0].replace("-", "").replace(" ", "") + "#")

    assert heard == [
        "Su recarga de treinta mil pesos fue aplicada. Su nuevo saldo es de ochenta mil pesos.",
        *CLARO_CO_MENU,
    ]
    assert money(demo, CLARO_CO) == Money.of("80000", "COP")
    assert demo.run(audit_ledger).clean


def test_a_wrong_pin_counts_against_the_line_and_says_the_tries_left(
    phone: Phone, demo: Saldo
) -> None:
    phone.call(CLARO_CO, "123")
    phone.press("2")

    heard = phone.press("1234567890123456#")

    assert heard == [
        "El PIN no es correcto. Intentos restantes: cuatro.",
        "Marque el PIN de su tarjeta de recarga y luego la tecla numeral.",
    ]
    assert money(demo, CLARO_CO) == Money.of("50000", "COP")


def test_wrong_pins_sent_by_sms_and_keyed_by_phone_count_toward_one_lockout(
    phone: Phone, demo: Saldo
) -> None:
    for _ in range(4):
        with pytest.raises(WrongPin):
            demo.run(
                redeem_voucher,
                msisdn=CLARO_CO,
                pin="1234567890123456",
                channel=Channel.SMS,
                pin_key=demo.pin_key,
                now=demo.clock.now(),
            )
    phone.call(CLARO_CO, "123")
    phone.press("2")

    heard = phone.press("6543210987654321#")

    assert heard == [
        "Demasiados PIN incorrectos. Podrá recargar con PIN de nuevo el veintitrés de noviembre.",
        *CLARO_CO_MENU,
    ]


def test_a_plan_renewed_from_the_balance_after_a_confirmation(phone: Phone, demo: Saldo) -> None:
    phone.call(CLARO_CO, "123")

    heard = phone.press("3")

    assert heard[:2] == [
        "Elija un plan.",
        "Para Todo Incluido 30 días, treinta mil pesos, marque 1.",
    ]
    assert phone.press("1") == [
        "Todo Incluido 30 días cuesta treinta mil pesos. Su saldo es de cincuenta mil pesos. "
        "Para confirmar, marque 1. Para cancelar, marque 2."
    ]
    heard = phone.press("1")

    assert heard[0].startswith(
        "Listo: Todo Incluido 30 días está activo. Su saldo es de veinte mil pesos."
    )
    assert money(demo, CLARO_CO) == Money.of("20000", "COP")
    assert demo.run(audit_ledger).clean


def test_a_plan_the_balance_cannot_pay_is_not_offered_for_confirmation(phone: Phone) -> None:
    phone.call(CLARO_CO, "123")
    phone.press("3")

    heard = phone.press("2")

    assert heard[0] == (
        "Todo Incluido 90 días cuesta ochenta y cinco mil pesos y su saldo es de cincuenta mil "
        "pesos. Recargue primero."
    )
    assert heard[1:] == CLARO_CO_MENU


def test_the_agent_digit_transfers_and_a_failed_transfer_comes_back_to_the_menu(
    phone: Phone, registry: CollectorRegistry
) -> None:
    phone.call(CLARO_AR, "123")
    phone.press("0123#")

    heard = phone.press("0")

    assert heard == ["Por favor, aguarde: lo comunicamos con un representante."]
    assert [action.interruptible for action in phone.actions if isinstance(action, Play)] == [False]
    phone.played()
    assert phone.actions == [Transfer("sip:agents-claro-ar@127.0.0.1:5090")]

    heard = phone.transferred(TransferOutcome.FAILED)

    assert heard[0] == "No pudimos comunicarlo con un representante."
    assert heard[1].startswith("Para conocer su saldo, marque 1.")
    assert phone.waits == [MENU_WAIT]
    counted = {
        outcome: registry.get_sample_value(
            "saldo_hotline_transfers_total", {"operator": "claro-ar", "outcome": outcome}
        )
        for outcome in ("requested", "failed")
    }
    assert counted == {"requested": 1, "failed": 1}


def test_an_unknown_caller_keys_the_number_in(phone: Phone) -> None:
    heard = phone.call(None, "125")

    assert heard == [
        "Bienvenido a Movistar.",
        "Por favor, marque su número de celular y luego la tecla numeral.",
    ]

    heard = phone.press("3155550000#")

    assert heard[0].startswith("Para conocer su saldo, marque 1.")
    assert phone.press("1")[0] == "Su saldo es de veinte mil pesos."


def test_a_number_keyed_three_times_wrong_says_goodbye(phone: Phone) -> None:
    phone.call(None, "125")

    assert phone.press("3009999999#") == [
        "No encontramos ese número.",
        "Por favor, marque su número de celular y luego la tecla numeral.",
    ]
    phone.press("3009999998#")
    heard = phone.press("3009999997#")

    assert heard == [
        "No encontramos ese número.",
        "No pudimos confirmar su identidad. Por favor, llame más tarde. Adiós.",
    ]
    phone.played()
    assert phone.actions == [HangUp()]


def test_a_silence_repeats_the_menu_once_then_says_goodbye(phone: Phone) -> None:
    first = phone.call(CLARO_CO, "123")

    assert phone.silence() == first[1:]
    assert phone.waits == [MENU_WAIT]
    assert phone.silence() == ["Gracias por llamar a Claro. Adiós."]
    assert phone.played() == [] and phone.actions == [HangUp()]


def test_star_repeats_the_menu(phone: Phone) -> None:
    first = phone.call(CLARO_CO, "123")

    assert phone.press("*") == first[1:]


def test_nine_switches_the_line_to_another_language(phone: Phone, demo: Saldo) -> None:
    phone.call(MOVISTAR_AR, "121")

    heard = phone.press("9")

    assert heard == ["Para español, marque 1.", "For English, press 2.", "中文服务请按3。"]
    heard = phone.press("2")

    assert heard[0] == "For your balance, press 1. To top up with a voucher PIN, press 2."
    assert phone.press("1")[0] == "Your balance is five thousand pesos."
    assert demo.run(find_line, msisdn=MOVISTAR_AR).language == "en"


def test_personal_asks_for_the_last_four_digits_when_the_line_has_no_sim_on_record(
    phone: Phone,
) -> None:
    heard = phone.call(PERSONAL_AR, "100")

    assert heard[1].startswith("Por su seguridad, marque los últimos cuatro dígitos de su número")
    assert phone.press("5566#")[0].startswith("Para conocer su saldo, marque 1.")


def test_personal_asks_for_the_sim_cards_last_four_digits_when_it_is_on_record(
    phone: Phone, demo: Saldo
) -> None:
    new_line = NewLine(msisdn="+5492615550000", operator="personal-ar", iccid=ICCID)
    demo.run(add_line, new_line=new_line, now=demo.clock.now())

    heard = phone.call("+5492615550000", "100")

    assert heard[1] == (
        "Por su seguridad, marque los últimos cuatro dígitos del número de su tarjeta SIM y "
        "luego la tecla numeral."
    )
    assert phone.press("0000#")[0] == "Los dígitos no coinciden."
    assert phone.press("2342#")[0].startswith("Para conocer su saldo, marque 1.")


def test_a_number_no_operator_answers_is_told_so(phone: Phone) -> None:
    assert phone.call(MOVISTAR_AR, "999") == ["This number offers no service. Goodbye."]
    phone.played()
    assert phone.actions == [HangUp()]


def test_warming_up_makes_every_fixed_prompt_so_a_call_synthesises_none(
    demo: Saldo, registry: CollectorRegistry, tmp_path: Path
) -> None:
    made: list[str] = []

    def counting(text: str, voice: str, target: Path) -> None:
        made.append(text)
        write_text(text, voice, target)

    speech = Speech(cache=tmp_path / "speech", prompts=None, synthesise=counting)

    assert warm_up(demo, speech=speech) > 7 * 20
    made.clear()
    dialogue = new_dialogue(demo, registry=registry, speech=speech)()
    dialogue.begin(Caller(number=CLARO_AR, dialled="123", call_id="c2"))
    dialogue.key("*")

    assert made == []
