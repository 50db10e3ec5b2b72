"""The settings Saldo starts with (saldo.config): what production refuses to start without, and
that they are read from the environment and .env as pydantic-settings reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from saldo.config import Settings


def test_production_refuses_to_start_without_a_gateway_token() -> None:
    with pytest.raises(ValidationError, match="SALDO_GATEWAY_TOKEN"):
        Settings(environment="production", secret_key="a-real-secret-of-our-own")


def test_the_hotlines_peers_are_addresses_or_networks() -> None:
    assert Settings(hotline_peers="10.1.2.0/24, 192.0.2.7").hotline_peers
    with pytest.raises(ValidationError, match=r"'sbc\.example\.org' is not an address or network"):
        Settings(hotline_peers="10.1.2.0/24,sbc.example.org")


def test_a_read_replica_is_one_of_a_postgresql_database() -> None:
    replica = "postgresql+psycopg://saldo@127.0.0.1:5433/saldo"
    primary = "postgresql+psycopg://saldo@127.0.0.1:5432/saldo"
    assert Settings(database_url=primary, read_database_url=replica).read_database_url
    with pytest.raises(ValidationError, match="SALDO_READ_DATABASE_URL is a PostgreSQL"):
        Settings(database_url="sqlite:///./saldo.db", read_database_url=replica)
    with pytest.raises(ValidationError, match="SALDO_READ_DATABASE_URL is a PostgreSQL"):
        Settings(database_url=primary, read_database_url="sqlite:///./copy.db")


# -- read as pydantic-settings reads them ---------------------------------------------------------


class _ReadByPydanticSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALDO_", env_file=".env", extra="ignore")


# Saldo's settings as a pydantic-settings class would read them: the reference.
Reference = create_model(
    "Reference",
    __base__=_ReadByPydanticSettings,
    **{name: (info.annotation, info) for name, info in Settings.model_fields.items()},
)

ENVIRONMENTS = {
    "nothing set": ({}, None),
    "names in any case, empty values, a moment": (
        {
            "SALDO_PORT": "9000",
            "saldo_Host": "0.0.0.0",
            "SALDO_SMTP_URL": "",
            "SALDO_FROZEN_NOW": "2027-01-10T12:00:00+01:00",
            "SALDO_KANNEL_PASSWORD": "s3cret",
            "NOT_SALDO_PORT": "1",
        },
        None,
    ),
    "a .env file under the environment": (
        {"SALDO_HOST": "9.9.9.9"},
        'SALDO_PORT=7000\nexport SALDO_HOST="1.2.3.4"\nSALDO_DATABASE_URL=sqlite:///${HOME}/x.db\n'
        "OTHER=1\nsaldo_log_level=debug\n# a comment\nSALDO_WEBHOOK_TIMEOUT_SECONDS='2.5'\n",
    ),
}


@pytest.mark.parametrize("case", list(ENVIRONMENTS))
def test_settings_are_read_as_pydantic_settings_reads_them(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given SALDO_* variables in the environment, and perhaps a .env file
    variables, env_file = ENVIRONMENTS[case]
    for name in list(os.environ):
        if name.upper().startswith("SALDO_"):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    if env_file is not None:
        (tmp_path / ".env").write_text(env_file, encoding="utf-8")

    # when Saldo reads its settings, with and without a value given in code
    # then it reads what pydantic-settings reads, and a value given in code wins
    assert Settings().model_dump() == Reference().model_dump()
    given = Settings(port=1234, environment="test").model_dump()
    assert given == Reference(port=1234, environment="test").model_dump()
    assert given["port"] == 1234


def test_a_bad_setting_is_refused_with_pydantic_s_own_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALDO_PORT", "99999")

    with pytest.raises(ValidationError) as refused:
        Settings()

    with pytest.raises(ValidationError) as reference:
        Reference()
    assert refused.value.errors() == reference.value.errors()
    assert refused.value.errors()[0]["loc"] == ("port",)


def test_without_a_env_file_pydantic_settings_is_not_imported(tmp_path: Path) -> None:
    program = "import sys\nfrom saldo.config import Settings\nSettings()\n"
    program += "print('pydantic_settings' in sys.modules, 'asyncio' in sys.modules)\n"

    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=tmp_path
    )

    assert finished.stdout.split() == ["False", "False"]
