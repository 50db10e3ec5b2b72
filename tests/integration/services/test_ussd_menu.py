"""The USSD menu's use case, called as the channel calls it, on SQLite and PostgreSQL: the
screen it decides, with what the screen is about, for the channel to write."""

from __future__ import annotations

import pytest

from saldo.bootstrap import Saldo
from saldo.domain.lifecycle import LineState
from saldo.services.inquire_balance import BalanceView
from saldo.services.lines import NewLine, add_line
from saldo.services.ussd_menu import Screen, UssdScreen, answer_ussd
from saldo.services.vouchers import WrongPin

CLARO_CO = "+573001234567"


@pytest.fixture
def claro(saldo: Saldo) -> str:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"),
        now=saldo.clock.now(),
    )
    return CLARO_CO


def dial(saldo: Saldo, choices: str, *, phone: str = CLARO_CO) -> UssdScreen:
    return answer_ussd(
        saldo.uow(),
        session_id="ATUid_0001",
        service_code="*611#",
        phone_number=phone,
        text=choices,
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )


def test_dialling_the_code_reaches_the_main_menu_which_waits(saldo: Saldo, claro: str) -> None:
    shown = dial(saldo, "")

    assert (shown.screen, shown.ends, shown.invalid, shown.language) == (
        Screen.MENU,
        False,
        False,
        "es",
    )
    assert shown.operator is not None and shown.operator.slug == "claro-co"


def test_an_invalid_choice_reaches_the_same_screen_marked_invalid(saldo: Saldo, claro: str) -> None:
    dial(saldo, "")

    shown = dial(saldo, "9")

    assert (shown.screen, shown.ends, shown.invalid) == (Screen.MENU, False, True)


def test_my_number_is_about_the_line_s_number_validity_and_state_now(
    saldo: Saldo, claro: str
) -> None:
    dial(saldo, "")

    shown = dial(saldo, "4")

    assert shown.screen is Screen.MY_NUMBER and shown.ends
    assert isinstance(shown.about, BalanceView)
    assert (shown.about.msisdn, shown.about.state) == (CLARO_CO, LineState.ACTIVE)


def test_a_refused_pin_ends_the_session_with_the_refusal(saldo: Saldo, claro: str) -> None:
    dial(saldo, "")
    dial(saldo, "2")

    shown = dial(saldo, "2*1234-5678-9012")

    assert shown.screen is Screen.REFUSED and shown.ends
    assert isinstance(shown.about, WrongPin)


def test_an_unknown_phone_reaches_the_unknown_sender_screen_without_a_line(
    saldo: Saldo,
) -> None:
    shown = dial(saldo, "", phone="+573009999999")

    assert shown == UssdScreen(Screen.UNKNOWN_SENDER, language="es")
    assert shown.ends
