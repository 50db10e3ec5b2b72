"""The HTTP application: health, Prometheus metrics, payment webhooks, the app API and the
OpenAPI description. Channel endpoints (SMS, USSD, app API) are added here by their own
modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from saldo import __version__
from saldo.bootstrap import Saldo
from saldo.channels.api.app_api import app_router
from saldo.channels.api.charging import Unauthorized, charging_router, unauthorized
from saldo.channels.api.errors import http_error, invalid_request, methods_of_path
from saldo.channels.api.gateways import GatewayRouter
from saldo.channels.api.openapi import describe
from saldo.channels.api.webhooks import webhook_router
from saldo.channels.web import mount_portal
from saldo.services.health import count_lines, database_answers

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str | None = None  # when ok
    error: str | None = None  # when unavailable: the kind of database failure


class LinesCollector(Collector):
    """``saldo_lines{operator, state}``, counted from the database at each scrape, each line
    in the state ``saldo lines list`` shows."""

    def __init__(self, saldo: Saldo) -> None:
        self._saldo = saldo

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "saldo_lines", "Subscriber lines by operator and state", labels=["operator", "state"]
        )
        for row in self._saldo.run(count_lines, now=self._saldo.clock.now()):
            gauge.add_metric([row.operator, row.state.value], row.count)
        yield gauge


def create_app(saldo: Saldo) -> GatewayRouter:
    """Saldo's HTTP application: the gateway endpoints in front, the FastAPI app behind."""
    return GatewayRouter(saldo, create_api(saldo))


def create_api(saldo: Saldo) -> FastAPI:
    app = FastAPI(
        title="Saldo",
        version=__version__,
        description="Prepaid balances, validity and top-ups for mobile operators.",
    )
    registry = CollectorRegistry()
    registry.register(LinesCollector(saldo))

    app.openapi = lambda: describe(app)  # type: ignore[method-assign]

    @app.get(
        "/healthz",
        tags=["operations"],
        response_model=Health,
        responses={503: {"model": Health, "description": "The database does not answer"}},
    )
    def healthz() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            saldo.run(database_answers)
        except Exception as error:  # any database failure means "not healthy"
            return JSONResponse({"status": "unavailable", "error": type(error).__name__}, 503)
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus text exposition format."""
        return PlainTextResponse(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    app.include_router(webhook_router(saldo))
    app.include_router(charging_router(saldo))
    app.include_router(app_router(saldo))
    mount_portal(app, saldo)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_request: object, _error: Unauthorized) -> JSONResponse:
        return unauthorized()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: object, error: RequestValidationError) -> JSONResponse:
        return invalid_request(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        allowed = None
        if error.status_code == 405:
            allowed = methods_of_path(describe(app)["paths"], request.url.path)
        return http_error(error, allowed=allowed)

    return app
