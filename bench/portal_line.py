"""A signed-in subscriber reading one line: the app API's ``GET /api/v1/lines/{msisdn}`` and the
portal's line page ``GET /lines/{msisdn}``, each beside a minimal raw ASGI application doing
the same read, all under wrk on loopback, on the same machine in the same run.

    .venv/bin/python bench/portal_line.py          # wrk -t1 -c32 -d10s, three rounds
    .venv/bin/python bench/portal_line.py --duration 3 --rounds 1 --json

The database is the demo's (``saldo demo --no-serve`` in a temporary directory) plus 200
Personal Argentina lines, each topped up once. Each line is signed in twice through the real
use cases, as a subscriber would from a phone of their own: a code asked for, read from the
SMS the outbox sends (through the in-memory SMS gateway, as the tests read it), then
confirmed, once for an app token and once for a portal session, whose cookie is the one the
portal's ``CookieJar`` sets at sign-in. wrk rotates over the lines, each request with its own
``Authorization: Bearer …`` (API) or ``Cookie: saldo_session=…`` (page). Before wrk runs, every
line is asked once on each side for each target: every answer must be a 200 with the line's
number and its balance in it.

- Saldo: ``python -m saldo serve`` (uvicorn, one process). The API call: the bearer token
  checked, ``account_line()`` (the token by its hash, the account's line and its buckets, the
  token's use noted at most every five minutes), the balance view, the JSON. The page: the
  session cookie, ``line_page()`` (the same reads plus the line's last plan bought and its
  automatic renewal and top-up), the view made into text in the page's language
  (channels/web/views.py), ``line.html`` rendered, the form token and the security headers.
- raw: the ASGI callable below on the same uvicorn call (``uvicorn.run(app, host=, port=,
  log_level=)``, as ``saldo serve`` makes it), on Saldo's own SQLite file through one
  connection opened once, with the operators read once at start. The API call: the token's
  keyed hash (HMAC-SHA256 with the key Saldo derives from SALDO_SECRET_KEY, as
  services/access keeps it), then ONE indexed query joining the token (of the app's kind,
  neither revoked nor expired), the account's line with that number and its accounts (the
  buckets); state, recycling date, days left and "renew soon" computed from the validity
  and the operator's grace and suspension days; the same JSON shape as Saldo's. The page: the
  session token's hash, the same query with the line's automatic renewal and top-up (LEFT
  JOINs) and its last plan bought (a subquery), and Saldo's own ``line.html`` (with
  ``base.html``) rendered by a Jinja2 environment set up as Saldo's, given equivalent data:
  texts from Saldo's Spanish message files, money as ``$1.234,56``, dates as ``7 dic 2026``,
  the CSRF field as the HMAC of the session, Saldo's security headers.
  It does not: note the token's use, parse the number with ``phonenumbers``, choose the
  page's language (it answers in the line's, Spanish), count days in the operator's time zone
  (UTC days: Argentina keeps no summer time), format money and dates with the locale's CLDR
  data (fixed Spanish patterns), name a plan in any language but Spanish, write minutes, SMS
  and data as Saldo does or show bucket meters for a plan's allowances (the lines here hold
  money only, and no plan), or tell an unknown token (401) from a line not on the account
  (404) without a second query.

Each round starts each side's server once and measures the API, then the page, with the same
wrk settings (which side goes first alternates); wrk and the server share the machine's
cores. Besides wrk's requests/s and its p50 and p99 latencies, each server's CPU time (user +
system, from /proc) per request is reported. Needs wrk (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._http import HOST, Load, cpu, get, rotation_lua, run_wrk, running

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

OPERATOR = "personal-ar"
EXTRA_LINES = 200
TOPUPS = ("1000", "2000", "5000", "10000")  # Personal's denominations, in ARS
# Both sides are given this key: the raw side hashes tokens with it as Saldo does.
SECRET_KEY = "saldo-bench-portal-line-secret"
GOALS = {"api": 0.3, "page": 0.25}
TARGETS = ("api", "page")
BASE_PATHS = {"api": "/api/v1/lines", "page": "/lines"}
TEMPLATES = Path(__file__).resolve().parents[1] / "src/saldo/channels/web/templates"
MESSAGES = Path(__file__).resolve().parents[1] / "src/saldo/i18n/messages"


def extra_number(i: int) -> str:
    """Valid Argentine mobile numbers (Mendoza, 261) for the extra lines."""
    return f"+54926150{i:05d}"


@dataclass(frozen=True)
class SignedInLine:
    """One extra line, signed in twice: what wrk sends for it, and what its answers show."""

    msisdn: str
    app_token: str
    cookie: str  # "saldo_session=…", as the browser sends it back
    main_minor: int
    main_text: str  # the balance as Saldo's formatter writes it on the page (es_AR)

    def request(self, target: str) -> tuple[str, dict[str, str]]:
        number = quote(self.msisdn, safe="")
        if target == "api":
            return f"/api/v1/lines/{number}", {"Authorization": f"Bearer {self.app_token}"}
        return f"/lines/{number}", {"Cookie": self.cookie}


# -- the raw application -----------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RAW_LINE = (
    "SELECT l.id, l.msisdn, l.operator_id, l.language, l.state, l.valid_until, "
    "a.kind, a.unit, a.balance, a.expires_at{page} "
    "FROM access_tokens t "
    "JOIN account_lines al ON al.account_id = t.account_id "
    "JOIN lines l ON l.id = al.line_id "
    "JOIN accounts a ON a.line_id = l.id{joins} "
    "WHERE t.token_hash = ? AND t.kind = ? AND t.revoked_at IS NULL AND t.expires_at > ? "
    "AND l.msisdn = ? ORDER BY a.id"
)
RAW_API_LINE = RAW_LINE.format(page="", joins="")
RAW_PAGE_LINE = RAW_LINE.format(
    page=(
        ", r.enabled, r.plan_code, r.days_before, u.enabled, u.threshold, u.amount, "
        "(SELECT plan_code FROM (SELECT plan_code, created_at AS at FROM plan_purchases "
        "WHERE line_id = l.id UNION ALL SELECT plan_code, fulfilled_at FROM orders "
        "WHERE line_id = l.id AND fulfilled_at IS NOT NULL) ORDER BY at DESC LIMIT 1)"
    ),
    joins=(
        " LEFT JOIN auto_renewals r ON r.line_id = l.id LEFT JOIN auto_topups u ON u.line_id = l.id"
    ),
)
# The same headers as saldo.channels.web.pages.SECURITY_HEADERS.
PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
JSON_HEADERS = [(b"content-type", b"application/json")]
MONTHS_ES = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic")
FLAG_AR = (
    '<svg class="flag" viewBox="0 0 30 20" width="24" height="16" aria-hidden="true" '
    'focusable="false"><rect x="0" y="0" width="30" height="6.66667" fill="#74acdf"/>'
    '<rect x="0" y="6.66667" width="30" height="6.66667" fill="#ffffff"/>'
    '<rect x="0" y="13.3333" width="30" height="6.66667" fill="#74acdf"/>'
    '<circle cx="15" cy="10" r="2.2" fill="#f6b40e"/></svg>'
)
COUNTRIES_ES = {"AR": "Argentina", "CO": "Colombia", "BE": "Bélgica"}
NAV = (
    {"key": "portal_nav_lines", "href": "/", "section": "lines"},
    {"key": "portal_nav_add_line", "href": "/add-line", "section": "add_line"},
)
LANGUAGE_NAMES = (
    ("es", "Español"),
    ("fr", "Français"),
    ("nl", "Nederlands"),
    ("en", "English"),
    ("zh", "中文"),
)
BUCKET_LABELS = {
    "main": "portal_bucket_main",
    "bonus": "portal_bucket_bonus",
    "voice": "portal_bucket_voice",
    "sms": "portal_bucket_sms",
    "data": "portal_bucket_data",
}


def stored(moment: datetime) -> str:
    """A moment as Saldo's TZDateTime keeps it on SQLite (naive UTC text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def read_stored(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def money_es(minor: int) -> str:
    """ARS as es_AR writes it: "$1.234,56"."""
    units, cents = divmod(minor, 100)
    return f"${units:,}".replace(",", ".") + f",{cents:02d}"


