"""Promotions in catalog files on disk: a promotion's window runs over whole local days, and a
bad promotion is refused naming the file, the field and the problem."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from saldo.catalog.schema import BUNDLED_DIR, CatalogError, load_spec_file


def claro_ar_with(*promotions: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((BUNDLED_DIR / "claro-ar.yaml").read_text("utf-8"))
    data = copy.deepcopy(data)
    data["promotions"] = list(promotions)
    return data


def load(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "promo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_spec_file(path)


BONUS = {
    "kind": "topup_bonus",
    "code": "bono",
    "name": "Bono",
    "min_amount": "5000",
    "percent": "10",
    "bonus_validity_days": 30,
}


def test_a_window_runs_from_the_start_of_its_first_local_day_to_the_end_of_its_last(
    tmp_path: Path,
) -> None:
    spec = load(tmp_path, claro_ar_with({**BONUS, "starts": "2026-12-01", "ends": "2026-12-31"}))

    (promotion,) = spec.to_operator().promotions

    # Buenos Aires is 3 hours behind UTC.
    assert promotion.starts_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert promotion.ends_at == datetime(2027, 1, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("promotion", "field", "problem"),
    [
        ({**BONUS, "percent": 10.0}, "promotions.0.topup_bonus.percent", "not floats"),
        ({**BONUS, "min_amount": 5000.0}, "promotions.0.topup_bonus.min_amount", "not floats"),
        ({**BONUS, "min_amount": "5000.001"}, "promotions.bono.min_amount", "decimal places"),
        ({**BONUS, "percent": "0"}, "promotions.0.topup_bonus.percent", "greater than 0"),
        ({**BONUS, "colour": "red"}, "promotions.0.topup_bonus.colour", "Extra inputs"),
        ({**BONUS, "kind": "cashback"}, "promotions.0", "'cashback'"),
        (
            {"kind": "first_order_discount", "code": "d", "name": "D", "percent": "100"},
            "promotions.0.first_order_discount.percent",
            "less than 100",
        ),
        (
            {"kind": "extra_validity", "code": "x", "name": "X", "min_months": 6},
            "promotions.0.extra_validity.free_months",
            "Field required",
        ),
        (
            {**BONUS, "starts": "2026-12-31", "ends": "2026-12-01"},
            "promotions.0.topup_bonus",
            "ends before it starts",
        ),
    ],
)
def test_a_bad_promotion_is_refused_naming_the_field(
    tmp_path: Path, promotion: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(CatalogError) as raised:
        load(tmp_path, claro_ar_with(promotion))

    assert raised.value.message.startswith(f"promo.yaml: {field}: ")
    assert problem in raised.value.message


def test_promotion_codes_must_be_unique(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="promotions: codes must be unique"):
        load(tmp_path, claro_ar_with(BONUS, {**BONUS, "name": "Otro"}))
