"""The subscriber portal, "My account" (issue 14; docs/portal.md): server-rendered pages at
``/`` of the HTTP application, in five languages, that work without JavaScript (HTMX, served
from ``static/``, only spares full page loads).

- ``routes``: the pages and forms, one use-case call each;
- ``session``: the session cookie, the forms' CSRF tokens, the language cookie;
- ``views``: use-case views made into what the templates print;
- ``pages``: the Jinja2 templates and the headers every page carries;
- ``language``: which language a page speaks, and the locale of a line's amounts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from saldo.bootstrap import Saldo
from saldo.channels.web.routes import portal_router

STATIC = Path(__file__).parent / "static"


def mount_portal(app: FastAPI, saldo: Saldo) -> None:
    """Add the portal's pages and its static files (``/static/portal/``) to ``app``."""
    app.include_router(portal_router(saldo))
    app.mount("/static/portal", StaticFiles(directory=STATIC), name="portal-static")
