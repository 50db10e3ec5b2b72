"""Notification texts for subscribers, in the line's language (es, fr, nl, en, zh): each one
fits a single SMS (160 GSM-7 or 70 UCS-2 characters) where it can, amounts are written for the
line's locale, dates as the last valid day in the operator's zone, and an expiry reminder
says how to renew (SMS keyword, USSD code, app), dropping the app first when space runs out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest

from saldo.catalog.schema import bundled_specs
from saldo.channels.notifications.subscribers import renewal_ways, topup_ways
from saldo.channels.notifications.texts import (
    auto_renewal_failed_sms,
    auto_topup_done_sms,
    auto_topup_failed_sms,
    expiry_email,
    expiry_sms,
    lapsed_sms,
    low_balance_sms,
    sms_text,
)
from saldo.channels.sms.replies import Speaker
from saldo.domain.lifecycle import LineState
from saldo.domain.money import Money
from saldo.domain.operator import Operator
from saldo.domain.sms_text import is_gsm7, sms_parts

OPERATORS = {spec.slug: spec.to_operator() for spec in bundled_specs()}
# Midnight starting 30 November in Buenos Aires: the line is valid all of 29 November.
VALID_UNTIL = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
# 23:00 UTC on 30 November is already 1 December in Brussels: valid all of 30 November.
PROXIMUS_VALID_UNTIL = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
# Midnight starting 23 March in Buenos Aires: the number can be kept all of 22 March (and in
# Brussels, where it is 04:00 on 23 March, all of 23 March).
RECYCLES_AT = datetime(2027, 3, 23, 3, 0, tzinfo=UTC)

# Every language Saldo speaks, each with an operator that speaks it.
SPEAKERS = [
    pytest.param("movistar-ar", "es", id="es"),
    pytest.param("proximus-be", "fr", id="fr"),
    pytest.param("proximus-be", "nl", id="nl"),
    pytest.param("claro-co", "en", id="en"),
    pytest.param("movistar-ar", "zh", id="zh"),
]


def speaker(slug: str, language: str) -> Speaker:
    return Speaker(operator=OPERATORS[slug], language=language)


def every_text(talk: Speaker) -> list[str]:
    operator: Operator = talk.operator
    currency = operator.currency
    monthly = operator.plans[0]
    # a balance with cents where the currency has them (whole pesos for COP)
    balance = Money.of_rounded(Decimal("1234.5"), currency, rounding=ROUND_HALF_UP)
    return [
        expiry_sms(talk, valid_until=VALID_UNTIL, ways=renewal_ways(talk, plan_code=None)),
        low_balance_sms(
            talk,
            balance=balance,
            threshold=Money.of("2000", currency),
            ways=topup_ways(operator),
        ),
        auto_renewal_failed_sms(
            talk,
            plan_name=monthly.name,
            plan_code=monthly.code,
            ways=renewal_ways(talk, plan_code=monthly.code),
        ),
        auto_topup_done_sms(talk, amount=Money.of("25", currency), balance=balance),
        auto_topup_failed_sms(talk, amount=Money.of("25", currency), ways=topup_ways(operator)),
        *(
            lapsed_sms(
                talk, state=state, keep_until=RECYCLES_AT, ways=renewal_ways(talk, plan_code=None)
            )
            for state in (LineState.GRACE, LineState.SUSPENDED)
        ),
    ]


@pytest.mark.parametrize(
    ("slug", "language", "expected"),
    [
        pytest.param(
            "movistar-ar",
            "es",
            "Movistar: su linea es valida hasta el 29 nov 2026. Para renovarla, envie RENOVAR "
            "pack-mensual-1m al 121, marque *444# o entre en movistar.com.ar.",
            id="es",
        ),
        pytest.param(
            "proximus-be",
            "fr",
            "Proximus : votre ligne est valable jusqu'au 30 nov. 2026. Pour la renouveler, "
            "envoyez RENOUVELER mobile-smart-1m au 6000 ou composez *100#.",
            id="fr",
        ),
        pytest.param(
            "proximus-be",
            "nl",
            "Proximus: uw lijn is geldig tot 30 nov 2026. Verlengen: stuur VERLENGEN "
            "mobile-smart-1m naar 6000, bel *100#, ga naar proximus.be of gebruik de app "
            "MyProximus.",
            id="nl",
        ),
        pytest.param(
            "claro-co",
            "en",
            "Claro: your line is valid until Nov 29, 2026. To renew it, send RENOVAR "
            "todo-incluido-1m to 123, dial *611#, go to claro.com.co, or use the Mi Claro app.",
            id="en",
        ),
        pytest.param(
            "movistar-ar",
            "zh",
            "Movistar：您的号码有效期至2026年11月29日。续期请发送RENOVAR pack-mensual-1m至121"
            "或拨打*444#。",
            id="zh",
        ),
    ],
)
def test_an_expiry_reminder_says_when_and_how_to_renew_in_the_line_s_language(
    slug: str, language: str, expected: str
) -> None:
    talk = speaker(slug, language)
    valid_until = PROXIMUS_VALID_UNTIL if slug == "proximus-be" else VALID_UNTIL

    text = expiry_sms(talk, valid_until=valid_until, ways=renewal_ways(talk, plan_code=None))

    assert text == expected
    assert sms_parts(text) == 1


@pytest.mark.parametrize(("slug", "language"), SPEAKERS)
def test_every_notification_fits_one_sms(slug: str, language: str) -> None:
    for text in every_text(speaker(slug, language)):
        assert sms_parts(text) == 1, text


@pytest.mark.parametrize(
    ("slug", "language"),
    [
        pytest.param(operator.slug, language, id=f"{operator.slug}-{language}")
        for operator in OPERATORS.values()
        for language in operator.languages
        if language != "zh"
    ],
)
def test_every_demo_operator_s_notifications_fit_one_gsm_7_sms_in_its_latin_languages(
    slug: str, language: str
) -> None:
    for text in every_text(speaker(slug, language)):
        assert is_gsm7(text), text
        assert len(text) <= 160, text


@pytest.mark.parametrize(
    ("slug", "language", "grace", "suspended"),
    [
        pytest.param(
            "movistar-ar",
            "es",
            "Movistar: su linea vencio y solo puede recibir llamadas. Para conservar su numero, "
            "renuévela hasta el 22 mar 2027: envie RENOVAR pack-mensual-1m al 121.",
            "Movistar: su linea esta suspendida. Para conservar su numero y su saldo, renuévela "
            "hasta el 22 mar 2027: envie RENOVAR pack-mensual-1m al 121 o marque *444#.",
            id="es",
        ),
        pytest.param(
            "proximus-be",
            "fr",
            "Proximus : ligne expirée, appels entrants seulement. Renouvelez d'ici le 23 mars "
            "2027 pour garder le numéro : envoyez RENOUVELER mobile-smart-1m au 6000.",
            "Proximus : votre ligne est suspendue. Renouvelez d'ici le 23 mars 2027 pour garder "
            "le numéro et le solde : envoyez RENOUVELER mobile-smart-1m au 6000.",
            id="fr",
        ),
        pytest.param(
            "proximus-be",
            "nl",
            "Proximus: uw lijn is verlopen, enkel inkomende oproepen. Verleng uiterlijk 23 mrt "
            "2027 om uw nummer te houden: stuur VERLENGEN mobile-smart-1m naar 6000.",
            "Proximus: uw lijn is geschorst. Verleng uiterlijk 23 mrt 2027 om uw nummer en saldo "
            "te houden: stuur VERLENGEN mobile-smart-1m naar 6000 of bel *100#.",
            id="nl",
        ),
        pytest.param(
            "claro-co",
            "en",
            "Claro: your line has expired and can only receive calls. To keep your number, "
            "renew it by Mar 22, 2027: send RENOVAR todo-incluido-1m to 123 or dial *611#.",
            "Claro: your line is suspended. To keep your number and balance, renew it by Mar 22, "
            "2027: send RENOVAR todo-incluido-1m to 123 or dial *611#.",
            id="en",
        ),
        pytest.param(
            "movistar-ar",
            "zh",
            "Movistar：号码已过期，仅可接听。最迟2027年3月22日续期可保号，请发送RENOVAR "
            "pack-mensual-1m至121。",
            "Movistar：号码已停机。最迟2027年3月22日续期可保留号码和余额，请发送RENOVAR "
            "pack-mensual-1m至121。",
            id="zh",
        ),
    ],
)
def test_a_line_in_grace_or_suspended_is_told_how_and_until_when_to_keep_its_number(
    slug: str, language: str, grace: str, suspended: str
) -> None:
    # given a line spoken to in its language, whose number is recycled at RECYCLES_AT
    talk = speaker(slug, language)
    ways = renewal_ways(talk, plan_code=None)

    # when it enters grace, then suspension
    texts = [
        lapsed_sms(talk, state=state, keep_until=RECYCLES_AT, ways=ways)
        for state in (LineState.GRACE, LineState.SUSPENDED)
    ]

    # then each SMS names the last day the number can be kept and the keyword to renew
    assert texts == [grace, suspended]


def test_money_is_written_for_the_line_s_locale() -> None:
    proximus = OPERATORS["proximus-be"]

    french = low_balance_sms(
        speaker("proximus-be", "fr"),
        balance=Money.of("1.5", "EUR"),
        threshold=Money.of("2", "EUR"),
        ways=topup_ways(proximus),
    )
    dutch = auto_topup_done_sms(
        speaker("proximus-be", "nl"), amount=Money.of("25", "EUR"), balance=Money.of("26.5", "EUR")
    )

    assert "votre solde est de 1,50 €, sous 2,00 €" in french
    assert dutch == "Proximus: automatisch opgeladen met € 25,00. Saldo € 26,50."


def test_a_low_balance_alert_offers_the_ussd_menu_the_web_and_the_app_to_top_up() -> None:
    movistar = OPERATORS["movistar-ar"]

    text = low_balance_sms(
        speaker("movistar-ar", "es"),
        balance=Money.of("350", "ARS"),
        threshold=Money.of("500", "ARS"),
        ways=topup_ways(movistar),
    )

    assert text == (
        "Movistar: su saldo es $350,00, menos de $500,00. Para recargar, marque *444#, entre en "
        "movistar.com.ar o use la app Mi Movistar."
    )


def test_a_failed_auto_renewal_names_the_plan_and_the_keyword_to_renew_it() -> None:
    talk = speaker("claro-ar", "en")

    text = auto_renewal_failed_sms(
        talk,
        plan_name="Pack Total 30 días",
        plan_code="pack-total-1m",
        ways=renewal_ways(talk, plan_code="pack-total-1m"),
    )

    assert text.startswith("Claro: we could not renew your plan Pack Total 30 dias automatically.")
    assert "send RENOVAR pack-total-1m to 123" in text


def test_a_plan_whose_name_would_not_fit_one_sms_is_named_by_its_code() -> None:
    talk = speaker("movistar-ar", "zh")

    text = auto_renewal_failed_sms(
        talk,
        plan_name="Pack Mensual 30 días",
        plan_code="pack-mensual-1m",
        ways=renewal_ways(talk, plan_code="pack-mensual-1m"),
    )

    assert text == (
        "Movistar：套餐pack-mensual-1m自动续期失败。续期请发送RENOVAR pack-mensual-1m至121。"
    )


def test_accents_gsm_7_lacks_are_folded_so_a_latin_text_keeps_160_characters() -> None:
    assert sms_text("Su línea es válida: ¿renovación? Ça coûte 1\u202f234,50\u00a0€") == (
        "Su linea es valida: ¿renovacion? Ça coute 1 234,50 €"
    )


def test_accents_gsm_7_has_are_kept() -> None:
    assert sms_text("Mañana à l'été, Müller") == "Mañana à l'été, Müller"


def test_a_chinese_text_is_left_whole_for_ucs_2() -> None:
    text = "您的号码有效期至2026年11月29日。"

    assert sms_text(text) == text


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


@pytest.mark.parametrize(("slug", "language"), SPEAKERS)
def test_an_expiry_reminder_email_names_the_line_the_day_and_every_way_to_renew(
    slug: str, language: str
) -> None:
    talk = speaker(slug, language)
    operator = talk.operator

    email = expiry_email(
        talk,
        msisdn="+5491123456789",
        valid_until=VALID_UNTIL,
        ways=renewal_ways(talk, plan_code=None),
        to="ana@example.org",
        message_id="expiry-7-1",
    )

    assert email.language == talk.locale.replace("_", "-")
    assert "+5491123456789" in email.subject
    assert operator.name in email.subject
    assert email.headers == {"Auto-Submitted": "auto-generated"}
    for part in (email.text, email.html):
        assert operator.ussd_code in part
        assert operator.plans[0].code in part
        assert operator.apps[0] in part
        assert operator.hotline.number in part
    parser = _Text()
    parser.feed(email.html)
    shown = "".join(parser.chunks)
    assert "+5491123456789" in shown


def test_an_expiry_reminder_email_escapes_what_it_shows_as_html() -> None:
    talk = speaker("movistar-ar", "en")

    email = expiry_email(
        talk,
        msisdn="+5491123456789",
        valid_until=VALID_UNTIL,
        ways=renewal_ways(talk, plan_code="<b>x</b>"),
        to="ana@example.org",
        message_id="expiry-7-1",
    )

    assert "<b>x</b>" not in email.html
    assert "&lt;b&gt;x&lt;/b&gt;" in email.html
