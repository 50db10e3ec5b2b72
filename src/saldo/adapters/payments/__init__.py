"""Taking payments: a local sandbox (``sandbox``), Stripe (``stripe``) and Mercado Pago
(``mercadopago``), each a ``saldo.services.ports.payments.PaymentProvider``."""