def day_es(moment: datetime) -> str:
    return f"{moment.day} {MONTHS_ES[moment.month - 1]} {moment.year}"


def last_day_es(valid_until: datetime) -> str:
    """The last day ``[…, valid_until)`` covers, in Argentina (UTC-3, no summer time)."""
    return day_es(valid_until - timedelta(hours=3, microseconds=1))


class RawLines:
    """The raw side's reads and answers, on one SQLite connection opened once."""

    def __init__(self, db_path: str, secret_key: str, now: Callable[[], datetime]) -> None:
        self.db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self.now = now
        self.key = hashlib.sha256(b"saldo subscriber access\x00" + secret_key.encode()).digest()
        self.form_key = hashlib.sha256(b"saldo portal forms\x00" + secret_key.encode()).digest()
        self.operators = {
            row[0]: {"slug": row[1], "name": row[2], "country": row[3], "timezone": row[4]}
            | json.loads(row[5])
            for row in self.db.execute(
                "SELECT id, slug, name, country, timezone, spec FROM operators"
            )
        }
        self.messages: dict[str, str] = {}
        for path in (MESSAGES / "es.yaml", *sorted(MESSAGES.glob("*/es.yaml"))):
            self.messages.update(yaml.safe_load(path.read_text(encoding="utf-8")))
        self.template = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        ).get_template("line.html")

    def t(self, key: str, **values: Any) -> str:
        return self.messages[key].format(**values)

    def rows(self, query: str, token: str, kind: str, msisdn: str) -> list[Any]:
        token_hash = hmac.new(self.key, b"token\x00" + token.encode(), hashlib.sha256)
        now = stored(self.now())
        return self.db.execute(query, (token_hash.hexdigest(), kind, now, msisdn)).fetchall()

    def facts(self, rows: list[Any], now: datetime) -> dict[str, Any]:
        """What both answers say of the line: its operator, state, dates and buckets."""
        first = rows[0]
        operator = self.operators[first[2]]
        rules = operator["lifecycle"]
        valid_until = read_stored(first[5])
        assert valid_until is not None
        grace_ends_at = valid_until + timedelta(days=rules["grace_days"])
        recycles_at = grace_ends_at + timedelta(days=rules["suspension_days"])
        if first[4] == "recycled":
            state = "recycled"
        elif now < valid_until:
            state = "active"
        else:
            state = "grace" if now < grace_ends_at else "suspended"
        locale = next(
            (found for found in operator["locales"] if found.split("_")[0] == first[3]),
            operator["locales"][0],
        )
        buckets = [
            (kind, unit, balance, read_stored(expires))
            for _, _, _, _, _, _, kind, unit, balance, expires, *_ in rows
        ]
        usable = [b for b in buckets if b[0] == "main" or (b[2] > 0 and (b[3] or now) >= now)]
        left = recycles_at - now
        return {
            "operator": operator,
            "locale": locale,
            "state": state,
            "valid_until": valid_until,
            "grace_ends_at": grace_ends_at,
            "recycles_at": recycles_at,
            "days": left.days + (1 if left % timedelta(days=1) else 0),
            "renew_soon": state != "recycled" and now >= valid_until - timedelta(days=7),
            "buckets": usable,
            "totals": {
                kind: sum(b[2] for b in usable if b[0] == kind)
                for kind in ("main", "bonus", "voice", "sms", "data")
            },
        }

    def line_json(self, token: str, msisdn: str) -> tuple[int, bytes]:
        rows = self.rows(RAW_API_LINE, token, "app", msisdn)
        if not rows:
            return 404, b'{"error": {"code": "line_not_found", "message": "no such line"}}'
        now = self.now()
        facts = self.facts(rows, now)
        operator, totals = facts["operator"], facts["totals"]
        currency = operator["currency"]

        def money(minor: int) -> dict[str, Any]:
            return {"amount": f"{minor / 100:.2f}", "currency": currency, "minor": minor}

        body = {
            "msisdn": msisdn,
            "operator": operator["slug"],
            "operator_name": operator["name"],
            "country": operator["country"],
            "locale": facts["locale"],
            "timezone": operator["timezone"],
            "state": facts["state"],
            "main": money(totals["main"]),
            "valid_until": facts["valid_until"].isoformat(),
            "recycles_at": facts["recycles_at"].isoformat(),
            "days_until_recycling": facts["days"],
            "renew_soon": facts["renew_soon"],
            "bonus": money(totals["bonus"]),
            "voice_seconds": totals["voice"],
            "sms": totals["sms"],
            "data_bytes": totals["data"],
            "buckets": [
                {
                    "kind": kind,
                    "unit": unit,
                    "amount": amount,
                    "expires_at": None if expires is None else expires.isoformat(),
                }
                for kind, unit, amount, expires in facts["buckets"]
            ],
        }
        return 200, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def line_page(self, token: str, msisdn: str, path: str) -> tuple[int, bytes]:
        rows = self.rows(RAW_PAGE_LINE, token, "web", msisdn)
        if not rows:
            return 404, b"<!doctype html><title>404</title>"
        now = self.now()
        facts = self.facts(rows, now)
        operator, t = facts["operator"], self.t
        (renewal_on, renewal_plan, renewal_days, topup_on, threshold, amount, plan_code) = rows[0][
            10:17
        ]
        valid_day = last_day_es(facts["valid_until"])
        days = facts["days"]
        row = {
            "msisdn": msisdn,
            "href": f"/lines/{quote(msisdn, safe='')}",
            "flag": Markup(FLAG_AR),
            "country": COUNTRIES_ES.get(operator["country"], operator["country"]),
            "operator": operator["name"],
            "state": facts["state"],
            "state_text": t(f"state_name_{facts['state']}"),
            "warning": (
                t("portal_renew_soon", day=valid_day, days=str(days))
                if facts["renew_soon"]
                else None
            ),
            "days_left": t(
                "portal_days_left_one" if days == 1 else "portal_days_left_other", days=str(days)
            ),
        }
        plans = {plan["code"]: plan["name"] for plan in operator.get("plans", ())}
        buckets = [
            {
                "label": t(BUCKET_LABELS[kind]),
                "amount": money_es(amount_) if kind in ("main", "bonus") else str(amount_),
                "meter_max": None,
                "meter_value": amount_,
                "meter_text": None,
                "expires": None if expires is None else t("portal_bucket_expires", day=expires),
            }
            for kind, _, amount_, expires in facts["buckets"]
        ]
        reminder_at = min(
            (
                facts["valid_until"] - timedelta(days=d)
                for d in operator.get("reminder_days", ())
                if facts["valid_until"] - timedelta(days=d) > now
            ),
            default=None,
        )
        line = {
            "row": row,
            "plan": plans.get(plan_code),
            "buckets": buckets,
            "steps": [
                {"text": text, "current": facts["state"] == state}
                for state, text in (
                    ("active", t("portal_step_active", day=valid_day)),
                    ("grace", t("portal_step_grace", day=last_day_es(facts["grace_ends_at"]))),
                    (
                        "suspended",
                        t("portal_step_suspended", day=last_day_es(facts["recycles_at"])),
                    ),
                    ("recycled", t("portal_step_recycled", day=day_es(facts["recycles_at"]))),
                )
            ],
            "auto_renewal": (
                t("portal_auto_renewal_on", plan=plans.get(renewal_plan), days=renewal_days)
                if renewal_on
                else t("portal_auto_renewal_off")
            ),
            "auto_topup": (
                t("portal_auto_topup_on", amount=money_es(amount), threshold=money_es(threshold))
                if topup_on
                else t(
                    "portal_auto_topup_off"
                    if operator.get("auto_topup")
                    else "portal_auto_topup_none"
                )
            ),
            "reminder": (
                t("portal_next_reminder", day=day_es(reminder_at))
                if reminder_at
                else t("portal_no_reminder")
            ),
            "apn": operator.get("apn"),
            "remove_href": f"/lines/{quote(msisdn, safe='')}/remove",
        }
        csrf = hmac.new(self.form_key, b"session\x00" + token.encode(), hashlib.sha256)
        page = self.template.render(
            t=t,
            language="es",
            html_lang="es",
            languages=LANGUAGE_NAMES,
            csrf=csrf.hexdigest(),
            path=path,
            signed_in=True,
            section="lines",
            nav=NAV,
            data={"line": line},
        )
        return 200, page.encode()


