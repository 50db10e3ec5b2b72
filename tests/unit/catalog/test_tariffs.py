"""Tariffs in the catalog: the demo operators' tariffs load as domain values and rate the
worked examples of docs/operators.md, and a bad tariff is refused naming the file, the field
and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from saldo.catalog.schema import BUNDLED_DIR, CatalogError, bundled_specs, load_spec_file
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


def test_an_operator_without_a_tariff_section_has_no_tariff(tmp_path: Path) -> None:
    data = claro_ar()
    del data["tariff"]

    assert load(tmp_path, data).to_operator().tariff is None


# -- malformed tariffs ------------------------------------------------------------------------


def claro_ar() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((BUNDLED_DIR / "claro-ar.yaml").read_text("utf-8"))
    return copy.deepcopy(data)


def load(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "spoiled.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_spec_file(path)


def float_price(tariff: dict[str, Any]) -> None:
    tariff["zones"][1]["voice_per_minute"] = 145.0


def price_with_too_many_decimals(tariff: dict[str, Any]) -> None:
    tariff["zones"][1]["voice_per_minute"] = "145.001"


def prefix_without_plus(tariff: dict[str, Any]) -> None:
    tariff["zones"][2]["prefixes"] = ["549"]


def zero_increment(tariff: dict[str, Any]) -> None:
    tariff["voice_increment"]["next"] = 0


def zero_data_increment(tariff: dict[str, Any]) -> None:
    tariff["data_increment"] = 0


def repeated_zone_name(tariff: dict[str, Any]) -> None:
    tariff["zones"][2]["name"] = "national"


def repeated_prefix(tariff: dict[str, Any]) -> None:
    tariff["zones"][2]["prefixes"] = ["+54"]


def no_default_zone(tariff: dict[str, Any]) -> None:
    del tariff["zones"][3]
    tariff["covered_by_allowances"]["voice"] = ["national"]


def coverage_of_an_unknown_zone(tariff: dict[str, Any]) -> None:
    tariff["covered_by_allowances"]["sms"] = ["national", "roaming"]


def coverage_of_an_unknown_service(tariff: dict[str, Any]) -> None:
    tariff["covered_by_allowances"]["mms"] = ["national"]


def unknown_home_zone(tariff: dict[str, Any]) -> None:
    tariff["home_zone"] = "home"


def extra_zone_field(tariff: dict[str, Any]) -> None:
    tariff["zones"][0]["colour"] = "red"


def no_zones(tariff: dict[str, Any]) -> None:
    tariff["zones"] = []


@pytest.mark.parametrize(
    ("spoil", "field", "problem"),
    [
        (float_price, "tariff.zones.1.voice_per_minute", "not floats"),
        (
            price_with_too_many_decimals,
            "tariff.zones.national.voice_per_minute",
            "more than 2 decimal places",
        ),
        (
            prefix_without_plus,
            "tariff.zones.2.prefixes.0",
            "'549' is not an E.164 prefix like \"+54\"",
        ),
        (zero_increment, "tariff.voice_increment.next", "greater than 0"),
        (zero_data_increment, "tariff.data_increment", "greater than 0"),
        (repeated_zone_name, "tariff.zones", "zone names must be unique: national"),
        (repeated_prefix, "tariff.zones", "prefix +54 is in both 'national' and 'mobile'"),
        (no_default_zone, "tariff.zones", 'one zone must be the default, with the prefix "+"'),
        (
            coverage_of_an_unknown_zone,
            "tariff.covered_by_allowances.sms",
            "no zone is named roaming",
        ),
        (coverage_of_an_unknown_service, "tariff.covered_by_allowances.mms", "Extra inputs"),
        (unknown_home_zone, "tariff.home_zone", "no zone is named 'home'"),
        (extra_zone_field, "tariff.zones.0.colour", "Extra inputs are not permitted"),
        (no_zones, "tariff.zones", "at least 1 item"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_bad_tariff_is_refused_naming_the_file_the_field_and_the_problem(
    tmp_path: Path, spoil: Any, field: str, problem: str
) -> None:
    data = claro_ar()
    spoil(data["tariff"])

    with pytest.raises(CatalogError) as raised:
        load(tmp_path, data)

    assert raised.value.message.startswith(f"spoiled.yaml: {field}: ")
    assert problem in raised.value.message
