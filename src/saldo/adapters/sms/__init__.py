"""Sending SMS: through Kannel's sendsms HTTP interface (``kannel``), or into memory for tests
(``fake``). Both implement ``saldo.services.ports.sms.SmsSender``."""
