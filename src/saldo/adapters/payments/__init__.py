"""Taking payments: a local sandbox (``sandbox``), Stripe (``stripe``) and Mercado Pago
(``mercadopago``), each a ``saldo.services.payment_port.PaymentProvider``."""
