"""USSD menus through the real ASGI application, as a USSD gateway calls them (session id,
service code, phone number and every choice so far joined by ``*``), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.vouchers import format_pin
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers

PATH = "/channels/ussd"
MAX_SCREEN = 182
CLARO_CO = "+573001234567"
TIGO_CO = "+573201234567"
CLARO_CO_MENU = "Claro\n1 Saldo\n2 Recargar con PIN\n3 Comprar plan\n4 Mi número\n0 Ayuda"

# Every bundled operator, a mobile number of its country and its USSD code.
OPERATORS = [
    ("personal-ar", "+5491123456789", "*150#"),
    ("claro-ar", "+5491123456781", "*150#"),
    ("movistar-ar", "+5491123456780", "*444#"),
    ("claro-co", CLARO_CO, "*611#"),
    ("movistar-co", "+573101234567", "*611#"),
    ("tigo-co", TIGO_CO, "*611#"),
    ("proximus-be", "+32470123456", "*100#"),
]
LANGUAGES = {"ar": ("es", "en", "zh"), "co": ("es", "en"), "be": ("fr", "nl", "en")}
ENOUGH_FOR_ONE_TOP_UP = {
    "ar": Money.of("10000", "ARS"),
    "co": Money.of("10000", "COP"),
    "be": Money.of("20.00", "EUR"),
}
EVERY_OPERATOR_AND_LANGUAGE = [
    pytest.param(slug, msisdn, code, language, id=f"{slug}-{language}")
    for slug, msisdn, code in OPERATORS
    for language in LANGUAGES[slug.rsplit("-", 1)[1]]
]


@pytest.fixture
def client(saldo: Saldo) -> TestClient:
    # Server errors come back as responses, so a test can say "no 5xx" instead of crashing.
    return TestClient(create_app(saldo), raise_server_exceptions=False)


def given_line(saldo: Saldo, msisdn: str, operator: str, language: str | None = None) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn=msisdn, operator=operator, language=language),
        now=saldo.clock.now(),
    )


def given_money(saldo: Saldo, msisdn: str, amount: Money) -> None:
    top_up(
        saldo.uow(),
        msisdn=msisdn,
        amount=amount,
        channel=Channel.STORE,
        idempotency_key=f"store-{msisdn}-{amount.minor}",
        now=saldo.clock.now(),
    )


def dial(
    client: TestClient,
    choices: str,
    *,
    session: str = "ATUid_0001",
    phone: str = CLARO_CO,
    code: str = "*611#",
) -> str:
    """The screen the gateway gets; fails the test when it is not one USSD screen."""
    response = client.post(
        PATH,
        data={"sessionId": session, "serviceCode": code, "phoneNumber": phone, "text": choices},
    )
    assert response.status_code == 200, response.text
    return fits_one_screen(response.text)


def fits_one_screen(body: str) -> str:
    assert body[:4] in ("CON ", "END "), body
    assert len(body[4:]) <= MAX_SCREEN, body
    return body


def money_state(saldo: Saldo) -> tuple[list[tuple[int, int]], int]:
    """Every account's balance and how many ledger entries there are."""
    with saldo.engine.connect() as connection:
        balances = connection.execute(text("SELECT id, balance FROM accounts ORDER BY id"))
        entries = connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        return [(row[0], row[1]) for row in balances], entries


# -- the main menu and its one-step answers ---------------------------------------------------


def test_dialling_the_code_shows_the_main_menu(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, "")

    assert screen == f"CON {CLARO_CO_MENU}"


