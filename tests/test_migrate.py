"""Migrations: the schema's revision is read without Alembic; Alembic is imported only when it is behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


from bot.store import Store, migrate

ROOT = Path(__file__).resolve().parent.parent


def test_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrate.MIGRATIONS))
    assert migrate.head() == scripts.get_current_head()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_upgrade_brings_a_database_behind_to_the_head_and_then_has_nothing_to_do(databases: Any, kind: str) -> None:
    store, _, _ = await databases.open(kind, revision="0009")
    assert await migrate.current(store) == "0009"
    assert not await migrate.is_current(store)
    await migrate.upgrade(store)
    assert await migrate.current(store) == migrate.head()
    assert await migrate.is_current(store)


async def test_current_is_none_for_an_empty_database(tmp_path: Path) -> None:
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await migrate.current(store) is None
    finally:
        await store.close()


def test_an_up_to_date_schema_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    """What a long-running `secbot serve` does at start: it never holds Alembic, Mako and Pygments."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    subprocess.run([sys.executable, "-m", "bot", "migrate"], check=True, cwd=ROOT, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url})
    code = (
        "import asyncio, sys\n"
        "from bot.store import Store, migrate\n"
        "async def main():\n"
        f"    store = Store.open({'sqlite+aiosqlite:///' + str(tmp_path / 'db.sqlite')!r})\n"
        "    await migrate.upgrade(store)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', 'pygments'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
