"""Store reads (`Store.read`, `first`, `point`, `all`, `scalar`) and one-statement writes (`Store.execute`), on
SQLite on a file and PostgreSQL."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from bot.store import Store
from bot.store.tables import facts
from tests.conftest import Databases


async def _keep(store: Store, key: str, value: str) -> None:
    async with store.write() as conn:
        await conn.execute(sa.insert(facts).values(key=key, value=value, expires_at=1e12))


async def test_reads_see_what_was_committed(store: Store) -> None:
    await _keep(store, "a", '"1"')
    await _keep(store, "b", '"2"')
    values = sa.select(facts.c.value).order_by(facts.c.key)
    assert (await store.first(values))[0] == '"1"'
    assert [r[0] for r in await store.all(values)] == ['"1"', '"2"']
    assert await store.scalar(sa.select(sa.func.count()).select_from(facts)) == 2
    assert await store.first(values.where(facts.c.key == "c")) is None

    def both(conn: sa.Connection) -> tuple[int, int]:  # several statements, one transaction
        return (conn.execute(sa.select(sa.func.count()).select_from(facts)).scalar_one(),
                len(conn.execute(values).all()))

    assert await store.read(both) == (2, 2)


async def test_a_read_of_sqlite_on_a_file_runs_whole_on_a_reader_thread(databases: Databases) -> None:
    store, _, _ = await databases.open("sqlite")
    names = await store.read(lambda conn: (threading.current_thread().name, conn.execute(sa.select(1)).scalar()))
    assert names[0].startswith("secbot-read") and names[0] != threading.current_thread().name
    assert names[1] == 1


async def test_a_point_read_finds_its_row_and_on_sqlite_on_a_file_runs_on_the_callers_thread(
        store: Store, databases: Databases) -> None:
    await _keep(store, "a", '"1"')
    by_key = sa.select(facts.c.value).where(facts.c.key == sa.bindparam("key"))
    assert (await store.point(by_key, {"key": "a"}))[0] == '"1"'
    assert await store.point(by_key, {"key": "b"}) is None

    # No hand-off to a reader thread (it costs more than the read), and no transaction left open.
    sqlite, _, _ = await databases.open("sqlite")
    await _keep(sqlite, "p", '"2"')
    seen: list[str] = []
    sa.event.listen(sqlite._reader.engine, "before_cursor_execute",  # type: ignore[union-attr]
                    lambda *_: seen.append(threading.current_thread().name))
    assert (await sqlite.point(by_key, {"key": "p"}))[0] == '"2"'
    assert seen == [threading.current_thread().name]
    assert (await sqlite.first(by_key, {"key": "p"}))[0] == '"2"'
    assert seen[1].startswith("secbot-read")


async def test_a_write_statement_returns_its_row_count_and_is_committed(store: Store) -> None:
    await _keep(store, "a", '"1"')
    await _keep(store, "b", '"2"')
    assert await store.execute(sa.update(facts).where(facts.c.key.in_(["a", "b", "c"])).values(value='"3"')) == 2
    assert await store.execute(store.insert_ignore(facts, ["key"]).values(key="a", value='"4"', expires_at=1.0)) == 0
    assert [r[0] for r in await store.all(sa.select(facts.c.value).order_by(facts.c.key))] == ['"3"', '"3"']


async def test_a_write_statement_on_sqlite_on_a_file_shares_the_writers_commit(databases: Databases) -> None:
    # It is a call of the writer process: the writer is not paused for it, as `Store.write` does.
    store, _, _ = await databases.open("sqlite")
    assert store._writer is not None

    def no_pause() -> None:
        raise AssertionError("the writer was paused")

    store._writer.pause = no_pause  # type: ignore[method-assign]
    assert await store.execute(sa.insert(facts).values(key="k", value='"v"', expires_at=1.0)) == 1
    assert await store.scalar(sa.select(facts.c.value)) == '"v"'


async def test_a_read_of_one_statement_needs_no_transaction_of_its_own_and_a_longer_read_has_one(
        databases: Databases) -> None:
    # `first`, `all` and `scalar` run one SELECT, a snapshot by itself in SQLite: no BEGIN and
    # ROLLBACK around it (half the cost of a point read); `read` of several statements is one
    # transaction, so they see one snapshot.
    store, _, _ = await databases.open("sqlite")
    assert store._reader is not None

    def open_transaction(conn: sa.Connection) -> bool:
        conn.execute(sa.select(1)).scalar()
        return conn.connection.driver_connection.in_transaction  # type: ignore[union-attr]

    assert await store._reader.run(open_transaction, single=True) is False
    assert await store._reader.run(open_transaction) is True
    assert await store.read(open_transaction) is True
