"""The few settings a balance read uses, read without Pydantic when they are certainly valid.

``saldo balance`` is run by scripts, often. Validating ``Settings`` (``saldo.config``) imports
Pydantic and builds the model's validator: about a third of what the command cost to start
(docs/performance.md, "CLI start"). It needs only the database's URL and the frozen clock.

``plain_settings`` reads the ``SALDO_*`` variables as ``Settings`` does (names in any case,
a value given in code wins), and answers only when ``Settings`` would certainly accept them
all: no ``.env`` file, and every variable set is one whose every value ``Settings`` accepts
(text), or one it checks here by a rule no wider than Pydantic's (a choice among fixed words,
a secret of 16 characters or more, a moment written plainly in ISO 8601 with its offset).
Anything else (numbers, networks, production without its secrets) answers None, and the
caller validates the whole ``Settings``, which then accepts or refuses with its own words.
tests/integration/test_plain_settings.py compares the two.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PREFIX = "saldo_"
ENV_FILE = ".env"
DEVELOPMENT_SECRET = "development-only-secret-change-me"
DEFAULT_DATABASE_URL = "sqlite:///./saldo.db"

# Settings whose every text value Settings accepts: `str`, `str | None` and `SecretStr`
# (| None) fields. A test checks each against Settings' own annotations.
ANY_TEXT = frozenset(
    {
        *("database_url", "host", "kannel_sendsms_url", "kannel_username", "kannel_password"),
        *("gateway_token", "smtp_url", "outbox_folder", "sandbox_path", "stripe_api_key"),
        *("stripe_webhook_secret", "mercadopago_access_token", "mercadopago_webhook_secret"),
        *("hotline_speech_cache", "hotline_prompts_folder", "hotline_host"),
    }
)
CHOICES = {
    "environment": frozenset({"development", "test", "production"}),
    "log_level": frozenset({"debug", "info", "warning", "error"}),
}
# A moment as people and the docs write it: what Pydantic's AwareDatetime reads as the same
# moment that datetime.fromisoformat reads (other spellings are left to Pydantic).
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class PlainSettings:
    """What ``Settings`` would hold for these two, with every other setting valid."""

    database_url: str
    frozen_now: datetime | None


def plain_settings(*, database_url: str | None = None) -> PlainSettings | None:
    """The database URL (``database_url`` if given, else ``SALDO_DATABASE_URL`` or the
    default) and ``SALDO_FROZEN_NOW``, when ``Settings(database_url=...)`` would certainly
    validate; None when only ``Settings`` can tell."""
    path = Path(ENV_FILE)
    if path.is_file() or path.is_fifo():
        return None
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        # Later wins among names that differ in case only, as in Settings.
        name = key.lower()
        if name.startswith(PREFIX):
            found[name.removeprefix(PREFIX)] = value
    if database_url is not None:
        found["database_url"] = database_url
    frozen_now = None
    for name, value in found.items():
        if name in ANY_TEXT:
            continue
        if name in CHOICES:
            if value not in CHOICES[name]:
                return None
        elif name == "secret_key":
            if len(value) < 16:
                return None
        elif name == "frozen_now":
            frozen_now = _moment(value)
            if frozen_now is None:
                return None
        elif name in _NOT_READ_HERE:
            return None
    if found.get("environment") == "production" and (
        found.get("secret_key", DEVELOPMENT_SECRET) == DEVELOPMENT_SECRET
        or not found.get("gateway_token")
        or frozen_now is not None
    ):
        return None
    return PlainSettings(
        database_url=found.get("database_url", DEFAULT_DATABASE_URL), frozen_now=frozen_now
    )


def _moment(text: str) -> datetime | None:
    if not _MOMENT.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# Settings validated by rules not repeated here (numbers, the hotline's networks, a replica's
# URL, which must go with a PostgreSQL primary): any value
# given for one of them is left to Settings. Other SALDO_* names are no setting, and ignored
# by both. A test checks that these, ANY_TEXT, CHOICES, secret_key and frozen_now are
# exactly Settings' fields.
_NOT_READ_HERE = frozenset(
    {
        *("port", "fx_max_age_hours", "sandbox_settle_seconds", "app_token_days"),
        *("sign_in_codes_per_address", "webhook_timeout_seconds", "hotline_port"),
        *("hotline_peers", "hotline_rtp_port", "hotline_metrics_port"),
        *("workers", "outbox_lease_seconds", "read_database_url"),
    }
)
