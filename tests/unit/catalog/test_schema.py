"""The operator catalog: the bundled operators load with their facts. A bad catalog file is
refused naming the file, the field and the problem: tests/integration/catalog/test_schema.py
writes such files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saldo.catalog.schema import OperatorSpec, bundled_specs
from saldo.domain.money import Money
from saldo.domain.quotes import PaymentMethod, PaymentMethodFee

SLUGS = [
    "claro-ar",
    "claro-co",
    "movistar-ar",
    "movistar-co",
    "personal-ar",
    "proximus-be",
    "tigo-co",
]


@pytest.fixture(scope="module")
def specs() -> dict[str, OperatorSpec]:
    return {spec.slug: spec for spec in bundled_specs()}


def test_all_seven_bundled_operators_load_in_slug_order() -> None:
    assert [spec.slug for spec in bundled_specs()] == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_every_bundled_operator_becomes_a_domain_operator(
    specs: dict[str, OperatorSpec], slug: str
) -> None:
    operator = specs[slug].to_operator()

    assert operator.slug == slug
    assert operator.topup.minimum.currency == operator.currency


@pytest.mark.parametrize("slug", SLUGS)
def test_every_operator_sells_plans_of_1_3_and_12_months(
    specs: dict[str, OperatorSpec], slug: str
) -> None:
    assert sorted(plan.months for plan in specs[slug].plans) == [1, 3, 12]


def test_personal_answers_consulta_and_saldo_on_short_code_100(
    specs: dict[str, OperatorSpec],
) -> None:
    personal = specs["personal-ar"]

    assert personal.sms.short_code == "100"
    assert personal.sms.keywords["balance"] == ["CONSULTA", "SALDO"]


def test_claro_argentina_answers_info_and_balance_on_123_and_verifies_callers(
    specs: dict[str, OperatorSpec],
) -> None:
    claro = specs["claro-ar"]

    assert claro.sms.short_code == "123"
    assert claro.sms.keywords["balance"] == ["INFO", "BALANCE"]
    assert claro.hotline.number == "123"
    assert claro.hotline.verification == "last4"
    assert claro.hotline.agent_digit == "0"


def test_movistar_argentina_answers_mis_datos_on_121(specs: dict[str, OperatorSpec]) -> None:
    movistar = specs["movistar-ar"]

    assert movistar.sms.short_code == "121"
    assert movistar.sms.keywords["balance"] == ["MIS DATOS"]


@pytest.mark.parametrize(
    ("slug", "rate"),
    [
        ("claro-ar", "0.21"),
        ("movistar-ar", "0.21"),
        ("personal-ar", "0.21"),
        ("claro-co", "0.19"),
        ("movistar-co", "0.19"),
        ("tigo-co", "0.19"),
        ("proximus-be", "0.21"),
    ],
)
def test_each_country_charges_its_own_tax_rate(
    specs: dict[str, OperatorSpec], slug: str, rate: str
) -> None:
    assert specs[slug].tax_rate == Decimal(rate)


def test_proximus_tops_up_automatically_and_speaks_french_and_dutch(
    specs: dict[str, OperatorSpec],
) -> None:
    proximus = specs["proximus-be"]

    assert proximus.auto_topup is True
    assert "fr_BE" in proximus.locales
    assert "nl_BE" in proximus.locales


# -- payment-method fees and the spread --------------------------------------------------------


def test_payment_method_fees_and_the_spread_come_from_the_catalog(
    specs: dict[str, OperatorSpec],
) -> None:
    movistar = specs["movistar-ar"].to_operator()

    assert movistar.fee_for(PaymentMethod.CARD) == PaymentMethodFee(
        method=PaymentMethod.CARD, percent=Decimal("3.5")
    )
    assert movistar.fee_for(PaymentMethod.PAYPAL) == PaymentMethodFee(
        method=PaymentMethod.PAYPAL, percent=Decimal("4.4"), fixed=Money.of("300", "ARS")
    )
    assert movistar.fx_spread == Decimal("0.02")


def test_an_operator_without_payment_methods_charges_no_fee_and_a_two_percent_spread(
    specs: dict[str, OperatorSpec],
) -> None:
    claro = specs["claro-ar"].to_operator()

    assert claro.payment_methods == ()
    assert claro.fee_for(PaymentMethod.WALLET) == PaymentMethodFee(
        method=PaymentMethod.WALLET, percent=Decimal(0)
    )
    assert claro.fx_spread == Decimal("0.02")


def test_a_plan_is_named_in_each_language_the_catalog_gives_and_else_in_the_first(
    specs: dict[str, OperatorSpec],
) -> None:
    plan = specs["proximus-be"].to_operator().plans[0]

    assert (plan.name_in("fr"), plan.name_in("nl"), plan.name_in("en")) == (
        "Mobile Smart 1 mois",
        "Mobile Smart 1 maand",
        "Mobile Smart 1 month",
    )
    assert plan.name_in("zh") == "Mobile Smart 1 mois"
