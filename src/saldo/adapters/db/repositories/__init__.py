"""Repositories over SQLAlchemy Core, one module per aggregate. The hot paths (top-up,
balance inquiry) run prepared statements (``saldo.adapters.db.prepared``).

The unit of work imports each module itself (``saldo.adapters.db.unit_of_work``): this
package imports none of them, so that a command imports only the repositories it uses."""
