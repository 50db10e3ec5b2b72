"""Promotions in the catalog: the demo operators' promotions load as domain values. A bad
promotion in a catalog file is refused naming the file, the field and the problem:
tests/integration/catalog/test_promotions.py writes such files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from saldo.catalog.schema import bundled_specs
from saldo.domain.money import Money
from saldo.domain.promotions import ExtraValidity, FirstOrderDiscount, TopUpBonus


def operators() -> dict[str, Any]:
    return {spec.slug: spec.to_operator() for spec in bundled_specs()}


def test_the_demo_operators_promotions_become_domain_values() -> None:
    found = operators()

    assert found["personal-ar"].promotions == (
        TopUpBonus(
            code="bono-10",
            name="10 % de bono en cargas desde $5.000",
            min_amount=Money.of("5000", "ARS"),
            percent=Decimal("10"),
            bonus_validity_days=30,
        ),
    )
    (proximus,) = found["proximus-be"].promotions
    assert isinstance(proximus, TopUpBonus) and proximus.min_amount == Money.of("25", "EUR")
    assert [type(p) for p in found["tigo-co"].promotions] == [ExtraValidity, FirstOrderDiscount]
    assert not found["tigo-co"].promotions_stackable
    assert found["movistar-co"].promotions_stackable


@pytest.mark.parametrize("slug", ["claro-co", "claro-ar", "movistar-ar"])
def test_operators_without_promotions_have_none(slug: str) -> None:
    operator = operators()[slug]

    assert operator.promotions == ()
    assert not operator.promotions_stackable
