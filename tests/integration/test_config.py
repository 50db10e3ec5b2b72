"""The settings Saldo starts with (saldo.config): what production refuses to start without."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from saldo.config import Settings


def test_production_refuses_to_start_without_a_gateway_token() -> None:
    with pytest.raises(ValidationError, match="SALDO_GATEWAY_TOKEN"):
        Settings(environment="production", secret_key="a-real-secret-of-our-own")
