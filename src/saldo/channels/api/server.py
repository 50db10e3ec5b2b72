"""Running the HTTP application with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app


class WithoutQueryStrings(logging.Filter):
    """Access log lines keep the path and drop the query string: on the gateway endpoints it
    carries subscribers' numbers, voucher PINs and the gateway token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        return True


def serve(saldo: Saldo, *, host: str, port: int) -> None:
    config = uvicorn.Config(
        create_app(saldo), host=host, port=port, log_level=saldo.settings.log_level
    )
    # uvicorn has set its loggers up by now (Config does it); the filter goes on top.
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryStrings())
    uvicorn.Server(config).run()
