"""One validated Settings object, read from ``SALDO_*`` environment variables (and a ``.env``
file when present). docs/configuration.md lists every setting.

The variables are read as pydantic-settings reads them (names in any case; a value given to
``Settings(...)`` wins over the environment, which wins over ``.env``), but pydantic-settings
itself, with the cloud secret stores and asyncio it imports, is loaded only to read a ``.env``
file: without one, a command such as ``saldo balance`` starts faster (docs/performance.md, "CLI
start"). tests/integration/test_config.py checks both ways against pydantic-settings."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class InsecureSettings(ValueError):
    """A setting that is only acceptable in development was used elsewhere."""


PREFIX = "SALDO_"
ENV_FILE = ".env"


class Settings(BaseModel):
    # As pydantic-settings' BaseSettings: defaults validated too, other names ignored.
    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_configured(), **values})

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./saldo.db"
    # A streaming read replica of a PostgreSQL database_url: the reads that may lag behind
    # the primary (docs/scaling.md) go there; unset, every read goes to database_url.
    read_database_url: str | None = None
    secret_key: str = Field(default=DEVELOPMENT_SECRET, min_length=16)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # How many server processes ``saldo serve`` runs on its one socket.
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Kannel's sendsms interface, for SMS Saldo sends (replies to MO go back in the HTTP body).
    kannel_sendsms_url: str | None = None
    kannel_username: str = "saldo"
    kannel_password: SecretStr = SecretStr("")
    # Shared secret the SMS and USSD gateways present (``token`` parameter or
    # ``X-Saldo-Gateway-Token`` header); required in production.
    gateway_token: SecretStr | None = None
    # The SMTP server for email Saldo sends (receipts), e.g.
    # smtp://user:password@smtp.example.org:587?from=Saldo%20<no-reply@example.org>&starttls=1
    smtp_url: SecretStr | None = None
    # In development, without Kannel or SMTP, each SMS and email is written as a file here
    # (relative to the SQLite database's folder); elsewhere such messages stay pending.
    outbox_folder: str = "./saldo-outbox"
    # Quotes in another currency refuse exchange rates fetched longer ago than this.
    fx_max_age_hours: int = Field(default=24, ge=1)
    # The sandbox card processor (demo and tests): where it keeps its payments, and how long
    # its "settle later" test cards stay pending. Off in production.
    sandbox_path: str = "./saldo-sandbox.db"
    sandbox_settle_seconds: int = Field(default=120, ge=0)
    # Real processors; each is offered when its credentials are set.
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    mercadopago_access_token: SecretStr | None = None
    mercadopago_webhook_secret: SecretStr | None = None
    # Subscribers' sign-in (app API): how long a token lasts, and how many verification codes
    # one client address may ask for in any 15 minutes (a number gets 3, and 10 a day).
    app_token_days: int = Field(default=30, ge=1, le=365)
    sign_in_codes_per_address: int = Field(default=10, ge=1, le=10_000)
    # The hotline's speech (docs/hotline-dialogue.md): where synthesised prompts are cached,
    # and where an operator drops recorded ones (<folder>/<operator>/<language>/<prompt>.wav);
    # both relative to the SQLite database's folder unless absolute.
    hotline_speech_cache: str = "./saldo-speech"
    hotline_prompts_folder: str = "./saldo-prompts"
    # How long a worker holds the outbox messages it claimed: one whose worker died is sent
    # by another after this.
    outbox_lease_seconds: int = Field(default=300, ge=1, le=3600)
    # How long the outbox worker waits for an operator's webhook endpoint to answer.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Stops the clock at this moment for every command (development and tests only): the
    # documentation's examples are run with it, so their dates are the same on every run.
    frozen_now: AwareDatetime | None = None
    # The hotline's SIP endpoint (docs/hotline.md): its address and port (UDP and TCP), the
    # networks its calls may come from (the operator's switch or SBC, comma-separated: they
    # assert who is calling), the first of its RTP ports (two per call), and a port for its
    # Prometheus metrics (none by default).
    hotline_host: str = "127.0.0.1"
    hotline_port: int = Field(default=5060, ge=1, le=65535)
    hotline_peers: str = "127.0.0.0/8,::1/128"
    hotline_rtp_port: int = Field(default=4000, ge=1024, le=65000)
    hotline_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("hotline_peers")
    @classmethod
    def _peers_are_networks(cls, peers: str) -> str:
        for peer in hotline_networks(peers):
            try:
                ipaddress.ip_network(peer, strict=False)
            except ValueError:
                raise ValueError(
                    f"{peer!r} is not an address or network such as 10.1.2.0/24"
                ) from None
        return peers

    @model_validator(mode="after")
    def _replica_of_postgresql(self) -> Settings:
        if self.read_database_url and not (
            self.read_database_url.startswith("postgresql")
            and self.database_url.startswith("postgresql")
        ):
            raise ValueError(
                "SALDO_READ_DATABASE_URL is a PostgreSQL read replica of a PostgreSQL "
                "SALDO_DATABASE_URL (postgresql+psycopg://...)"
            )
        return self

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise InsecureSettings(
                "SALDO_SECRET_KEY must be set to a secret of your own in production"
            )
        if self.environment == "production" and not self.gateway_token:
            raise InsecureSettings(
                "SALDO_GATEWAY_TOKEN must be set in production: without it anyone who reaches "
                "the server could send SMS and USSD requests in a subscriber's name"
            )
        if self.environment == "production" and self.frozen_now is not None:
            raise InsecureSettings(
                "SALDO_FROZEN_NOW stops the clock: it is for development and tests only"
            )
        return self


def hotline_networks(peers: str) -> tuple[str, ...]:
    """``SALDO_HOTLINE_PEERS`` as a tuple of addresses or networks."""
    return tuple(peer.strip() for peer in peers.split(",") if peer.strip())


def _configured() -> dict[str, str | None]:
    """The settings given by ``SALDO_*`` environment variables and the ``.env`` file, as
    pydantic-settings reads them: unvalidated text, by field name."""
    path = Path(ENV_FILE)
    if path.is_file() or path.is_fifo():
        return _configured_with_env_file()
    found: dict[str, str | None] = {}
    for key, value in os.environ.items():
        # Later wins among names that differ in case only, as in pydantic-settings.
        name = key.lower()
        if name.startswith(PREFIX.lower()):
            found[name] = value
    fields = Settings.model_fields
    return {
        name: found[f"{PREFIX.lower()}{name}"]
        for name in fields
        if f"{PREFIX.lower()}{name}" in found
    }


def _configured_with_env_file() -> dict[str, str | None]:
    from pydantic_settings import BaseSettings, SettingsConfigDict

    # Every setting as text: pydantic-settings finds and merges the values, Settings
    # validates them.
    names = list(Settings.model_fields)
    reader: type[BaseSettings] = type(
        "SettingsText",
        (BaseSettings,),
        {
            "__annotations__": dict.fromkeys(names, str | None),
            "model_config": SettingsConfigDict(
                env_prefix=PREFIX, env_file=ENV_FILE, extra="ignore"
            ),
            **dict.fromkeys(names),
        },
    )
    values: dict[str, str | None] = reader().model_dump(exclude_unset=True)
    return values
