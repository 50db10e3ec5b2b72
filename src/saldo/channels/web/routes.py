"""The portal's routes (docs/portal.md), one module per part of the site:

- ``routes_access``: signing in with a code sent by SMS, signing out, the language;
- ``routes_lines``: the account's lines, a line's page, adding and taking off a line;
- ``routes_history``: a line's daily use, movements, statements, plan and advice.

Every route makes at most one use-case call (``Portal.run`` / ``Portal.signed_in``) and renders
what it returns. Every POST first checks its form's ``csrf`` field (``Portal.form``): without
the right one it is a 403 page and nothing is called. A page that needs a session and finds
none, or one that opens nothing any more, sends the browser to the sign-in page.
"""

from __future__ import annotations

from fastapi import APIRouter

from saldo.bootstrap import Saldo
from saldo.channels.web.kit import Portal
from saldo.channels.web.routes_access import access_routes
from saldo.channels.web.routes_history import history_routes
from saldo.channels.web.routes_lines import lines_routes


def portal_router(saldo: Saldo) -> APIRouter:
    """The portal's pages, for ``create_api`` (not in the OpenAPI: they answer HTML)."""
    portal = Portal.of(saldo)
    router = APIRouter(include_in_schema=False)
    for part in (lines_routes, access_routes, history_routes):
        router.include_router(part(portal))
    return router
