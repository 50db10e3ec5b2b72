"""Rendering the portal's pages: Jinja2 templates (``templates/``, autoescaped) given the
page's language, its texts through the i18n catalogs, the form token and the data the route
prepared; every answer carries the headers that keep it private and framed by nobody."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse

from saldo.i18n import LANGUAGES, translate

_HERE = Path(__file__).parent
# Scripts and styles come from the package only; no page may be framed or post elsewhere.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The switcher names each language in itself.
LANGUAGE_NAMES: Final = {
    "es": "Español",
    "fr": "Français",
    "nl": "Nederlands",
    "en": "English",
    "zh": "中文",
}
HTML_LANG: Final = {"es": "es", "fr": "fr", "nl": "nl", "en": "en", "zh": "zh-Hans"}


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the signed-in menu: the portal's other pages add theirs here."""

    key: str  # its text in the catalogs
    href: str
    section: str  # the page it marks as current


# The signed-in menu. Top-up, renewal, statements and settings pages join it as they come.
NAV: Final = (
    NavItem("portal_nav_lines", "/", "lines"),
    NavItem("portal_nav_add_line", "/add-line", "add_line"),
)


class Pages:
    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates are the package's own and do not change under a running
            # server: each is compiled once, without a stat() of its file per page.
            auto_reload=False,
        )

    def render(
        self,
        template: str,
        *,
        language: str,
        csrf: str,
        status: int = 200,
        path: str = "/",
        signed_in: bool = False,
        section: str = "",
        context: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """The page ``template`` in ``language``; ``path`` is where the language switcher
        comes back to, ``section`` the menu entry marked as current."""
        body = self._env.get_template(template).render(
            t=partial(translate, language=language),
            language=language,
            html_lang=HTML_LANG[language],
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            csrf=csrf,
            path=path,
            signed_in=signed_in,
            section=section,
            nav=NAV if signed_in else (),
            **(context or {}),
        )
        return HTMLResponse(
            body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
        )


def see_other(location: str) -> RedirectResponse:
    """After a form: the page to show next (303, so reloading it posts nothing again)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)
