"""The durable store: everything Secbot keeps, in SQLite (the default) or PostgreSQL.

    database.py      `Store`: the engine, reads, write transactions, upserts
    backend.py       the queue's hot path: its interface, and the implementation on the engine
    tables.py        the schema;  migrate.py, migrations/: Alembic
    reports.py       report records and their timelines
    ledger.py        once-only writes: claimed, then recorded with what they made
    facts.py         what was learnt from GitHub, kept for a while
    triage.py        the triage card of each report
    installations.py installations and the repositories they cover
    sqlite/          SQLite on a file: the writer process, its client, the queue's backend on it,
                     the WAL checkpointer, the reads' threads
"""

from bot.store import tables
from bot.store.database import Store
from bot.store.sqlite.client import DirectStatement, WriterGone
from bot.store.tables import metadata

__all__ = ["Store", "DirectStatement", "WriterGone", "tables", "metadata"]
