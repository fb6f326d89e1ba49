"""`secbot serve` with one extra router whose handler records each run in the database.

Process-level tests (kill -9, several replicas) start this instead of the console script so
they can count how often each delivery's handler ran; everything else is the real server.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys

import sqlalchemy as sa
from gidgethub import routing, sansio

import handlers
from bot import logs
from bot.__main__ import serve
from bot.jobs.context import Context
from bot.settings import Settings

probe = routing.Router()
RUN_SECONDS = float(os.environ.get("PROBE_RUN_SECONDS", "0"))
GROW_MB = int(os.environ.get("PROBE_GROW_MB", "0"))  # megabytes each run keeps for good (a growing worker)
kept: list[bytes] = []


@probe.register("probe")
async def on_probe(event: sansio.Event, ctx: Context) -> None:
    """Log the start, take a while, then record the effect (once per delivery)."""
    async with ctx.store.write() as conn:
        await conn.execute(sa.text("INSERT INTO probe_starts (delivery_id, pid) VALUES (:d, :p)"),
                           {"d": event.delivery_id, "p": os.getpid()})
    if RUN_SECONDS:
        await asyncio.sleep(RUN_SECONDS)
    if GROW_MB:
        kept.append(b"g" * (GROW_MB << 20))
    # Idempotent, as every handler must be: a job killed between its effect and the record of its
    # completion is still in flight, and runs again (the starts count how often each job ran).
    async with ctx.store.write() as conn:
        await conn.execute(sa.text("INSERT INTO probe_effects (delivery_id, pid) VALUES (:d, :p) "
                                   "ON CONFLICT (delivery_id) DO NOTHING"),
                           {"d": event.delivery_id, "p": os.getpid()})


if __name__ == "__main__":
    settings = Settings.from_env()
    logs.setup(settings.log_level, settings.log_format)
    routers = [*handlers.ROUTERS, probe]
    if sys.argv[1:] == ["work"]:  # a worker process of the server below
        if os.environ.get("PROBE_WORKER_FAILS"):  # as a worker whose handler module is broken
            sys.exit("probe: a worker process that cannot start")
        if os.environ.get("PROBE_ONLY_FIRST_WORKER"):  # every worker after the first cannot start
            try:
                with open(os.environ["PROBE_ONLY_FIRST_WORKER"], "x"):
                    pass
            except FileExistsError:
                sys.exit("probe: a later worker process that cannot start")
        from bot import heap
        from bot.jobs.process import WRITER_SOCKET, run_worker_process

        if os.environ.get("PROBE_BURST"):  # a burst is over after this many jobs and 0.3 s without one
            heap.Idle = functools.partial(heap.Idle, every=int(os.environ["PROBE_BURST"]), quiet=0.3)  # type: ignore[misc]
        asyncio.run(run_worker_process(settings, routers=routers, jobs=handlers.JOBS,
                                       writer_socket=os.environ.get(WRITER_SOCKET)))
        sys.exit(0)
    # PROBE_WORKER_PROCESSES: `secbot serve --workers-processes N`, each worker this script too.
    processes = int(os.environ.get("PROBE_WORKER_PROCESSES", "0"))
    sys.exit(serve(settings, routers=routers, jobs=handlers.JOBS, worker_processes=processes,
                   worker_command=[sys.executable, __file__, "work"]))
