"""Writes a Saldo database one migration behind the code, for docs/cli.md's `old.db`."""

import sys

from alembic.script import ScriptDirectory

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import alembic_config, upgrade

engine = make_engine(sys.argv[1])
head = ScriptDirectory.from_config(alembic_config(engine)).get_revision("head")
assert head is not None and isinstance(head.down_revision, str)
upgrade(engine, revision=head.down_revision)
