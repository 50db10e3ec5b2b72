"""Tariffs in the catalog: the demo operators' tariffs load as domain values and rate the
worked examples of docs/operators.md. A bad tariff in a catalog file is refused naming the
file, the field and the problem: tests/integration/catalog/test_tariffs.py writes such files."""

from __future__ import annotations

import pytest

from saldo.catalog.schema import bundled_specs
from saldo.domain.buckets import BucketKind
from saldo.domain.money import Money
from saldo.domain.operator import Operator
from saldo.domain.rating import Increment, Service, Tariff, allowance_for, rate


@pytest.fixture(scope="module")
def operators() -> dict[str, Operator]:
    return {spec.slug: spec.to_operator() for spec in bundled_specs()}


def tariff_of(operators: dict[str, Operator], slug: str) -> Tariff:
    tariff = operators[slug].tariff
    assert tariff is not None
    return tariff


@pytest.mark.parametrize(
    ("slug", "voice", "data_bytes"),
    [
        ("claro-ar", Increment(first=60, next=60), 102_400),
        ("claro-co", Increment(first=30, next=6), 10_240),
        ("movistar-ar", Increment(first=60, next=60), 102_400),
        ("movistar-co", Increment(first=30, next=6), 10_240),
        ("personal-ar", Increment(first=30, next=30), 102_400),
        ("proximus-be", Increment(first=1, next=1), 1_024),
        ("tigo-co", Increment(first=30, next=6), 10_240),
    ],
)
def test_every_bundled_operator_has_a_tariff_in_its_own_currency(
    operators: dict[str, Operator], slug: str, voice: Increment, data_bytes: int
) -> None:
    tariff = tariff_of(operators, slug)

    assert tariff.voice_increment == voice
    assert tariff.data_increment == Increment(first=data_bytes, next=data_bytes)
    assert {price.currency for zone in tariff.zones for price in zone.prices()} == {
        operators[slug].currency
    }


@pytest.mark.parametrize(
    "slug",
    ["claro-ar", "claro-co", "movistar-ar", "movistar-co", "personal-ar", "proximus-be", "tigo-co"],
)
def test_on_net_calls_and_sms_cost_less_than_national_ones_and_allowances_cover_them(
    operators: dict[str, Operator], slug: str
) -> None:
    tariff = tariff_of(operators, slug)
    on_net, national = tariff.zone("on_net"), tariff.zone("national")

    assert on_net.price_for(Service.VOICE) < national.price_for(Service.VOICE)
    assert on_net.price_for(Service.SMS) < national.price_for(Service.SMS)
    for zone in ("on_net", "national", "mobile"):
        assert allowance_for(tariff=tariff, service=Service.VOICE, zone=zone) is BucketKind.VOICE
        assert allowance_for(tariff=tariff, service=Service.SMS, zone=zone) is BucketKind.SMS
    assert allowance_for(tariff=tariff, service=Service.VOICE, zone="international") is None
    assert allowance_for(tariff=tariff, service=Service.DATA, zone=tariff.home_zone) is (
        BucketKind.DATA
    )


@pytest.mark.parametrize(
    ("slug", "destination", "zone", "billable", "price"),
    [
        ("movistar-ar", "+541143210000", "national", 120, "300.00"),
        ("movistar-ar", "+5491123456789", "mobile", 120, "330.00"),
        ("claro-co", "+576015550000", "national", 66, "220.00"),
        ("claro-co", "+573001234567", "mobile", 66, "198.00"),
        ("proximus-be", "+3225551234", "national", 61, "0.15"),
        ("proximus-be", "+33142685300", "eu", 61, "0.23"),
        ("proximus-be", "+12125550100", "international", 61, "1.22"),
    ],
)
def test_a_61_second_call_is_rated_as_docs_operators_md_shows(
    operators: dict[str, Operator],
    slug: str,
    destination: str,
    zone: str,
    billable: int,
    price: str,
) -> None:
    operator = operators[slug]

    rated = rate(
        tariff=tariff_of(operators, slug),
        service=Service.VOICE,
        destination=destination,
        quantity=61,
        on_net=False,
    )

    assert (rated.zone, rated.billable) == (zone, billable)
    assert rated.price == Money.of(price, operator.currency)
