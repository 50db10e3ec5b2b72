"""Sending email: over SMTP (``smtp``), or into memory for tests (``fake``). Both implement
``saldo.services.mail_port.Mailer``."""
