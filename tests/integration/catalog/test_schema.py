"""Catalog files on disk: a bad operator file is refused with an error that names the file, the
field and the problem; a file that is not YAML, not one operator, missing or a directory is
refused naming it. (The bundled operators' facts are checked in tests/unit/catalog.)"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from saldo.catalog.schema import BUNDLED_DIR, CatalogError, load_spec_file


def claro_ar() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((BUNDLED_DIR / "claro-ar.yaml").read_text("utf-8"))
    return copy.deepcopy(data)


def write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def float_minimum(data: dict[str, Any]) -> None:
    data["topup"]["minimum"] = 1000.0


def float_denomination(data: dict[str, Any]) -> None:
    data["topup"]["denominations"][1]["amount"] = 2000.5


def float_tax_rate(data: dict[str, Any]) -> None:
    data["tax_rate"] = 0.21


def unknown_currency(data: dict[str, Any]) -> None:
    data["currency"] = "XYZ"


def missing_timezone(data: dict[str, Any]) -> None:
    del data["timezone"]


def missing_short_code(data: dict[str, Any]) -> None:
    del data["sms"]["short_code"]


def extra_field(data: dict[str, Any]) -> None:
    data["colour"] = "red"


def extra_nested_field(data: dict[str, Any]) -> None:
    data["hotline"]["colour"] = "red"


def bad_timezone(data: dict[str, Any]) -> None:
    data["timezone"] = "America/Atlantis"


def unknown_country(data: dict[str, Any]) -> None:
    data["country"] = "ZZ"


def currency_of_another_country(data: dict[str, Any]) -> None:
    data["currency"] = "EUR"  # Claro Argentina keeps pesos


def maximum_below_a_denomination(data: dict[str, Any]) -> None:
    data["topup"]["maximum"] = "5000"  # a denomination of 10000 is sold


def maximum_below_the_minimum(data: dict[str, Any]) -> None:
    data["topup"]["maximum"] = "500"


def float_maximum(data: dict[str, Any]) -> None:
    data["topup"]["maximum"] = 100000.0


def plan_name_in_an_unknown_language(data: dict[str, Any]) -> None:
    data["plans"][0]["names"] = {"pt": "Pacote"}


@pytest.mark.parametrize(
    ("spoil", "field", "problem"),
    [
        (float_minimum, "topup.minimum", "not floats"),
        (float_denomination, "topup.denominations.1.amount", "not floats"),
        (float_tax_rate, "tax_rate", "not floats"),
        (unknown_currency, "currency", "unknown currency 'XYZ'"),
        (missing_timezone, "timezone", "Field required"),
        (missing_short_code, "sms.short_code", "Field required"),
        (extra_field, "colour", "Extra inputs are not permitted"),
        (extra_nested_field, "hotline.colour", "Extra inputs are not permitted"),
        (bad_timezone, "timezone", "unknown timezone 'America/Atlantis'"),
        (unknown_country, "country", "unknown country 'ZZ'"),
        (currency_of_another_country, "currency", "EUR is not a currency of AR (it uses ARS)"),
        (maximum_below_a_denomination, "topup.maximum", "5000 is below the denomination 10000"),
        (maximum_below_the_minimum, "topup.maximum", "500 is below the minimum"),
        (float_maximum, "topup.maximum", "not floats"),
        (plan_name_in_an_unknown_language, "plans.0.names", "'pt' is not one of"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_bad_field_is_refused_naming_the_file_the_field_and_the_problem(
    tmp_path: Path, spoil: Any, field: str, problem: str
) -> None:
    data = claro_ar()
    spoil(data)
    path = write(tmp_path, "spoiled.yaml", data)

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert raised.value.message.startswith(f"spoiled.yaml: {field}: ")
    assert problem in raised.value.message


def test_invalid_yaml_is_refused_naming_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("slug: claro-ar\nname: [unclosed\n", encoding="utf-8")

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert raised.value.message == "broken.yaml: line 3: not valid YAML"


@pytest.mark.parametrize(
    "text", ["- claro-ar\n- claro-co\n", "claro-ar\n", ""], ids=["list", "scalar", "empty"]
)
def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "not-a-mapping.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert (
        raised.value.message == "not-a-mapping.yaml: the file must hold one operator as a mapping"
    )


def test_a_file_that_does_not_exist_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert "missing.yaml" in raised.value.message
    assert "cannot be read" in raised.value.message
    assert "No such file or directory" in raised.value.message


def test_a_directory_is_refused_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "operators.yaml"
    path.mkdir()

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert "operators.yaml" in raised.value.message
    assert "cannot be read" in raised.value.message


# -- payment-method fees and the spread --------------------------------------------------------


@pytest.mark.parametrize(
    ("methods", "spread", "field", "problem"),
    [
        ([{"method": "cash"}], "0.02", "payment_methods.0.method", "Input should be"),
        (
            [{"method": "card", "fee_percent": 3.5}],
            "0.02",
            "payment_methods.0.fee_percent",
            "not floats",
        ),
        (
            [{"method": "card", "fee_percent": "100"}],
            "0.02",
            "payment_methods.0.fee_percent",
            "less than 100",
        ),
        ([{"method": "card"}, {"method": "card"}], "0.02", "", "each method is listed once"),
        (
            [{"method": "paypal", "fee_fixed": "1.234"}],
            "0.02",
            "",
            "payment_methods.paypal.fee_fixed",
        ),
        ([], "1", "fx_spread", "less than 1"),
        ([], 0.02, "fx_spread", "not floats"),
        (
            [{"method": "balance", "fee_percent": "5", "fee_fixed": "1"}],
            "0.02",
            "payment_methods.0",
            "paying from the balance takes no fee",
        ),
        ([{"method": "balance", "fee_fixed": "1"}], "0.02", "payment_methods.0", "takes no fee"),
    ],
)
def test_bad_payment_methods_or_spread_are_refused(
    tmp_path: Path, methods: list[dict[str, Any]], spread: Any, field: str, problem: str
) -> None:
    data = claro_ar()
    data["payment_methods"] = methods
    data["fx_spread"] = spread
    path = write(tmp_path, "spoiled.yaml", data)

    with pytest.raises(CatalogError) as raised:
        load_spec_file(path)

    assert raised.value.message.startswith(f"spoiled.yaml: {field}: " if field else "spoiled.yaml")
    assert problem in raised.value.message
