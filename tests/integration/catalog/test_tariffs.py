"""Tariffs in catalog files on disk: an operator without a tariff section has none, and a bad
tariff is refused naming the file, the field and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from saldo.catalog.schema import BUNDLED_DIR, CatalogError, load_spec_file


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
