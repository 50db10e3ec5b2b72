"""The catalog's optional ``apn`` block: the mobile data settings a line's page shows."""

from __future__ import annotations

from typing import Any

import pytest

from saldo.catalog.schema import CatalogError, bundled_specs, parse_spec
from saldo.domain.operator import AccessPointName


def claro_co(**changes: Any) -> dict[str, Any]:
    spec = next(spec for spec in bundled_specs() if spec.slug == "claro-co")
    return {**spec.model_dump(mode="json", exclude_none=True), **changes}


def test_every_demo_operator_gives_its_apn() -> None:
    apns = {spec.slug: spec.to_operator().apn for spec in bundled_specs()}

    assert apns["claro-co"] == AccessPointName(
        name="internet.comcel.com.co", username="comcel", password="comcel"
    )
    assert apns["proximus-be"] == AccessPointName(name="internet.proximus.be")
    assert None not in apns.values()


def test_an_operator_without_an_apn_has_none() -> None:
    data = claro_co()
    del data["apn"]

    assert parse_spec(data, source="claro-co.yaml").to_operator().apn is None


@pytest.mark.parametrize(
    ("apn", "field"),
    [
        ({"name": "internet comcel"}, "apn.name"),
        ({"name": ""}, "apn.name"),
        ({"name": "web.tigo.co", "username": ""}, "apn.username"),
        ({"name": "web.tigo.co", "pin": "1234"}, "apn.pin"),
    ],
)
def test_a_bad_apn_is_refused_naming_its_field(apn: dict[str, str], field: str) -> None:
    with pytest.raises(CatalogError) as refused:
        parse_spec(claro_co(apn=apn), source="claro-co.yaml")

    assert str(refused.value).startswith(f"claro-co.yaml: {field}: ")
