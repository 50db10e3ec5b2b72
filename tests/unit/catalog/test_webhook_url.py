"""An operator's catalog entry may name the URL its signed webhooks go to: an http(s) URL, or
nothing (the default), when no webhook is sent."""

from __future__ import annotations

from typing import Any

import pytest

from saldo.catalog.schema import CatalogError, bundled_specs, parse_spec


def proximus(**changes: Any) -> dict[str, Any]:
    spec = next(spec for spec in bundled_specs() if spec.slug == "proximus-be")
    return {**spec.model_dump(mode="json", exclude_none=True), **changes}


def test_an_operator_has_no_webhook_url_unless_its_catalog_names_one() -> None:
    assert all(spec.to_operator().webhook_url is None for spec in bundled_specs())


def test_a_catalog_webhook_url_reaches_the_operator() -> None:
    spec = parse_spec(proximus(webhook_url="https://hooks.proximus.example/saldo"), source="p")

    assert spec.to_operator().webhook_url == "https://hooks.proximus.example/saldo"


@pytest.mark.parametrize(
    "url", ["ftp://hooks.proximus.example/saldo", "hooks.proximus.example", "https://a b/c"]
)
def test_a_webhook_url_that_is_not_http_is_refused_naming_the_field(url: str) -> None:
    with pytest.raises(CatalogError, match=r"proximus-be.yaml: webhook_url: .*"):
        parse_spec(proximus(webhook_url=url), source="proximus-be.yaml")
