"""The one place that wires use cases to adapters. Nothing happens at import: call
``bootstrap()``."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeAlias, TypeVar

from saldo.adapters.clock import FixedClock, SystemClock
from saldo.adapters.db.migrate import is_up_to_date, newest_revision, pending_revisions, upgrade
from saldo.domain.errors import SaldoError
from saldo.services.ports import BalanceReads, Clock, UnitOfWork

# The gateways (SMTP, Kannel, HTTP webhooks), the payment processors, backups and exchange
# rate files are imported by the method that makes each: most commands use none of them, and
# together they cost a command more to import than a balance inquiry takes to run. SQLAlchemy
# too, for ``Reader`` (``saldo balance``) reads an SQLite file without it.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from saldo.adapters.db.unit_of_work import SqlUnitOfWork
    from saldo.config import Settings
    from saldo.domain.fx import ExchangeRate
    from saldo.services.outbox import Senders
    from saldo.services.ports import NetworkElement
    from saldo.services.ports.mail import Mailer
    from saldo.services.ports.payments import PaymentProvider
    from saldo.services.ports.sms import SmsSender
    from saldo.services.ports.webhooks import WebhookSender

P = ParamSpec("P")
R = TypeVar("R")
Processors: TypeAlias = "Mapping[str, PaymentProvider]"


class DatabaseNotReady(SaldoError):
    code = "database_not_ready"


class SmsNotConfigured(SaldoError):
    code = "sms_not_configured"


class MailNotConfigured(SaldoError):
    code = "mail_not_configured"


@dataclass
class Saldo:
    """A wired Saldo: settings, the database engine, the clock, and the engine of a read
    replica when one is configured (``SALDO_READ_DATABASE_URL``)."""

    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    replica: Engine | None = None
    _providers: dict[str, PaymentProvider] | None = field(default=None, init=False, repr=False)

    def uow(self, *, operator_id: int | None = None) -> SqlUnitOfWork:
        """A new unit of work, optionally scoped to one operator's data. Its reads that may
        lag (``uow.reading(may_lag=True)``) go to the read replica when there is one."""
        from saldo.adapters.db.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork(self.engine, operator_id=operator_id, replica=self.replica)

    def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """One use case, given a fresh unit of work of this installation's database: the way
        every channel request reaches the services. A channel never holds a unit of work, a
        repository or an adapter; it passes the request's own arguments and renders what the
        use case returns."""
        return use_case(self.uow(), *args, **kwargs)

    def run_paying(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Processors, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """``run`` for a use case that also takes money at the payment processors this
        installation offers."""
        return use_case(self.uow(), self.payment_providers(), *args, **kwargs)

    @functools.cached_property
    def pin_key(self) -> bytes:
        """The key voucher PINs are hashed with (derived from the instance's secret, once:
        every SMS and USSD request passes it)."""
        return hashlib.sha256(
            b"saldo voucher pins\x00" + self.settings.secret_key.encode()
        ).digest()

    def sms_sender(self) -> SmsSender:
        """The configured outbound SMS gateway; raise SmsNotConfigured if there is none."""
        from saldo.adapters.sms.kannel import KannelSmsSender

        url = self.settings.kannel_sendsms_url
        if not url:
            raise SmsNotConfigured("set SALDO_KANNEL_SENDSMS_URL to send SMS")
        return KannelSmsSender(
            url,
            username=self.settings.kannel_username,
            password=self.settings.kannel_password.get_secret_value(),
        )

    def mailer(self) -> Mailer:
        """The configured SMTP server for outgoing email; raise MailNotConfigured when there
        is none or SALDO_SMTP_URL cannot be used (the reason never quotes the URL, which
        holds the password)."""
        from saldo.adapters.email.smtp import SmtpMailer

        url = self.settings.smtp_url
        if url is None or not url.get_secret_value():
            raise MailNotConfigured("set SALDO_SMTP_URL to send email")
        try:
            return SmtpMailer.from_url(url.get_secret_value())
        except ValueError as error:
            raise MailNotConfigured(f"SALDO_SMTP_URL cannot be used: {error}") from None

    def webhook_sender(self) -> WebhookSender:
        """Posts operators' webhooks over HTTP(S), waiting SALDO_WEBHOOK_TIMEOUT_SECONDS."""
        from saldo.adapters.webhooks.http import HttpWebhookSender

        return HttpWebhookSender(timeout=self.settings.webhook_timeout_seconds)

    def webhook_secret(self, operator_slug: str) -> str:
        """The secret an operator's webhooks are signed with (64 hex digits): derived from
        SALDO_SECRET_KEY and the operator's slug, so each operator can check its own events
        and no other's, and a new SALDO_SECRET_KEY changes every operator's secret."""
        message = b"saldo operator webhooks\x00" + operator_slug.encode()
        return hmac.new(self.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()

    def outbox_folder(self) -> Path | None:
        """Where SMS and emails are written as files when no gateway is configured for them:
        SALDO_OUTBOX_FOLDER (beside the database unless absolute), in development only. None
        outside development, where such messages stay pending."""
        if self.settings.environment != "development":
            return None
        return self.beside_database(self.settings.outbox_folder)

    def notification_senders(self) -> Senders:
        """The gateways the outbox can deliver through: SMS when Kannel is configured, email
        when SMTP is, webhooks always. In development a channel without one is written to
        the outbox folder; elsewhere its messages stay pending."""
        from saldo.adapters.folder import FolderMailer, FolderSmsSender
        from saldo.services.outbox import Senders

        folder = self.outbox_folder()
        try:
            sms: SmsSender | None = self.sms_sender()
        except SmsNotConfigured:
            sms = None if folder is None else FolderSmsSender(folder)
        try:
            mailer: Mailer | None = self.mailer()
        except MailNotConfigured:
            mailer = None if folder is None else FolderMailer(folder)
        return Senders(sms=sms, email=mailer, webhook=self.webhook_sender())

    @property
    def sandbox_webhook_secret(self) -> bytes:
        """The key the sandbox processor signs its webhooks with."""
        return hashlib.sha256(
            b"saldo sandbox webhooks\x00" + self.settings.secret_key.encode()
        ).digest()

    def payment_providers(self) -> dict[str, PaymentProvider]:
        """The payment processors this instance offers, by name: the sandbox outside
        production, Stripe and Mercado Pago when their credentials are set. (The line's
        balance is not among them: it is paid inside the order's own transaction.)"""
        if self._providers is None:
            self._providers = self._make_providers()
        return self._providers

    def _make_providers(self) -> dict[str, PaymentProvider]:
        settings = self.settings
        providers: dict[str, PaymentProvider] = {}
        if settings.environment != "production":
            from saldo.adapters.payments.sandbox import SandboxProvider

            providers["sandbox"] = SandboxProvider(
                path=self.beside_database(settings.sandbox_path),
                webhook_secret=self.sandbox_webhook_secret,
                clock=self.clock,
                settle_after=timedelta(seconds=settings.sandbox_settle_seconds),
            )
        # The processors' SDKs are imported only when configured: they take longer to load
        # than most commands take to run.
        if settings.stripe_api_key is not None and settings.stripe_webhook_secret is not None:
            from saldo.adapters.payments.stripe import StripeProvider

            providers["stripe"] = StripeProvider(
                api_key=settings.stripe_api_key.get_secret_value(),
                webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            )
        token, secret = settings.mercadopago_access_token, settings.mercadopago_webhook_secret
        if token is not None and secret is not None:
            from saldo.adapters.payments.mercadopago import MercadoPagoProvider

            providers["mercadopago"] = MercadoPagoProvider(
                access_token=token.get_secret_value(),
                webhook_secret=secret.get_secret_value(),
            )
        return providers

    def beside_database(self, configured: str) -> Path:
        """A configured file or folder: as given when absolute; otherwise relative to the
        folder of the SQLite database file (so every process using one database, wherever
        it was started, finds the same one), or to the working directory on PostgreSQL."""
        path = Path(configured).expanduser()
        url = self.engine.url
        database = url.database if url.get_backend_name() == "sqlite" else None
        if path.is_absolute() or not database or database == ":memory:":
            return path
        return Path(database).parent / path

    def element_key_hash(self, key: str) -> str:
        """How a network element's API key is kept: an HMAC with the instance's secret."""
        secret = hashlib.sha256(b"saldo network elements\x00" + self.settings.secret_key.encode())
        return hmac.new(secret.digest(), key.encode(), hashlib.sha256).hexdigest()

    def network_element(self, key: str) -> NetworkElement | None:
        """The network element this API key belongs to (None: unknown or revoked)."""
        if not key:
            return None
        from saldo.services.network_elements import authenticate_element

        return self.run(
            authenticate_element, key_hash=self.element_key_hash(key), now=self.clock.now()
        )

    def at(self, moment: datetime) -> Saldo:
        """This Saldo with its clock stopped at ``moment`` (replaying a day)."""
        return Saldo(
            settings=self.settings,
            engine=self.engine,
            clock=FixedClock(moment),
            replica=self.replica,
        )

    @property
    def database_shown(self) -> str:
        """The database's URL as people may see it (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        upgrade(self.engine)

    def back_up(self, target: Path, *, new_installation: bool = False) -> int:
        """Write a consistent copy of the SQLite database to ``target`` (also while servers
        and workers use it) and return its size in bytes; ``new_installation``: the copy
        gets an installation id of its own. Raises UnableToBackUp, with pg_dump guidance for
        PostgreSQL."""
        from saldo.adapters.db.backup import PG_DUMP_GUIDANCE, UnableToBackUp, back_up_sqlite

        url = self.engine.url
        if url.get_backend_name() != "sqlite":
            raise UnableToBackUp(PG_DUMP_GUIDANCE)
        if not url.database or url.database == ":memory:":
            raise UnableToBackUp("an in-memory database has no file to back up")
        return back_up_sqlite(
            source=Path(url.database), target=target, new_installation=new_installation
        )

    def check_schema(self) -> None:
        """Raise DatabaseNotReady when the database is missing or migrations are pending."""
        url = self.engine.url
        file = url.database if url.get_backend_name() == "sqlite" else None
        if file and file != ":memory:" and not Path(file).exists():
            raise DatabaseNotReady(
                f"no database at {url.database}: run `saldo db upgrade` (or `saldo demo`)"
            )
        if is_up_to_date(self.engine):
            return
        pending = pending_revisions(self.engine)
        if pending:
            raise DatabaseNotReady(
                f"the database needs {len(pending)} migration(s): run `saldo db upgrade`"
            )

    def close(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()


@dataclass
class Reader:
    """What ``saldo balance`` needs of a wired Saldo: running a use case that reads a line
    with its buckets (``BalanceReads``), and the clock. On an SQLite file (``sqlite:///FILE``)
    it reads on the standard library's driver (``saldo.adapters.db.sqlite_reads``), without
    importing SQLAlchemy: that import was the most of what the command cost to start
    (docs/performance.md, "CLI start"). Elsewhere, and to tell what a database that is not
    up to date needs, it makes the whole Saldo (from ``settings()``) and goes through it."""

    database_url: str
    clock: Clock
    settings: Callable[[], Settings]
    _saldo: Saldo | None = field(default=None, init=False, repr=False)

    def run(
        self,
        use_case: Callable[Concatenate[BalanceReads, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """``Saldo.run`` for a use case that only reads a line with its buckets."""
        from saldo.adapters.db.sqlite_reads import SqliteReader, sqlite_file

        file = sqlite_file(self.database_url)
        if file is None:
            return self._whole().run(use_case, *args, **kwargs)
        return use_case(SqliteReader(file), *args, **kwargs)

    def check_schema(self) -> None:
        """``Saldo.check_schema``: raise DatabaseNotReady when the database is missing or
        migrations are pending."""
        from saldo.adapters.db.sqlite_reads import SqliteReader, sqlite_file

        file = sqlite_file(self.database_url)
        reader = SqliteReader(file) if file is not None and Path(file).exists() else None
        if reader is None or not reader.is_up_to_date(newest_revision()):
            self._whole().check_schema()

    def _whole(self) -> Saldo:
        if self._saldo is None:
            self._saldo = bootstrap(self.settings(), clock=self.clock)
        return self._saldo

    def close(self) -> None:
        if self._saldo is not None:
            self._saldo.close()


def bootstrap_reader(*, database_url: str | None = None) -> Reader:
    """A ``Reader`` of the configured database, or of ``database_url`` (nothing is opened
    yet). The settings are validated as ``bootstrap`` validates them; when they are certainly
    valid they are read without Pydantic (``saldo.plain_settings``) and the whole ``Settings``
    is made only if the whole Saldo is needed."""
    from saldo.plain_settings import plain_settings

    plain = plain_settings(database_url=database_url)
    if plain is None:
        settings = _settings(database_url)
        return Reader(
            database_url=settings.database_url,
            clock=_clock(settings),
            settings=lambda: settings,
        )
    return Reader(
        database_url=plain.database_url,
        clock=SystemClock() if plain.frozen_now is None else FixedClock(plain.frozen_now),
        settings=functools.partial(_settings, database_url),
    )


def _settings(database_url: str | None) -> Settings:
    from saldo.config import Settings

    if database_url is None:
        return Settings()
    # A read replica configured in the environment belongs to the environment's database.
    return Settings(database_url=database_url, read_database_url=None)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Saldo:
    from saldo.adapters.db.engine import make_engine, make_replica_engine

    settings = settings or _settings(None)
    replica = settings.read_database_url
    return Saldo(
        settings=settings,
        engine=make_engine(settings.database_url),
        clock=clock or _clock(settings),
        replica=make_replica_engine(replica) if replica else None,
    )


def _clock(settings: Settings) -> Clock:
    if settings.frozen_now is not None:
        return FixedClock(settings.frozen_now)
    return SystemClock()


def parse_rates_file(
    path: Path, *, fmt: str | None, source: str | None, now: datetime
) -> list[ExchangeRate]:
    """The exchange rates in a file: the ECB's daily XML, CSV or JSON (see
    ``saldo.adapters.fx.files.read_rates_file``; ``fmt`` None sniffs the format). Channels
    reach the file adapters through here. Raises UnreadableRateFile or InvalidRate."""
    from saldo.adapters.fx.files import read_rates_file

    return read_rates_file(path, fmt=fmt, source=source, now=now)
