"""The settings Saldo starts with (saldo.config): what production refuses to start without."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from saldo.config import Settings


def test_production_refuses_to_start_without_a_gateway_token() -> None:
    with pytest.raises(ValidationError, match="SALDO_GATEWAY_TOKEN"):
        Settings(environment="production", secret_key="a-real-secret-of-our-own")


def test_the_hotlines_peers_are_addresses_or_networks() -> None:
    assert Settings(hotline_peers="10.1.2.0/24, 192.0.2.7").hotline_peers
    with pytest.raises(ValidationError, match=r"'sbc\.example\.org' is not an address or network"):
        Settings(hotline_peers="10.1.2.0/24,sbc.example.org")
