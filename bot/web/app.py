"""create_app(settings): the aiohttp application, its resources in cleanup contexts."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from gidgethub import routing

from bot import logs
from bot.clock import Clock, SystemClock
from bot.jobs import housekeeping, process
from bot.jobs.dispatch import Dispatcher, JobHandler
from bot.jobs.intake import Intake
from bot.jobs.worker import Workers
from bot.settings import Settings, SettingsError
from bot.store import Store
from bot.store import migrate
from bot.web import badge, metrics, webhook
from bot.web.keys import (CLOCK, GITHUB, INTAKE, METRICS, RECEIVER, SERVICES, SESSION, SETTINGS, STORE,
                          WORKER_PROCESSES, WORKERS)

log = logs.get("secbot.app")


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    routers: Sequence[routing.Router] = (),
    jobs: Mapping[str, JobHandler] | None = None,
    handlers: Callable[[], tuple[Sequence[routing.Router], Mapping[str, JobHandler]]] | None = None,
    workers: bool = True,
    worker_processes: int = 0,
    worker_command: Sequence[str] | None = None,
    migrate_apart: bool = False,
    taken: Callable[[str, str | None], bool] | None = None,
) -> web.Application:
    """Build the app around the webhook `routers` and scheduled `jobs` it is given (the CLI
    gives `handlers.ROUTERS` and `handlers.JOBS`), or around those `handlers` returns, called only
    if the jobs run in this process: with worker processes, the server never imports the
    handlers, the rules and the templates they use. Nothing connects until the app starts (see
    the cleanup contexts). `workers`: run jobs at all; `worker_processes`: in that many
    processes of their own (`secbot work`, bot/jobs/process.py), 0: on this event loop.
    `migrate_apart`: a schema that is behind is upgraded by a `secbot migrate` process, so that
    this long-running one never imports Alembic (`secbot serve`); otherwise here. `taken`: which
    deliveries (event, action) a handler takes, the others being stored as done and never claimed
    (the CLI gives `bot.rules.lanes.taken`, the table of `handlers/`); None: all are queued."""
    logs.quiet_libraries()
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = metrics.Metrics()
    app[RECEIVER] = webhook.Receiver(settings, taken)
    app.router.add_post("/webhook", webhook.receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    # GET /metrics is not here: it shows report counts, so it has a listener of its own
    # (`metrics_listener`), on 127.0.0.1 unless the operator says otherwise.
    app.router.add_get("/setup/installed", _installed)  # GitHub's setup_url, after an install
    badge.routes(app)  # public response-time figures, from the store only (after CLOCK is set)
    processes = worker_processes if workers else 0
    app.cleanup_ctx.append(_store(processes, migrate_apart))
    app.cleanup_ctx.append(_github(apart=bool(workers and processes)))
    given = (list(routers), dict(jobs or {}))
    app.cleanup_ctx.append(_engine(handlers or (lambda: given), workers, processes,
                                   list(worker_command or process.worker_command())))
    return app


def server_options(settings: Settings) -> dict[str, Any]:
    """aiohttp's options for every listener `secbot serve` opens (`web.run_app`, `web.AppRunner`).

    keepalive_timeout: a connection must send a whole request's headers within the read timeout
    of connecting or of its previous answer (aiohttp >= 3.14.4 counts it from the connection's
    start); the webhook view bounds the body the same way. lingering_time: after a refusal,
    what is left of a body is read and dropped for at most this long, then the connection is
    closed. auto_decompress: never inflate a body (GitHub sends none compressed; the webhook
    view refuses a Content-Encoding before reading)."""
    return {
        "keepalive_timeout": settings.read_timeout,
        "lingering_time": min(2.0, settings.read_timeout),
        "auto_decompress": False,
    }


def metrics_listener(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context for the app that serves its GET /metrics on SECBOT_METRICS_HOST and
    SECBOT_METRICS_PORT (default 127.0.0.1:3001), apart from the webhook port."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(metrics.create_metrics_app(app), access_log=None, shutdown_timeout=1,
                               **server_options(settings))
        await runner.setup()
        site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SettingsError(f"SECBOT_METRICS_PORT: cannot listen on {settings.metrics_host}:{settings.metrics_port} "
                                f"({exc.strerror or type(exc).__name__}); choose another port, or off") from None
        host, port = runner.addresses[0][:2]
        log.info("metrics served apart from webhooks", extra={"metrics_url": f"http://{host}:{port}/metrics"})
        yield
        await runner.cleanup()

    return ctx


async def _migrate_apart(settings: Settings) -> None:
    """Run `secbot migrate` in a process of its own, on this server's database, and wait for it."""
    env = dict(os.environ, DATABASE_URL=settings.database_url)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "migrate", env=env,
                                                stdout=asyncio.subprocess.DEVNULL)
    code = await proc.wait()
    if code != 0:
        raise RuntimeError(f"secbot migrate failed (exit code {code}); its messages are above")
    log.info("database schema upgraded by secbot migrate")


