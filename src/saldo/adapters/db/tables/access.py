"""Subscribers' access: their accounts and the lines on them, the attempts that asked for a
verification code, the tokens and sessions a code earned, and rate-limit counters.

These rows belong to no operator: one subscriber account holds lines of any operator in any
country (a number in Argentina and one in Belgium), so they carry no ``operator_id``; a line
on an account still belongs to its operator. Codes, tokens, requesting addresses and
rate-limit keys are stored only as keyed hashes (HMAC with a key derived from
SALDO_SECRET_KEY).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
)

from saldo.adapters.db.tables.base import metadata
from saldo.adapters.db.types import Id, TZDateTime

subscriber_accounts = Table(
    "subscriber_accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", TZDateTime, nullable=False),
)

# A line is on one account at most. Taking it off deletes this row and never touches the line.
account_lines = Table(
    "account_lines",
    metadata,
    Column("account_id", ForeignKey("subscriber_accounts.id"), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=False, unique=True),
    Column("added_at", TZDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "line_id"),
)

# One request for a verification code. ``line_id`` is the line the code was sent to (None: no
# live line has the number, nothing was sent); ``account_id`` the account adding a line;
# ``email`` the address a code proving it was sent to (purpose 'email', for that line).
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("msisdn", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("account_id", ForeignKey("subscriber_accounts.id")),
    Column("line_id", ForeignKey("lines.id")),
    Column("code_hash", String(64), nullable=False),
    Column("address_hash", String(64), nullable=False),
    Column("tries", SmallInteger, nullable=False, server_default="0"),
    Column("created_at", TZDateTime, nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("used_at", TZDateTime),
    # Too many wrong codes, or a newer code asked for.
    Column("ended_at", TZDateTime),
    Column("email", String(254)),
    CheckConstraint("purpose IN ('sign_in', 'add_line', 'email')", name="purpose"),
    CheckConstraint(
        "(purpose = 'add_line') = (account_id IS NOT NULL)", name="account_adds_a_line"
    ),
    Index("ix_sign_in_attempts_msisdn_purpose", "msisdn", "purpose"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("subscriber_accounts.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TZDateTime, nullable=False),
    Column("expires_at", TZDateTime, nullable=False),
    Column("revoked_at", TZDateTime),
    Column("last_used_at", TZDateTime),
    CheckConstraint("kind IN ('app', 'web')", name="kind"),
    Index("ix_access_tokens_account_id", "account_id"),
)

# The requests one key (a number's or an address's hash) made lately, as a JSON list of ISO
# 8601 instants: every server process counts in the same row, locked while it decides.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("scope", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("hits", JSON, nullable=False),
    Column("keep_until", TZDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "key"),
    Index("ix_rate_limits_keep_until", "keep_until"),
)

# The idempotency keys an account's money requests came with (the app's top-ups, vouchers,
# orders and payments): the first request's keyed fingerprint, so that the same key with
# another request is refused (409) whichever use case it reached; and the refusal it got
# (``{"code", "message", ...}``: a wrong voucher PIN), so that it is answered again, not redone.
account_requests = Table(
    "account_requests",
    metadata,
    Column("account_id", ForeignKey("subscriber_accounts.id"), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("created_at", TZDateTime, nullable=False),
    Column("refusal", JSON),
    PrimaryKeyConstraint("account_id", "idempotency_key"),
)

# An account's calendar feed (``/calendar/{secret}.ics``): the secret is drawn from ``seed``
# with a key derived from SALDO_SECRET_KEY, and found by its keyed hash; a copy of the
# database alone opens no feed. A new seed (a new link) makes the old address open nothing.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("account_id", ForeignKey("subscriber_accounts.id"), primary_key=True),
    Column("seed", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", TZDateTime, nullable=False),
)
