"""Workers inside `secbot serve`: claim due jobs under a lease, run them, record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from bot import heap, logs
from bot.errors import RateLimited, describe_error
from bot.jobs.queue import Job, Queue

log = logs.get("secbot.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Workers:
    """A pool of at most `concurrency` jobs in flight, fed by one claiming loop."""

    def __init__(
        self,
        queue: Queue,
        run: Callable[[Job], Awaitable[None]],
        *,
        concurrency: int = 4,
        poll_interval: float = 1.0,
        owner: str | None = None,
        intake_busy: Callable[[], bool] = lambda: False,
        retire_after: float | None = None,
        after_burst: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.run = run
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.intake_busy = intake_busy
        self._last_claim = float("-inf")
        self.owner = owner or worker_name()
        self._inflight: dict[int, tuple[Job, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.completed = 0
        self._done: list[tuple[Job, asyncio.Future[bool]]] = []
        self._completer: asyncio.Task[None] | None = None
        self._settling: set[int] = set()  # handlers done, outcome being stored
        self.idle = heap.Idle()  # memory given back once a burst of jobs is over (bot/heap.py)
        # A surge worker process (bot/jobs/process.py) stops claiming once it has found nothing to
        # claim and had nothing in flight for this many seconds; `retired` is set then.
        self.retire_after = retire_after
        self.retired = asyncio.Event()
        # Called once a burst is over and its memory given back (a worker process that grew asks
        # for a fresh one in its place then, bot/jobs/process.py).
        self.after_burst = after_burst

    def wake(self) -> None:
        """New work was stored: look now instead of at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="secbot-claim-loop")
        self._heartbeat_task = asyncio.create_task(self._heartbeat(), name="secbot-heartbeat")
        log.info("workers started", extra={"owner": self.owner, "concurrency": self.concurrency})

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming, let jobs in flight finish for `grace` seconds, give the rest back."""
        self._stopping = True
        self._wake.set()
        if self._loop_task:
            await self._loop_task
        tasks = [t for _, t in self._inflight.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for job, task in list(self._inflight.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            with contextlib.suppress(Exception):
                await self.queue.release(job)
        if self._heartbeat_task:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
        log.info("workers stopped", extra={"owner": self.owner})

    # While webhooks arrive back to back, claims come at most this often (seconds).
    DEFER_WHILE_BUSY = 0.1

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        while not self._stopping:
            await self._yield_to_intake()
            # A job whose handlers have returned no longer takes a slot while its outcome is
            # stored: the claim for its successor then shares that commit (WriterBackend.write).
            free = self.concurrency - len(self._inflight) + len(self._settling)
            claimed: list[Job] = []
            if free > 0:
                self._last_claim = loop.time()
                try:
                    claimed = await self.queue.claim(self.owner, free)
                except Exception as exc:  # noqa: BLE001 - the store may be briefly away; keep going
                    log.error("claiming jobs failed", extra={"error": describe_error(exc)})
            for job in claimed:
                task = asyncio.create_task(self._run_one(job), name=f"secbot-job-{job.id}")
                self._inflight[job.id] = (job, task)
            if claimed or self._inflight:
                idle_since = None
            if claimed and len(claimed) == free:
                await asyncio.sleep(0)
                continue
            if not claimed and not self._inflight:
                if self.idle.give_back():
                    self.after_burst()
                if self.retire_after is not None:
                    idle_since = loop.time() if idle_since is None else idle_since
                    if loop.time() - idle_since >= self.retire_after:
                        log.info("no work left: retiring", extra={"owner": self.owner})
                        self.retired.set()
                        return
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _yield_to_intake(self) -> None:
        """While webhooks arrive back to back, claim at most every `DEFER_WHILE_BUSY` seconds.

        A claim and the completions after it share the store's next commit with the deliveries
        waiting to be stored, and their jobs run on the event loop that answers GitHub; answering
        within GitHub's 10 seconds comes first. Jobs of a burst then wait at most that long for a
        claim, and run as soon as the burst ends. (At 16 connections, jobs claimed at will took
        a third of the intake's throughput; bench/webhook.py.)
        """
        loop = asyncio.get_running_loop()
        while self.intake_busy() and not self._stopping:
            left = self._last_claim + self.DEFER_WHILE_BUSY - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.005))

    async def _run_one(self, job: Job) -> None:
        bound = log.bind(job=job.id, kind=job.kind, delivery=job.delivery_id, event=job.event, attempt=job.attempts)
        try:
            try:
                await self.run(job)
            finally:
                self._settling.add(job.id)
                self._wake.set()
        except asyncio.CancelledError:
            raise
        except RateLimited as exc:
            until, reason = exc.until, describe_error(exc)
            bound.warning("job deferred by a rate limit", extra={"until": round(until)})
            await self._record(lambda: self.queue.defer(job, until, reason))
        except Exception as exc:  # noqa: BLE001 - recorded on the job, retried with back-off
            error = describe_error(exc)
            state = await self._record(lambda: self.queue.fail(job, error))
            bound.warning("job failed", extra={"error": error, "next": state})
        else:
            if await self._record(lambda: self._complete(job)):
                self.completed += 1
            else:
                bound.warning("job finished after its lease was lost; another worker owns it now")
        finally:
            self._inflight.pop(job.id, None)
            self._settling.discard(job.id)
            self.idle.count()
            self._wake.set()

    async def _complete(self, job: Job) -> bool:
        """Mark a job done, together with the others that finish meanwhile (one transaction).

        The job stays in flight, its lease renewed, until its outcome is stored.
        """
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._done.append((job, fut))
        if self._completer is None or self._completer.done():
            self._completer = asyncio.create_task(self._store_completions(), name="secbot-complete")
        return await fut

    async def _store_completions(self) -> None:
        while self._done:
            batch, self._done = self._done, []
            try:
                won = await self.queue.complete_many([job for job, _ in batch])
            except Exception as exc:  # noqa: BLE001 - each waiting job retries in _record
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for job, fut in batch:
                if not fut.done():
                    fut.set_result(job.id in won)

    async def _record(self, op: Callable[[], Awaitable[object]]) -> object:
        """Store a job's outcome, retrying briefly if the store hiccups."""
        for delay in (0.1, 0.5, 2.0, None):
            try:
                return await op()
            except Exception as exc:  # noqa: BLE001
                if delay is None:
                    log.error("could not record a job's outcome; its lease will expire", extra={"error": describe_error(exc)})
                    return None
                await asyncio.sleep(delay)
        return None

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.queue.lease_seconds / 3))
            if self._inflight:
                try:
                    await self.queue.extend(self.owner, list(self._inflight))
                except Exception as exc:  # noqa: BLE001
                    log.error("renewing leases failed", extra={"error": describe_error(exc)})
