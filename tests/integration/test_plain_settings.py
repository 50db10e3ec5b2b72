"""The settings a balance read takes without Pydantic (saldo.plain_settings) are Settings' own,
and are given only when Settings would accept every variable set."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from saldo import plain_settings as plain
from saldo.config import Settings

ENVIRONMENTS: list[dict[str, str]] = [
    {},
    {"SALDO_DATABASE_URL": "sqlite:///elsewhere.db"},
    {"saldo_database_url": "sqlite:///lower.db", "SALDO_HOST": "0.0.0.0"},
    {"SALDO_FROZEN_NOW": "2027-01-10T12:00:00+01:00"},
    {"SALDO_FROZEN_NOW": "2027-01-10T12:00Z"},
    {"SALDO_FROZEN_NOW": "2027-01-10T12:00:00.250-03:00"},
    {"SALDO_FROZEN_NOW": "2027-01-10T12:00:00"},  # no offset: refused
    {"SALDO_FROZEN_NOW": "2027-02-30T12:00:00Z"},  # no such day: refused
    {"SALDO_FROZEN_NOW": "1789400000"},  # Pydantic's own affair
    {"SALDO_ENVIRONMENT": "test", "SALDO_LOG_LEVEL": "debug"},
    {"SALDO_ENVIRONMENT": "staging"},
    {"SALDO_LOG_LEVEL": "DEBUG"},
    {"SALDO_SECRET_KEY": "short"},
    {"SALDO_SECRET_KEY": "sixteen-chars-ok"},
    {"SALDO_ENVIRONMENT": "production", "SALDO_SECRET_KEY": "a-real-secret-of-our-own"},
    {
        "SALDO_ENVIRONMENT": "production",
        "SALDO_SECRET_KEY": "a-real-secret-of-our-own",
        "SALDO_GATEWAY_TOKEN": "gateway-token",
    },
    {
        "SALDO_ENVIRONMENT": "production",
        "SALDO_SECRET_KEY": "a-real-secret-of-our-own",
        "SALDO_GATEWAY_TOKEN": "gateway-token",
        "SALDO_FROZEN_NOW": "2027-01-10T12:00:00Z",
    },
    {"SALDO_PORT": "8080"},
    {"SALDO_PORT": "0"},
    {"SALDO_HOTLINE_PEERS": "sbc.example.org"},
    {"SALDO_SMTP_URL": "", "SALDO_STRIPE_API_KEY": "sk_test_1", "SALDO_NOT_A_SETTING": "x"},
]


TAKEN_PLAINLY = {"SALDO_DATABASE_URL", "saldo_database_url", "SALDO_HOST", "SALDO_ENVIRONMENT"}


@pytest.mark.parametrize("variables", ENVIRONMENTS)
@pytest.mark.parametrize("given_url", [None, "sqlite:///given.db"])
def test_plain_settings_are_given_only_when_settings_accept_them_and_are_the_same(
    variables: dict[str, str],
    given_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # given these SALDO_* variables (and no others), in a folder without a .env file
    for name in [name for name in os.environ if name.lower().startswith("saldo_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    # when both read them
    found = plain.plain_settings(database_url=given_url)
    try:
        settings = Settings(database_url=given_url) if given_url else Settings()
    except ValidationError:
        settings = None

    # then the plain ones are given only if Settings accepts them, and hold the same values
    if found is not None:
        assert settings is not None
        assert found.database_url == settings.database_url
        assert found.frozen_now == settings.frozen_now
        if found.frozen_now is not None:
            assert found.frozen_now.utcoffset() == settings.frozen_now.utcoffset()  # type: ignore[union-attr]
    # and the usual settings of a development or test machine are read plainly
    if variables.keys() <= TAKEN_PLAINLY and settings is not None:
        assert found is not None


def test_a_env_file_leaves_the_settings_to_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SALDO_DATABASE_URL=sqlite:///from-env-file.db\n")

    assert plain.plain_settings() is None


def test_the_plain_settings_know_every_setting_and_read_only_text_as_any_text() -> None:
    fields = Settings.model_fields
    named = {
        *plain.ANY_TEXT,
        *plain.CHOICES,
        "secret_key",
        "frozen_now",
        *plain._NOT_READ_HERE,
    }
    assert named == set(fields)
    for name in plain.ANY_TEXT:
        assert set(typing.get_args(fields[name].annotation) or [fields[name].annotation]) <= {
            str,
            SecretStr,
            type(None),
        }, name
        assert not fields[name].metadata, name
    for name, choices in plain.CHOICES.items():
        assert set(typing.get_args(fields[name].annotation)) == choices
    assert fields["database_url"].default == plain.DEFAULT_DATABASE_URL
    assert fields["secret_key"].default == plain.DEVELOPMENT_SECRET