@pytest.mark.parametrize("code", ["*611#", "611", " *611# ", "*611"])
def test_the_service_code_is_recognized_with_or_without_star_and_hash(
    saldo: Saldo, client: TestClient, code: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    assert dial(client, "", code=code) == f"CON {CLARO_CO_MENU}"


def test_choice_1_shows_the_balance_and_ends(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("5000", "COP"))

    screen = dial(client, "1")

    assert screen.startswith("END Claro: saldo $5.000. Válido hasta ")


def test_choice_4_shows_the_number_its_validity_and_state(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, "4")

    assert screen == "END Su número: +573001234567\nVálido hasta 22 dic 2026\nEstado: activa"


def test_choice_0_shows_help_with_the_sms_keywords(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, "0")

    assert screen == "END Saldo: envíe SALDO al 123. Recarga: RECARGA PIN al 123. Atención: 123"


@pytest.mark.parametrize("choices", ["9", "5", "x", "1 2", "³"])
def test_an_invalid_choice_shows_the_menu_again_with_a_notice(
    saldo: Saldo, client: TestClient, choices: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, choices)

    assert screen == f"CON Opción inválida.\n{CLARO_CO_MENU}"


def test_spaces_around_a_choice_are_ignored(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    assert dial(client, " 4 ").startswith("END Su número:")


# -- plans ------------------------------------------------------------------------------------


def test_choice_3_lists_the_plans_with_their_prices(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, "3")

    assert screen == (
        "CON Elija un plan:\n1 Todo Incluido 30 días $30.000\n"
        "2 Todo Incluido 90 días $85.000\n3 Todo Incluido 12 meses $320.000"
    )


@pytest.mark.parametrize(
    ("language", "named"),
    [
        ("fr", "1 Mobile Smart 1 mois 15,00 €"),
        ("nl", "1 Mobile Smart 1 maand € 15,00"),
        ("en", "1 Mobile Smart 1 month €15.00"),
    ],
)
def test_plans_are_named_in_the_line_s_language(
    saldo: Saldo, client: TestClient, language: str, named: str
) -> None:
    given_line(saldo, "+32470123456", "proximus-be", language=language)

    screen = dial(client, "3", phone="+32470123456", code="*100#")

    assert named in screen.splitlines(), screen


def test_choosing_a_plan_asks_for_confirmation_showing_the_balance(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))

    screen = dial(client, "3*1")

    assert screen == (
        "CON Todo Incluido 30 días por $30.000. Saldo $50.000.\n1 Confirmar\n2 Cancelar"
    )


@pytest.mark.parametrize("choice", ["0", "4", "x", "²"])
def test_an_invalid_plan_number_shows_the_plans_again_with_a_notice(
    saldo: Saldo, client: TestClient, choice: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    screen = dial(client, f"3*{choice}")

    assert screen.startswith("CON Opción inválida.\nElija un plan:\n1 Todo Incluido 30 días")


def test_cancelling_buys_nothing(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))
    before = money_state(saldo)

    screen = dial(client, "3*1*2")

    assert screen == "END Compra cancelada."
    assert money_state(saldo) == before


def test_confirming_buys_the_plan_from_the_balance(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))  # valid to the end of 20 February

    screen = dial(client, "3*1*1")

    assert screen == (
        "END Listo: Todo Incluido 30 días activo. Saldo $20.000. Válido hasta 20 mar 2027."
    )
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == Money.of("20000", "COP")
    assert view.valid_until == datetime(2027, 3, 21, 5, 0, tzinfo=UTC)
    assert view.data_bytes == 12288 * 1024 * 1024
    assert audit_ledger(saldo.uow()).clean


def test_a_replayed_confirmation_in_the_same_session_does_not_charge_twice(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    first = dial(client, "3*1*1", session="ATUid_42")
    after_first = money_state(saldo)

    again = dial(client, "3*1*1", session="ATUid_42")

    assert again == first
    assert money_state(saldo) == after_first
    assert inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now()).main == (
        Money.of("70000", "COP")
    )


