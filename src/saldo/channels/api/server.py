"""Running the HTTP application with uvicorn."""

from __future__ import annotations

import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app


def serve(saldo: Saldo, *, host: str, port: int) -> None:
    uvicorn.run(create_app(saldo), host=host, port=port, log_level=saldo.settings.log_level)