def raw_app(
    db_path: str, secret_key: str, *, now: Callable[[], datetime]
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The least an ASGI application can do to answer both reads (see the module's text);
    ``now`` is its clock."""
    raw = RawLines(db_path, secret_key, now)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        headers = dict(scope["headers"])
        if path.startswith("/api/v1/lines/"):
            bearer = headers.get(b"authorization", b"").decode("latin-1")
            token = bearer.removeprefix("Bearer ")
            status, body = raw.line_json(token, path.removeprefix("/api/v1/lines/"))
            kind = JSON_HEADERS
        elif path.startswith("/lines/"):
            cookies = headers.get(b"cookie", b"").decode("latin-1")
            token = next(
                (
                    value
                    for name, _, value in (c.strip().partition("=") for c in cookies.split(";"))
                    if name == "saldo_session"
                ),
                "",
            )
            status, body = raw.line_page(token, path.removeprefix("/lines/"), path)
            kind = PAGE_HEADERS
        else:
            status, body, kind = 404, b"", JSON_HEADERS
        answer = [*kind, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": answer})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_raw(port: int, db_path: str) -> None:
    import uvicorn

    # The same call as saldo.channels.api.server.serve, with SALDO_LOG_LEVEL=warning.
    app = raw_app(db_path, os.environ["SALDO_SECRET_KEY"], now=partial(datetime.now, UTC))
    uvicorn.run(app, host=HOST, port=port, log_level="warning")


# -- the database and the signed-in lines -----------------------------------------------------


def child_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=db_url, SALDO_LOG_LEVEL="warning", SALDO_SECRET_KEY=SECRET_KEY)
    return env


def prepare_database(
    workdir: Path, *, extra_lines: int = EXTRA_LINES
) -> tuple[str, list[SignedInLine]]:
    """The demo database plus the extra lines, each topped up once and signed in for the app
    and the portal; its URL and the lines."""
    url = f"sqlite:///{workdir}/saldo.db"
    subprocess.run(
        [sys.executable, "-m", "saldo", "demo", "--no-serve"],
        cwd=workdir,
        env=child_env(url),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Imported here, so that the raw server process (--serve-raw) loads nothing of Saldo.
    from saldo.bootstrap import bootstrap
    from saldo.config import Settings

    saldo = bootstrap(Settings(database_url=url, secret_key=SECRET_KEY))
    try:
        return url, signed_in_lines(saldo, extra_lines=extra_lines)
    finally:
        saldo.close()


def signed_in_lines(saldo: Saldo, *, extra_lines: int) -> list[SignedInLine]:
    """``extra_lines`` new Personal lines, each topped up once and signed in for the app and
    for the portal, at the installation's clock's now."""
    from starlette.responses import Response

    from saldo.adapters.sms.fake import FakeSmsSender
    from saldo.channels.notifications import notification_renderer
    from saldo.channels.web.session import CookieJar
    from saldo.domain.access import TokenKind
    from saldo.domain.lines import Channel
    from saldo.domain.money import Money, format_money
    from saldo.services.access.policy import access_policy
    from saldo.services.access.sign_in import request_sign_in_code, sign_in
    from saldo.services.lines import NewLine, import_lines
    from saldo.services.outbox import Senders, deliver_outbox
    from saldo.services.top_up import top_up

    settings = saldo.settings
    now = saldo.clock.now()
    numbers = [extra_number(i) for i in range(extra_lines)]
    report = import_lines(
        saldo.uow(),
        rows=((i, NewLine(msisdn=number, operator=OPERATOR)) for i, number in enumerate(numbers)),
        now=now,
    )
    assert report.imported == extra_lines, report.rejected[:3]
    mains = {}
    for i, number in enumerate(numbers):
        receipt = top_up(
            saldo.uow(),
            msisdn=number,
            amount=Money.of(TOPUPS[i % len(TOPUPS)], "ARS"),
            channel=Channel.STORE,
            idempotency_key=f"bench-portal-{i}",
            now=now,
        )
        mains[number] = receipt.balance.minor
    render = notification_renderer(webhook_secret=saldo.webhook_secret)

    def deliver(sms: FakeSmsSender) -> None:
        while True:
            done = deliver_outbox(saldo.uow(), senders=Senders(sms=sms), render=render, now=now)
            if not done.handled:
                return

    # As the app and the portal build it from the settings.
    policy = access_policy(
        secret_key=settings.secret_key,
        token_days=settings.app_token_days,
        codes_per_address=settings.sign_in_codes_per_address,
    )
    deliver(FakeSmsSender())  # the top-ups' own messages go first
    tokens: dict[TokenKind, dict[str, str]] = {}
    for kind in (TokenKind.APP, TokenKind.WEB):
        for i, number in enumerate(numbers):
            # Each subscriber from a phone of their own: the per-address limit is not hit.
            address = f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
            request_sign_in_code(
                saldo.uow(), policy=policy, msisdn=number, address=address, now=now
            )
        sms = FakeSmsSender()
        deliver(sms)
        codes = {message.to: code_in(message.text) for message in sms.sent}
        tokens[kind] = {
            number: sign_in(
                saldo.uow(), policy=policy, msisdn=number, code=codes[number], kind=kind, now=now
            ).token
            for number in numbers
        }
    jar = CookieJar(secret_key=settings.secret_key, secure=settings.environment != "development")
    signed_in = []
    for number in numbers:
        response = Response()
        jar.open_session(response, tokens[TokenKind.WEB][number], max_age=3600)
        cookie = next(
            value.split(";", 1)[0]
            for name, value in response.headers.items()
            if name == "set-cookie" and value.startswith("saldo_session=")
        )
        signed_in.append(
            SignedInLine(
                msisdn=number,
                app_token=tokens[TokenKind.APP][number],
                cookie=cookie,
                main_minor=mains[number],
                main_text=format_money(Money(mains[number], "ARS"), locale="es_AR"),
            )
        )
    return signed_in


def code_in(text: str) -> str:
    """The six-digit code an SMS carries (as tests/access.py reads it)."""
    import re

    found = re.findall(r"(?<![0-9])[0-9]{6}(?![0-9])", text)
    assert len(found) == 1, text
    return str(found[0])


# -- checking and measuring --------------------------------------------------------------------


def check_answers(name: str, port: int, lines: list[SignedInLine]) -> dict[str, str]:
    """Ask once for every line on both targets (this also warms the server); every answer
    must be a 200 with the line's number and balance. Return one answer of each, cut short."""
    samples = {}
    for line in lines:
        status, body = get(port, *line.request("api"))
        if status != 200:
            sys.exit(f"{name} api: {line.msisdn} got {status} {body[:300]!r}")
        answer = json.loads(body)
        if answer["msisdn"] != line.msisdn or answer["main"]["minor"] != line.main_minor:
            sys.exit(f"{name} api: {line.msisdn} answered {body[:300]!r}")
        samples.setdefault("api", body[:120])
        status, body = get(port, *line.request("page"))
        if status != 200 or f"<h1>{line.msisdn}</h1>" not in body or line.main_text not in body:
            sys.exit(
                f"{name} page: {line.msisdn} got {status}, not a page with the number and "
                f"{line.main_text!r}:\n{body[:2000]}"
            )
        samples.setdefault("page", f"{len(body):,} characters")
    return samples


@dataclass(frozen=True)
class Round:
    target: str
    saldo: Load
    raw: Load

    @property
    def ratio(self) -> float:
        return self.saldo.requests_per_s / self.raw.requests_per_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per side")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk -t (default 1: one core for wrk, one for the server)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="measure both sides this many times (default 3)"
    )
    parser.add_argument("--lines", type=int, default=EXTRA_LINES, help="signed-in lines")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-raw", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.duration, args.connections, args.threads, args.rounds, args.lines) < 1:
        parser.error("--duration, --connections, --threads, --rounds and --lines must be ≥ 1")
    if args.serve_raw:
        serve_raw(int(args.serve_raw[1]), args.serve_raw[0])
        return
    # A terminated benchmark still stops its servers and removes its files (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (Debian), then run again", file=sys.stderr)
        sys.exit(2)

    rounds: list[dict[str, Round]] = []
    samples: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="saldo-bench-") as tmp:
        workdir = Path(tmp)
        url, lines = prepare_database(workdir, extra_lines=args.lines)
        db_path = url.removeprefix("sqlite:///")
        scripts = {}
        for target in TARGETS:
            scripts[target] = workdir / f"{target}.lua"
            scripts[target].write_text(rotation_lua([line.request(target) for line in lines]))
        env = child_env(url)
        this = str(Path(__file__).resolve())
        sides: dict[str, Callable[[int], list[str]]] = {
            "saldo": lambda port: (
                [sys.executable, "-m", "saldo", "serve", "--host", HOST, "--port", str(port)]
            ),
            "raw": lambda port: [sys.executable, this, "--serve-raw", db_path, str(port)],
        }
        for number in range(args.rounds):
            # Alternate which side goes first, so that a drift of the machine's speed
            # during a round does not always favour the same side.
            order = list(sides) if number % 2 == 0 else list(reversed(sides))
            loads: dict[tuple[str, str], Load] = {}
            for name in order:
                with running(name, sides[name], env=env, cwd=workdir) as (port, pid):
                    samples[name] = check_answers(name, port, lines)
                    for target in TARGETS:
                        loads[name, target] = run_wrk(
                            port,
                            pid,
                            scripts[target],
                            path=BASE_PATHS[target],
                            threads=args.threads,
                            connections=args.connections,
                            duration=args.duration,
                        )
            rounds.append({t: Round(t, loads["saldo", t], loads["raw", t]) for t in TARGETS})

    medians = {t: statistics.median(r[t].ratio for r in rounds) for t in TARGETS}
    if args.json:
        print(
            json.dumps(
                {
                    "wrk": {
                        "threads": args.threads,
                        "connections": args.connections,
                        "duration_s": args.duration,
                        "lines": len(lines),
                    },
                    "rounds": [
                        {
                            t: {
                                "saldo": asdict(r[t].saldo),
                                "raw": asdict(r[t].raw),
                                "ratio": r[t].ratio,
                            }
                            for t in TARGETS
                        }
                        for r in rounds
                    ],
                    "median_ratio": medians,
                    "goal": GOALS,
                    "samples": samples,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s on {HOST}, "
        f"{len(lines):,} signed-in lines in rotation"
    )
    for name, sample in samples.items():
        print(f"  {name}: api {sample['api']}… page {sample['page']}")
    print(
        f"{'target':<6} {'round':<5} {'saldo/s':>8} {'p50':>7} {'p99':>7}  {'raw/s':>8} "
        f"{'p50':>7} {'p99':>7}  {'ratio':>6}  {'saldo CPU':>9} {'raw CPU':>8} {'errors':>6}  goal"
    )
    for target in TARGETS:
        for number, r in enumerate((r[target] for r in rounds), start=1):
            saldo, raw = r.saldo, r.raw
            print(
                f"{target:<6} {number:<5} {saldo.requests_per_s:>8,.0f} {saldo.p50_ms:>5.1f}ms "
                f"{saldo.p99_ms:>5.1f}ms  {raw.requests_per_s:>8,.0f} {raw.p50_ms:>5.1f}ms "
                f"{raw.p99_ms:>5.1f}ms  {r.ratio:>5.2f}x  {cpu(saldo):>9} {cpu(raw):>8} "
                f"{saldo.errors + raw.errors:>6}  ≥ {GOALS[target]:.2f}x"
            )
        if len(rounds) > 1:
            print(f"{target}: median ratio {medians[target]:.2f}x")
    print("p50, p99: wrk's latencies; CPU: the server's user + system time per request")


if __name__ == "__main__":
    main()