def _store(processes: int, migrate_apart: bool):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        url = app[SETTINGS].database_url
        # With worker processes on SQLite on a file, its writer takes their connections too, on a
        # socket in a directory of this user's only (what goes over it is trusted).
        shared = tempfile.mkdtemp(prefix="secbot-") if processes and url.startswith("sqlite") else None
        store = Store.open(url, share_writer=os.path.join(shared, "writer.sock") if shared else None)
        try:
            if migrate_apart and not await migrate.is_current(store):
                await _migrate_apart(app[SETTINGS])
            await migrate.upgrade(store)  # reads the revision; Alembic only if still behind
            app[STORE] = store
            yield
        finally:
            await store.close()
            if shared is not None:
                shutil.rmtree(shared, ignore_errors=True)

    return ctx


def _github(apart: bool):  # type: ignore[no-untyped-def]
    """The App's client. `apart`: the jobs run in worker processes: JWTs are signed by short-lived
    processes (see `GitHubApp`), so that cryptography and PyJWT stay out of the memory of this
    server and of its workers; the key is checked at start all the same (a bad one stops it)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))
        app[SESSION] = session
        github = process.github_app(app[SETTINGS], session, app[CLOCK], app[STORE], sign_apart=apart)
        if github is not None:
            if apart:
                try:
                    await github.check_key()
                except BaseException:
                    await session.close()
                    raise
            app[GITHUB] = github
        yield
        await session.close()

    return ctx


def _engine(handlers: Callable[[], tuple[Sequence[routing.Router], Mapping[str, JobHandler]]],  # type: ignore[no-untyped-def]
            start_workers: bool, processes: int, command: list[str]):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        github = app.get(GITHUB)
        services = process.services(settings, app[STORE], app[CLOCK], app[SESSION], github)
        queue = services.queue
        processes_now = processes
        if processes and app[STORE].dialect == "sqlite" and not app[STORE].shares_writer:
            log.warning("worker processes need SQLite on a file or PostgreSQL; the workers run in the server's process")
            processes_now = 0
        # Learnt in the background: the webhook is answered and the workers run meanwhile (GitHub
        # unreachable at start would otherwise hold the server through the client's retries). A
        # write that needs it before then asks for it itself (bot/reports/writes.bot_login).
        # Worker processes learn it for themselves.
        learning = (asyncio.get_running_loop().create_task(process.learn_bot_login(services))
                    if github is not None and not (start_workers and processes_now) else None)
        app[SERVICES] = services
        intake = Intake(queue)
        app[INTAKE] = intake
        children: process.WorkerProcesses | None = None
        surging: asyncio.Task[None] | None = None  # surge worker processes for a backlog (bot/jobs/process.py)
        pool: Workers | None = None
        if start_workers and processes_now:
            # The worker processes import the handlers, run the jobs and schedule housekeeping.
            await app[STORE].start_writer()  # listening before the workers connect
            env = dict(os.environ)
            if app[STORE].writer_socket is not None:
                env[process.WRITER_SOCKET] = app[STORE].writer_socket
            env.update(process.CHILD_ENV)
            children = process.WorkerProcesses(processes_now, command, env, on_tally=app[METRICS].from_worker,
                                               on_exit=app[METRICS].worker_gone, on_broken=_stop_serving,
                                               surge=settings.surge_processes)
            intake.on_stored = lambda: children.wake(busy=intake.busy())
            app[WORKER_PROCESSES] = children
            await children.start()
            if settings.surge_processes:
                surging = asyncio.create_task(
                    children.watch_backlog(queue.due, settings.surge_backlog, busy=intake.busy), name="secbot-surge")
        else:
            routers, jobs = handlers()
            dispatcher = Dispatcher(services, list(routers), dict(jobs))
            pool = Workers(queue, app[METRICS].timed(dispatcher.run), concurrency=settings.workers,
                           poll_interval=settings.poll_interval, intake_busy=intake.busy)
            intake.on_stored = pool.wake
            app[WORKERS] = pool
            if start_workers:
                if housekeeping.KIND in jobs:
                    # One pending housekeeping job, shared by replicas: due a day after start at
                    # the latest (restarts never push it further away).
                    await housekeeping.schedule(queue, app[CLOCK].now() + housekeeping.EVERY)
                await pool.start()
        yield
        if learning is not None:
            learning.cancel()
            await asyncio.gather(learning, return_exceptions=True)
        if surging is not None:
            surging.cancel()
            await asyncio.gather(surging, return_exceptions=True)
        if children is not None:
            await children.stop()
        elif start_workers and pool is not None:
            await pool.stop()
        await app[INTAKE].drain()

    return ctx


def _stop_serving() -> None:
    """Stop `secbot serve` as a signal would (web.run_app ends on GracefulExit, its requests answered)."""

    def stop() -> None:
        raise web.GracefulExit()

    asyncio.get_running_loop().call_soon(stop)


async def _installed(request: web.Request) -> web.Response:
    """bot.web.setup_page.installed, imported when GitHub first sends someone there (it brings
    Jinja2 and YAML, which a running server has no other use for)."""
    from bot.web import setup_page

    return await setup_page.installed(request)


async def healthz(request: web.Request) -> web.Response:
    ok = await request.app[STORE].ping()
    return web.json_response({"ok": ok, "store": "up" if ok else "down"}, status=200 if ok else 503)


async def index(request: web.Request) -> web.Response:
    return web.Response(text="Secbot is running. Webhooks go to POST /webhook.\n")
