"""The SMS that carries a verification code, in every language Saldo speaks: one SMS, the
code whole, how long it works, and a warning that says what the code is for (signing in, or
adding the number to an account, which its holder may not have asked for)."""

from __future__ import annotations

import pytest

from saldo.catalog.schema import bundled_specs
from saldo.channels.notifications.subscribers import code_sms
from saldo.channels.sms.replies import Speaker
from saldo.domain.sms_text import sms_parts
from saldo.services.notices import ADD_LINE_CODE, SIGN_IN_CODE

OPERATORS = {spec.slug: spec.to_operator() for spec in bundled_specs()}
SPEAKERS = [
    pytest.param("movistar-ar", "es", id="es"),
    pytest.param("proximus-be", "fr", id="fr"),
    pytest.param("proximus-be", "nl", id="nl"),
    pytest.param("claro-co", "en", id="en"),
    pytest.param("movistar-ar", "zh", id="zh"),
]


@pytest.mark.parametrize(("slug", "language"), SPEAKERS)
@pytest.mark.parametrize("kind", [SIGN_IN_CODE, ADD_LINE_CODE])
def test_a_code_fits_one_sms_with_the_operator_the_code_and_its_minutes(
    slug: str, language: str, kind: str
) -> None:
    talk = Speaker(operator=OPERATORS[slug], language=language)

    text = code_sms(talk, kind=kind, code="048213", minutes=10)

    assert sms_parts(text) == 1, text
    assert text.startswith(OPERATORS[slug].name)
    assert "048213" in text
    assert "10" in text.replace("048213", "")


def test_the_two_kinds_say_different_things() -> None:
    talk = Speaker(operator=OPERATORS["claro-co"], language="en")

    sign_in = code_sms(talk, kind=SIGN_IN_CODE, code="048213", minutes=7)
    add_line = code_sms(talk, kind=ADD_LINE_CODE, code="048213", minutes=7)

    assert sign_in == (
        "Claro: 048213 is your code to sign in. It works for 7 min. "
        "Never share it: Claro will never ask you for it."
    )
    assert "add this number to an account" in add_line