def test_two_sessions_are_two_purchases(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    dial(client, "3*1*1", session="ATUid_1")

    dial(client, "3*1*1", session="ATUid_2")

    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == Money.of("40000", "COP")


def test_two_sessions_whose_ids_have_no_ascii_letters_are_two_purchases(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    dial(client, "3*1*1", session="会话一")

    second = dial(client, "3*1*1", session="会话二")

    assert second.startswith("END Listo: Todo Incluido 30 días activo. Saldo $40.000.")
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == Money.of("40000", "COP")


def test_confirming_without_enough_balance_buys_nothing(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("5000", "COP"))
    before = money_state(saldo)

    screen = dial(client, "3*1*1")

    assert screen == (
        "END Todo Incluido 30 días cuesta $30.000 y su saldo es $5.000. Recargue primero."
    )
    assert money_state(saldo) == before


# -- vouchers ---------------------------------------------------------------------------------


def test_choice_2_asks_for_the_pin(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    assert dial(client, "2") == "CON Ingrese el PIN de 16 dígitos:"


@pytest.mark.parametrize("pin", ["1234567890123456", "1234", "abcd"])
def test_a_wrong_pin_is_refused_and_moves_no_money(
    saldo: Saldo, client: TestClient, pin: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    before = money_state(saldo)

    screen = dial(client, f"2*{pin}")

    assert screen.startswith("END PIN incorrecto. Intentos restantes: ")
    assert money_state(saldo) == before


def given_voucher(saldo: Saldo, pin: str) -> str:
    """A Claro Colombia voucher of 10.000 COP with this PIN (its last digit is the check
    digit); the PIN as a subscriber types it."""
    generate_vouchers(
        saldo.uow(),
        operator="claro-co",
        value=Money.of("10000", "COP"),
        count=1,
        expires_at=saldo.clock.now() + timedelta(days=365),
        created_by="ops@claro.example",
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
        random_digits=lambda: pin[:-1],
    )
    return format_pin(pin)


def test_a_gateway_retrying_a_redeemed_pin_gets_it_confirmed_and_never_a_lockout(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    pin = given_voucher(saldo, "4111111111111111")
    first = dial(client, f"2*{pin}", session="ATUid_pin")
    after_first = money_state(saldo)

    retries = [dial(client, f"2*{pin}", session="ATUid_pin") for _ in range(6)]

    assert first.startswith("END Recarga de $10.000 aplicada.")
    assert set(retries) == {
        "END Este PIN ya se aplicó a su línea: $10.000, recibo CLARO-CO-T-000000001."
    }
    assert money_state(saldo) == after_first
    second = given_voucher(saldo, "5555555555554444")
    assert dial(client, f"2*{second}", session="ATUid_next").startswith("END Recarga de $10.000")


def test_a_session_id_another_phone_used_to_buy_does_not_stop_this_phone_buying(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_line(saldo, "+573109876543", "claro-co")
    for phone in (CLARO_CO, "+573109876543"):
        given_money(saldo, phone, Money.of("100000", "COP"))

    bought = [dial(client, "3*1*1", session="1001", phone=p) for p in (CLARO_CO, "+573109876543")]

    assert all(screen.startswith("END Listo: Todo Incluido 30 días activo.") for screen in bought)
    for phone in (CLARO_CO, "+573109876543"):
        view = inquire_balance(saldo.uow(), msisdn=phone, now=saldo.clock.now())
        assert view.main == Money.of("70000", "COP")


def test_a_confirmation_sent_again_after_a_purchase_that_emptied_the_balance_gets_the_receipt(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("30000", "COP"))
    first = dial(client, "3*1*1", session="ATUid_last")
    after_first = money_state(saldo)

    again = dial(client, "3*1*1", session="ATUid_last")

    assert first.startswith("END Listo: Todo Incluido 30 días activo. Saldo $0.")
    assert again == first
    assert money_state(saldo) == after_first


@pytest.mark.parametrize(
    ("choices", "answer"),
    [
        ("2*123*9", "END Opción inválida."),  # a PIN, then more
        ("3*1*1*1", "END Opción inválida."),  # a confirmation, then more
        ("3*" + "9" * 5000, "CON Opción inválida.\nElija un plan:"),  # no such plan number
    ],
    ids=["past-the-pin", "past-the-confirmation", "5000-digit-choice"],
)
def test_choices_past_the_end_of_a_path_or_absurd_ones_are_invalid_choices(
    saldo: Saldo, client: TestClient, choices: str, answer: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    before = money_state(saldo)

    screen = dial(client, choices)

    assert screen.startswith(answer), screen
    assert money_state(saldo) == before


# -- sessions and the gateway -----------------------------------------------------------------


def test_another_operator_s_code_is_not_available(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    assert dial(client, "", code="*150#") == "END Código no disponible."


def test_an_unknown_phone_is_told_it_is_not_registered(client: TestClient) -> None:
    # *611# is dialled on the Colombian operators: the answer is in their language.
    screen = dial(client, "", phone="+573009999999")

    assert screen == "END Su número no está registrado en este servicio."


def test_an_unknown_phone_dialling_a_code_no_operator_has_is_answered_in_english(
    client: TestClient,
) -> None:
    screen = dial(client, "", phone="+573009999999", code="*999#")

    assert screen == "END Your number is not registered with this service."


def test_a_line_past_its_recycling_date_is_told_so_before_and_after_the_sweep(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    # Given a line a day past its recycling date, the lifecycle sweep not run yet
    given_line(saldo, CLARO_CO, "claro-co")
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    clock.set(view.recycles_at + timedelta(days=1))

    # When it dials the menu, and again once the sweep has recorded it as recycled
    before_sweep = dial(client, "")
    sweep_lifecycle(saldo.uow(), now=clock.now())
    after_sweep = dial(client, "", session="ATUid_0002")

    # Then both times it is told, in its language, that the line expired for good
    told = "END Esta línea venció definitivamente. Contacte a su operador."
    assert (before_sweep, after_sweep) == (told, told)


def test_a_session_idle_for_four_minutes_has_expired(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    dial(client, "", session="ATUid_idle")
    clock.advance(timedelta(minutes=4))

    screen = dial(client, "1", session="ATUid_idle")

    assert screen == "END La sesión expiró. Marque *611# de nuevo."


def test_an_expired_session_stays_expired(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    dial(client, "3", session="ATUid_late")
    clock.advance(timedelta(minutes=4))
    dial(client, "3*1", session="ATUid_late")
    clock.advance(timedelta(seconds=10))

    screen = dial(client, "3*1", session="ATUid_late")

    assert screen == "END La sesión expiró. Marque *611# de nuevo."


def test_a_session_id_dialled_again_after_it_expired_opens_a_new_dialog(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    dial(client, "3*1*1", session="ATUid_reused")
    clock.advance(timedelta(days=30))

    opened = dial(client, "", session="ATUid_reused")
    bought = dial(client, "3*1*1", session="ATUid_reused")

    assert opened == f"CON {CLARO_CO_MENU}"
    assert bought.startswith("END Listo: Todo Incluido 30 días activo. Saldo $40.000.")
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert view.main == Money.of("40000", "COP")  # a second purchase, not a replay of the first


def test_a_session_answered_within_three_minutes_goes_on(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    dial(client, "", session="ATUid_busy")
    clock.advance(timedelta(minutes=2, seconds=59))

    screen = dial(client, "4", session="ATUid_busy")

    assert screen.startswith("END Su número:")


def test_a_session_id_already_used_by_another_phone_is_not_a_server_error(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_line(saldo, TIGO_CO, "tigo-co")
    dial(client, "", session="1001", phone=CLARO_CO)

    response = client.post(
        PATH,
        data={"sessionId": "1001", "serviceCode": "*611#", "phoneNumber": TIGO_CO, "text": ""},
    )

    assert response.status_code == 200
    assert response.text.startswith("CON Tigo\n1 Saldo")


def test_a_session_id_with_a_nul_character_is_not_a_server_error(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    response = client.post(
        PATH,
        data={"sessionId": "a\x00b", "serviceCode": "*611#", "phoneNumber": CLARO_CO, "text": ""},
    )

    assert response.status_code < 500


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"serviceCode": "*611#", "phoneNumber": CLARO_CO}, "missing: sessionId"),
        ({"sessionId": "s", "phoneNumber": CLARO_CO}, "missing: serviceCode"),
        ({"text": "1"}, "missing: sessionId, serviceCode, phoneNumber"),
    ],
)
def test_a_request_without_the_gateway_fields_is_refused_in_one_line(
    client: TestClient, fields: dict[str, str], reason: str
) -> None:
    response = client.post(PATH, data=fields)

    assert response.status_code == 400
    assert response.text == reason


def test_ussd_is_post_only(client: TestClient) -> None:
    response = client.get(PATH, params={"sessionId": "s", "serviceCode": "*611#"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_a_body_over_16_kib_is_refused(client: TestClient) -> None:
    response = client.post(
        PATH,
        data={
            "sessionId": "s",
            "serviceCode": "*611#",
            "phoneNumber": CLARO_CO,
            "text": "1" * 17_000,
        },
    )

    assert response.status_code == 413


# -- every operator's screens fit -------------------------------------------------------------


@pytest.mark.parametrize(("slug", "msisdn", "code", "language"), EVERY_OPERATOR_AND_LANGUAGE)
def test_every_operator_s_screens_fit_on_one_ussd_screen_uncut(
    saldo: Saldo, client: TestClient, slug: str, msisdn: str, code: str, language: str
) -> None:
    given_line(saldo, msisdn, slug, language=language)
    given_money(saldo, msisdn, ENOUGH_FOR_ONE_TOP_UP[slug.rsplit("-", 1)[1]])

    screens = [
        dial(client, choices, session=f"s-{choices}", phone=msisdn, code=code)
        for choices in ("", "1", "2", "3", "3*1", "3*3", "3*9", "4", "0", "9", "3*1*2", "3*3*1")
    ]

    assert screens[0].startswith("CON ")
    assert screens[3].count("\n") == 3  # a title and three plans
    for screen in screens:
        assert not screen.endswith("…"), screen


@pytest.mark.parametrize(("slug", "msisdn", "code", "language"), EVERY_OPERATOR_AND_LANGUAGE)
def test_the_screens_of_a_line_in_grace_fit_on_one_ussd_screen_uncut(
    saldo: Saldo,
    client: TestClient,
    clock: FixedClock,
    slug: str,
    msisdn: str,
    code: str,
    language: str,
) -> None:
    given_line(saldo, msisdn, slug, language=language)
    clock.advance(timedelta(days=40))

    screens = [
        dial(client, choices, session=f"g-{choices}", phone=msisdn, code=code)
        for choices in ("1", "4")
    ]

    for screen in screens:
        assert not screen.endswith("…"), screen
