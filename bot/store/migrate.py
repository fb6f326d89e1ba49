"""Apply the Alembic migrations that ship inside the package.

Alembic (with Mako and Pygments, about 11 MB resident) is imported only when the schema is
behind: `upgrade` first reads the revision the database is at and compares it with the newest
migration file, read without Alembic. A long-running `secbot serve` whose schema is up to date
never holds it; `serve` runs an upgrade it does need in a short-lived `secbot migrate` of its
own (bot/web/app.py), so it does not hold it then either.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.store import Store

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x5EC_B07  # advisory lock id: replicas starting together migrate one at a time
_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*["']?([\w]+)["']?""", re.M)


def _config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """The newest revision among the migration files (read as text: no Alembic needed): the one
    no other file names as its `down_revision`."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION.findall(path.read_text(encoding="utf-8")))
        revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            downs.add(found["down_revision"])
    heads = revisions - downs
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def current(store: Store) -> str | None:
    """The revision the database is at (None: no schema yet), read without Alembic."""
    async with store.engine.connect() as conn:
        try:
            rows = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
        except sa.exc.DBAPIError:  # no table: a new database
            return None
    return rows[0][0] if len(rows) == 1 else None


async def is_current(store: Store) -> bool:
    """The schema is at the newest revision: `upgrade` has nothing to do."""
    return await current(store) == head()


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run from several processes at once."""
    if revision in ("head", head()) and await is_current(store):
        return
    from alembic import command

    async with store.write() as conn:
        if store.dialect == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))
