"""Operator webhooks: posted over HTTP with the standard library (``http``), or kept in memory
for tests (``fake``). Both implement ``saldo.services.ports.webhooks.WebhookSender``."""
