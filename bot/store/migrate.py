"""Apply the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bot.store import Store

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x5EC_B07  # advisory lock id: replicas starting together migrate one at a time


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run from several processes at once."""
    async with store.write() as conn:
        if store.dialect == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))


async def current(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with store.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
