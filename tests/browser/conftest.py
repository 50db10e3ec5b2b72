"""Browser journeys through the portal: Debian's chromium driven by the ``playwright``
package (never a downloaded browser) against Saldo served by uvicorn on a free 127.0.0.1
port, on SQLite and PostgreSQL. Each step is checked with axe (no serious or critical
violation) and photographed on a phone (390×844) and a desktop (1280×800) under
``test-output/screenshots/``, named by journey, database and step."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.config import Settings
from saldo.services.outbox import deliver_outbox, outbox_messages
from tests.conftest import NOW, load_catalog
from tests.serving import serving

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SERIOUS = ("serious", "critical")
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "no /usr/bin/chromium: install Debian's chromium (scripts/install-system-deps.sh)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@dataclass
class Portal:
    """Saldo served on loopback in development (its SMS written to ``outbox``), and what a
    journey records: the database it runs on, and the steps photographed."""

    saldo: Saldo
    url: str
    outbox: Path
    database: str
    journey: str = ""
    steps: list[str] = field(default_factory=list)

    def code_sent_to(self, msisdn: str) -> str:
        """Deliver the outbox as the worker would (to the folder, as the demo does) and read
        the code in the last SMS written for ``msisdn``."""
        # The server sends a code right after answering; until it is written, the message is
        # pending (or claimed by the server), and a pass as the worker's would send it.
        render = notification_renderer(webhook_secret=self.saldo.webhook_secret)
        for _ in range(100):
            deliver_outbox(
                self.saldo.uow(),
                senders=self.saldo.notification_senders(),
                render=render,
                now=self.saldo.clock.now(),
            )
            waiting = outbox_messages(self.saldo.uow(), state="pending", limit=100)
            if not [message for message in waiting if message.recipient == msisdn]:
                break
            time.sleep(0.05)
        written = sorted(self.outbox.glob("*.sms.txt"), key=lambda path: path.stat().st_mtime)
        for path in reversed(written):
            headers, _, body = path.read_text(encoding="utf-8").partition("\n\n")
            if f"To: {msisdn}" in headers.splitlines():
                found = _CODE.findall(body)
                assert len(found) == 1, body
                return str(found[0])
        raise AssertionError(f"no SMS to {msisdn} in {self.outbox}")

    def check(self, page: Any, step: str, *, without_javascript: Any = None) -> None:
        """Run axe on the page (fail on a serious or critical violation) and photograph it
        on a phone and on a desktop. axe is a script: for a page with JavaScript off, give
        the browser as ``without_javascript`` and the same address is audited, with the
        same cookies, in a page of its own."""
        page.wait_for_load_state("load")
        if without_javascript is None:
            _audit(page, step)
        else:
            context = without_javascript.new_context(
                viewport=PHONE, storage_state=page.context.storage_state()
            )
            try:
                audited = context.new_page()
                audited.goto(page.url)
                _audit(audited, step)
            finally:
                context.close()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = f"{self.journey}-{self.database}-{len(self.steps) + 1:02d}-{step}"
        page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        self.steps.append(step)


def _audit(page: Any, step: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert serious == [], f"{step}: {results.generate_report()}"


@pytest.fixture
def portal(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Portal]:
    """The portal on each database, with the demo operators loaded, at a fixed time."""
    outbox = tmp_path / "outbox"
    settings = Settings(
        database_url=database_url, environment="development", outbox_folder=str(outbox)
    )
    saldo = Saldo(settings=settings, engine=make_engine(database_url), clock=FixedClock(NOW))
    load_catalog(saldo)
    database = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    try:
        with serving(saldo) as url:
            yield Portal(saldo=saldo, url=url, outbox=outbox, database=database)
    finally:
        saldo.close()
        shutil.rmtree(outbox, ignore_errors=True)


@pytest.fixture
def phone(browser: Any, portal: Portal) -> Iterator[Any]:
    """A new phone-sized page (its own cookies), JavaScript on."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
