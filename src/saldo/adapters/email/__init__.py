"""Sending email: over SMTP (``smtp``), or into memory for tests (``fake``). Both implement
``saldo.services.ports.mail.Mailer``."""
