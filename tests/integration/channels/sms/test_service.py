"""The SMS keyword service through the real ASGI application, as a gateway (Kannel's
``get-url``) calls it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.sms_text import is_gsm7, sms_parts
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.lines import LineRecycled, NewLine, add_line
from saldo.services.top_up import top_up

PATH = "/channels/sms/inbound"

PERSONAL_AR = "+5491123456789"
PERSONAL_AR_ZH = "+5491123456782"
MOVISTAR_AR = "+5491123456780"
CLARO_AR = "+5491123456781"
CLARO_CO = "+573001234567"
PROXIMUS_FR = "+32470123456"
PROXIMUS_NL = "+32470123457"


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


def send(client: TestClient, sender: str, to: str, body: str, **extra: str) -> Response:
    return client.get(PATH, params={"from": sender, "to": to, "text": body, **extra})


def money_state(saldo: Saldo) -> tuple[list[tuple[int, int]], int]:
    """Every account's balance and how many ledger entries there are."""
    with saldo.engine.connect() as connection:
        balances = connection.execute(text("SELECT id, balance FROM accounts ORDER BY id"))
        entries = connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        return [(row[0], row[1]) for row in balances], entries


# -- balance ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["SALDO", "consulta", " Consulta  ", "sáldo"])
def test_a_personal_line_gets_its_balance_in_spanish_pesos(
    saldo: Saldo, client: TestClient, typed: str
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")
    given_money(saldo, PERSONAL_AR, Money.of("3000", "ARS"))

    response = send(client, PERSONAL_AR, "100", typed)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("Personal: saldo $3.000,00.")
    assert "Válido hasta" in response.text


@pytest.mark.parametrize("typed", ["MIS DATOS", "mis   datos", "Mis Datos"])
def test_a_movistar_argentina_line_asks_its_balance_with_mis_datos(
    saldo: Saldo, client: TestClient, typed: str
) -> None:
    given_line(saldo, MOVISTAR_AR, "movistar-ar")
    given_money(saldo, MOVISTAR_AR, Money.of("1500", "ARS"))

    response = send(client, MOVISTAR_AR, "121", typed)

    assert response.text == "Movistar: saldo $1.500,00. Válido hasta 22 dic 2026."


@pytest.mark.parametrize("typed", ["INFO", "balance"])
def test_a_claro_argentina_line_asks_its_balance_with_info_or_balance(
    saldo: Saldo, client: TestClient, typed: str
) -> None:
    given_line(saldo, CLARO_AR, "claro-ar")

    response = send(client, CLARO_AR, "123", typed)

    assert response.text == "Claro: saldo $0,00. Válido hasta 22 dic 2026."


def test_another_operator_s_balance_keyword_is_not_understood(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_AR, "claro-ar")

    response = send(client, CLARO_AR, "123", "SALDO")

    assert response.text.startswith("Claro: INFO saldo; RECARGA PIN recarga;")


def test_a_proximus_line_in_french_gets_its_balance_in_euros(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PROXIMUS_FR, "proximus-be", language="fr")
    given_money(saldo, PROXIMUS_FR, Money.of("20.00", "EUR"))

    response = send(client, PROXIMUS_FR, "6000", "solde")

    # a plain space, not CLDR's no-break one: it would make the SMS UCS-2 (half the room)
    assert response.text.startswith("Proximus : solde 20,00 €.")
    assert "Valable jusqu'au" in response.text
    assert is_gsm7(response.text)


@pytest.mark.parametrize(("language", "keyword"), [("fr", "OFFRES"), ("nl", "AANBOD")])
def test_the_proximus_offers_fit_one_plain_sms(
    saldo: Saldo, client: TestClient, language: str, keyword: str
) -> None:
    number = PROXIMUS_FR if language == "fr" else PROXIMUS_NL
    given_line(saldo, number, "proximus-be", language=language)

    response = send(client, number, "6000", keyword)

    assert "€" in response.text
    assert is_gsm7(response.text)
    assert sms_parts(response.text) == 1, response.text


def test_a_proximus_line_in_dutch_gets_its_balance_in_dutch(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PROXIMUS_NL, "proximus-be", language="nl")
    given_money(saldo, PROXIMUS_NL, Money.of("20.00", "EUR"))

    response = send(client, PROXIMUS_NL, "6000", "saldo")

    assert response.text.startswith("Proximus: saldo € 20,00.")
    assert is_gsm7(response.text)
    assert "Geldig tot" in response.text


def test_dutch_help_names_the_dutch_keywords(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, PROXIMUS_NL, "proximus-be", language="nl")

    response = send(client, PROXIMUS_NL, "6000", "hulp")

    assert response.text.startswith("Proximus: SALDO saldo; OPLADEN PIN herladen;")
    assert "SOLDE" not in response.text


def test_a_chinese_speaking_line_is_answered_in_chinese_within_three_sms(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR_ZH, "personal-ar", language="zh")

    replies = [send(client, PERSONAL_AR_ZH, "100", typed).text for typed in ("SALDO", "PACKS")]

    assert replies[0].startswith("Personal：余额")
    assert replies[1].startswith("套餐：pack-libre-1m")
    for reply in replies:
        assert not is_gsm7(reply)
        assert sms_parts(reply) <= 3


def test_a_line_in_grace_is_told_to_top_up_to_keep_its_number(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")  # valid until the end of 22 December
    clock.set(datetime(2026, 12, 28, 15, 0, tzinfo=UTC))

    response = send(client, PERSONAL_AR, "100", "SALDO")

    assert response.text.endswith(
        " Línea en gracia: recargue para no perder su número (quedan 85 días)."
    )


# -- the channel ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_gateway_may_call_with_get_or_post(
    saldo: Saldo, client: TestClient, method: str
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    fields = {"from": CLARO_CO, "to": "123", "text": "SALDO"}

    if method == "GET":
        response = client.get(PATH, params=fields)
    else:
        response = client.post(PATH, data=fields)

    assert response.status_code == 200
    assert response.text.startswith("Claro: saldo $0.")


@pytest.mark.parametrize(
    "fields",
    [{"to": "123", "text": "SALDO"}, {"from": CLARO_CO, "text": "SALDO"}, {"from": "", "to": ""}],
)
def test_a_request_without_sender_or_short_code_is_refused_in_one_line(
    client: TestClient, fields: dict[str, str]
) -> None:
    response = client.get(PATH, params=fields)

    assert response.status_code == 400
    assert response.text == "from and to are required"


def test_other_methods_are_refused_with_the_allowed_ones(client: TestClient) -> None:
    response = client.put(PATH, data={"from": CLARO_CO, "to": "123", "text": "SALDO"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_a_body_over_16_kib_is_refused(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    response = client.post(PATH, data={"from": CLARO_CO, "to": "123", "text": "S" * 17_000})

    assert response.status_code == 413


def test_a_body_just_under_16_kib_is_answered(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    response = client.post(
        PATH, data={"from": CLARO_CO, "to": "123", "text": "SALDO" + " " * 16_000}
    )

    assert response.status_code == 200
    assert response.text.startswith("Claro: saldo")


@pytest.mark.parametrize(
    ("sender", "operator", "language", "to", "reply"),
    [
        (CLARO_CO, "claro-co", None, "125", "Este número no ofrece ese servicio."),
        (PROXIMUS_FR, "proximus-be", "fr", "123", "Ce numéro ne propose pas ce service."),
        (PROXIMUS_NL, "proximus-be", "nl", "999", "Dit nummer biedt die dienst niet aan."),
    ],
)
def test_a_keyword_sent_to_another_operator_s_short_code_is_an_unknown_service(
    saldo: Saldo,
    client: TestClient,
    sender: str,
    operator: str,
    language: str | None,
    to: str,
    reply: str,
) -> None:
    given_line(saldo, sender, operator, language=language)

    response = send(client, sender, to, "SALDO")

    assert response.status_code == 200
    assert response.text == reply


@pytest.mark.parametrize(
    ("sender", "to", "reply"),
    [
        ("+573009999999", "123", "Su número no está registrado en este servicio."),
        ("+32470999999", "6000", "Votre numéro n'est pas inscrit à ce service."),
        ("+15555550100", "77777", "Your number is not registered with this service."),
        ("not a number", "123", "Su número no está registrado en este servicio."),
    ],
)
def test_an_unknown_sender_gets_a_polite_reply_in_the_short_code_s_language(
    client: TestClient, sender: str, to: str, reply: str
) -> None:
    response = send(client, sender, to, "SALDO")

    assert response.status_code == 200
    assert response.text == reply


# -- vouchers and plans -----------------------------------------------------------------------


def test_recarga_without_a_pin_asks_for_the_pin(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")

    response = send(client, PERSONAL_AR, "100", "RECARGA")

    assert response.text == "Envíe RECARGA seguido del PIN de 16 dígitos."


def test_recarga_with_a_pin_nobody_issued_is_a_wrong_pin_and_moves_no_money(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")
    before = money_state(saldo)

    response = send(client, PERSONAL_AR, "100", "RECARGA 1234 5678 9012 3456")

    assert response.text.startswith("PIN incorrecto.")
    assert money_state(saldo) == before


def test_renovar_without_a_plan_code_says_how_to_renew(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")

    response = send(client, PERSONAL_AR, "100", "RENOVAR")

    assert response.text == "Envíe RENOVAR y el código del plan. Envíe PACKS para ver los planes."


def test_renovar_with_an_unknown_plan_says_there_is_no_such_plan(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")

    response = send(client, PERSONAL_AR, "100", "RENOVAR plan-inexistente")

    assert response.text == "Ese plan no existe. Envíe PACKS para ver los planes."


def test_si_with_nothing_pending_says_so(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")

    response = send(client, PERSONAL_AR, "100", "SI")

    assert response.text == "No hay nada pendiente de confirmar."


def test_an_unaffordable_offer_says_to_top_up_first(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("5000", "COP"))

    response = send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m")

    assert response.text == (
        "Todo Incluido 30 días cuesta $30.000 y su saldo es $5.000. Recargue primero."
    )


def test_a_claro_colombia_line_lists_plans_accepts_an_offer_and_buys_the_plan(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))  # valid to the end of 20 February
    before = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert before.valid_until == datetime(2027, 2, 21, 5, 0, tzinfo=UTC)

    plans = send(client, CLARO_CO, "123", "PAQUETES").text
    offer = send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m").text
    bought = send(client, CLARO_CO, "123", "SI").text

    assert plans == (
        "Planes: todo-incluido-1m $30.000, todo-incluido-3m $85.000, "
        "todo-incluido-12m $320.000. Para comprar envíe RENOVAR CÓDIGO."
    )
    assert offer == (
        "¿Comprar Todo Incluido 30 días por $30.000 con su saldo de $50.000? "
        "Responda SI en 10 minutos."
    )
    assert bought == "Listo: Todo Incluido 30 días activo. Saldo $20.000. Válido hasta 20 mar 2027."
    after = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    assert after.main == Money.of("20000", "COP")
    assert after.valid_until == datetime(2027, 3, 21, 5, 0, tzinfo=UTC)  # one calendar month
    assert after.voice_seconds == 1000 * 60
    assert after.sms == 500
    assert after.data_bytes == 12288 * 1024 * 1024
    assert audit_ledger(saldo.uow()).clean


def test_an_offer_is_confirmed_only_once(saldo: Saldo, client: TestClient) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m")
    send(client, CLARO_CO, "123", "SI")
    after_first = money_state(saldo)

    again = send(client, CLARO_CO, "123", "sí")

    assert again.text == "No hay nada pendiente de confirmar."
    assert money_state(saldo) == after_first


def test_an_offer_expires_after_ten_minutes(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m")
    before = money_state(saldo)
    clock.advance(timedelta(minutes=10, seconds=1))

    response = send(client, CLARO_CO, "123", "SI")

    assert response.text == "No hay nada pendiente de confirmar."
    assert money_state(saldo) == before


def test_a_line_past_its_recycling_date_cannot_buy_a_plan(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    clock.set(view.recycles_at + timedelta(days=1))
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m")
    before = money_state(saldo)

    response = send(client, CLARO_CO, "123", "SI")

    assert response.text == "Esta línea venció definitivamente. Contacte a su operador."
    assert money_state(saldo) == before


def test_a_line_past_its_recycling_date_is_answered_as_recycled_before_and_after_the_sweep(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    # Given a line with money, a day past its recycling date, the sweep not run yet
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("50000", "COP"))
    view = inquire_balance(saldo.uow(), msisdn=CLARO_CO, now=saldo.clock.now())
    clock.set(view.recycles_at + timedelta(days=1))
    recycled = "Esta línea venció definitivamente. Contacte a su operador."

    # When it asks its balance by SMS and a store tops it up
    asked = send(client, CLARO_CO, "123", "SALDO").text
    with pytest.raises(LineRecycled):
        given_money(saldo, CLARO_CO, Money.of("30000", "COP"))
    # and again once the sweep has written the line down as recycled
    sweep_lifecycle(saldo.uow(), now=clock.now())
    asked_after_sweep = send(client, CLARO_CO, "123", "SALDO").text
    with pytest.raises(LineRecycled):
        given_money(saldo, CLARO_CO, Money.of("40000", "COP"))

    # Then both answer that the line expired for good, the same before and after the sweep
    assert (asked, asked_after_sweep) == (recycled, recycled)


# -- gateway message ids ----------------------------------------------------------------------


def test_a_message_id_sent_twice_gets_the_same_reply_and_moves_no_money(
    saldo: Saldo, client: TestClient, clock: FixedClock
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m", id="kannel-1")
    first = send(client, CLARO_CO, "123", "SI", id="kannel-2")
    after_first = money_state(saldo)
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m", id="kannel-3")  # a new offer
    clock.advance(timedelta(minutes=1))

    again = send(client, CLARO_CO, "123", "SI", id="kannel-2")

    assert again.status_code == 200
    assert again.text == first.text
    assert first.text.startswith("Listo: Todo Incluido 30 días activo. Saldo $70.000.")
    assert money_state(saldo) == after_first


def test_a_message_id_sent_again_with_the_number_written_another_way_is_the_same_message(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")
    given_money(saldo, CLARO_CO, Money.of("100000", "COP"))
    send(client, CLARO_CO, "123", "RENOVAR todo-incluido-1m", id="kannel-1")
    first = send(client, CLARO_CO, "123", "SI", id="kannel-2")
    after_first = money_state(saldo)

    retries = [
        send(client, sender, "123", "SI", id="kannel-2")
        for sender in ("573001234567", "00573001234567")
    ]

    assert [retry.text for retry in retries] == [first.text, first.text]
    assert money_state(saldo) == after_first


def test_a_sender_written_with_the_international_call_prefix_is_recognised(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, CLARO_CO, "claro-co")

    response = send(client, "00573001234567", "123", "SALDO")

    assert response.text.startswith("Claro: saldo $0.")


def test_a_replayed_balance_inquiry_repeats_the_first_answer(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")
    first = send(client, PERSONAL_AR, "100", "SALDO", id="msg-7")
    given_money(saldo, PERSONAL_AR, Money.of("3000", "ARS"))

    again = send(client, PERSONAL_AR, "100", "SALDO", id="msg-7")

    assert again.text == first.text
    assert "$0,00" in again.text


def test_a_message_id_reused_by_another_sender_does_not_show_them_the_first_reply(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")
    given_line(saldo, CLARO_AR, "claro-ar")
    given_money(saldo, PERSONAL_AR, Money.of("3000", "ARS"))
    send(client, PERSONAL_AR, "100", "SALDO", id="42")

    response = send(client, CLARO_AR, "123", "INFO", id="42")

    assert "$3.000,00" not in response.text


def test_a_message_id_with_a_nul_character_is_not_a_server_error(
    saldo: Saldo, client: TestClient
) -> None:
    given_line(saldo, PERSONAL_AR, "personal-ar")

    response = send(client, PERSONAL_AR, "100", "SALDO", id="abc\x00def")

    assert response.status_code < 500
