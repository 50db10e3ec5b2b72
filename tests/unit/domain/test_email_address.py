from __future__ import annotations

import pytest

from saldo.domain.email_address import mask_email


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ana.gomez@example.org", "a***@example.org"),
        ("a@example.org", "a***@example.org"),
        ("wei+receipts@mail.example.cn", "w***@mail.example.cn"),
    ],
)
def test_a_masked_address_keeps_the_first_character_and_the_domain(
    address: str, masked: str
) -> None:
    assert mask_email(address) == masked


@pytest.mark.parametrize("text", ["", "ana", "@example.org", "ana@"])
def test_text_that_is_not_an_address_is_hidden_whole(text: str) -> None:
    assert mask_email(text) == "***"
