"""GET /metrics: Prometheus text format, from a registry per app (never the global one), served
by an app of its own (`create_metrics_app`) on its own listener (`bot.web.app.metrics_listener`):
it shows report counts by state, which the webhook port must not show to anyone.

Counted as they happen: webhook deliveries by event and outcome, and job run times by kind and
outcome. Read at scrape time: the queue by state and the age of its oldest due job, reports by
state (both from the store, so every replica shows the shared database), GitHub calls by method
and status, and the rate limit left per installation (both from the GitHub client).

Worker processes (`secbot serve --workers-processes N`, bot/jobs/process.py) run the jobs and make
the GitHub calls, so the job times, the calls, the rate limits and the second opinions are theirs:
each sends the server a `snapshot` of them every few seconds and when it stops, and the server's
/metrics shows its own figures plus every worker's (`Metrics.from_worker`). A worker that exits
leaves its last snapshot in the totals, so counters never go down when a worker is replaced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from bot.jobs import tally
from bot.jobs.queue import Job
from bot.web.keys import GITHUB, METRICS, SERVICES

# Outcomes of POST /webhook, from the answer it gave (see bot/web/webhook.py).
STORED, DUPLICATE, PING = "stored", "duplicate", "ping"
BAD_SIGNATURE, TOO_LARGE, BAD_JSON, BAD_REQUEST, STORE_DOWN = (
    "bad_signature", "too_large", "bad_json", "bad_request", "store_down")
# Refused before the signature could be checked: a compressed body, a body slower than the read
# timeout, a body that would go over the bytes all connections may hold at once.
BAD_ENCODING, TOO_SLOW, BUSY = "bad_encoding", "too_slow", "busy"
_UNCHECKED = (BAD_SIGNATURE, TOO_LARGE, BAD_ENCODING, TOO_SLOW, BUSY)
UNVERIFIED = "unverified"  # the event label of a delivery whose signature was not checked or failed
OTHER = "other"  # the event label once MAX_EVENTS names have one
MAX_EVENTS = 200
# The classic text format, which every Prometheus understands (our names need nothing newer).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The app's metrics: counted as they happen in this process, read from the store at each scrape,
    and the worker processes' tallies as they last sent them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "secbot_webhook_deliveries", "Webhook deliveries received, by event and outcome.",
            ["event", "outcome"], registry=self.registry)
        self.tally = tally.Tally()  # job run times, shown with the worker processes' at scrape time
        self._delivery_counts: dict[tuple[str, str], Any] = {}  # (event header, outcome) -> counter
        self._event_labels: set[str] = set()
        self._scraped = _ScrapeTime()
        self.registry.register(self._scraped)
        self._workers: dict[int, dict[str, Any]] = {}  # each running worker process's last snapshot
        self._retired: dict[str, Any] = tally.empty()  # the last snapshots of worker processes that exited

    # -- counted as they happen ---------------------------------------------------------------

    def count_delivery(self, event: str, outcome: str) -> None:
        """Count one answer of POST /webhook. `event` is the event header, which only a delivery
        whose signature was good may give; at most `MAX_EVENTS` names get a label of their own
        (GitHub has about 70), so a replayed body cannot grow the metrics without end."""
        key = (event, outcome)
        child = self._delivery_counts.get(key)
        if child is None:
            label = UNVERIFIED if outcome in _UNCHECKED else _label(event)
            if label not in self._event_labels and len(self._event_labels) >= MAX_EVENTS:
                label = OTHER
            self._event_labels.add(label)
            child = self.deliveries.labels(event=label, outcome=outcome)
            if len(self._delivery_counts) < MAX_EVENTS * 4:
                self._delivery_counts[key] = child
        child.inc()

    def timed(self, run: Callable[[Job], Awaitable[None]]) -> Callable[[Job], Awaitable[None]]:
        """Wrap the workers' run function to time each job (outcomes: done, deferred, failed)."""
        return self.tally.timed(run)

    # -- read at scrape time ------------------------------------------------------------------

    async def render(self, *, queue: Any, records: Any, github: Any, llm: Any = None) -> bytes:
        families: list[Metric] = []
        counts = await queue.counts()
        depth = GaugeMetricFamily("secbot_queue_jobs", "Jobs in the durable queue, by state.", labels=["state"])
        for state, n in sorted(counts.items()):
            depth.add_metric([state], n)
        families.append(depth)
        families.append(GaugeMetricFamily(
            "secbot_queue_oldest_due_seconds", "Seconds the oldest due, unclaimed job has waited (0 when none).",
            value=await queue.oldest_due_age()))
        reports = GaugeMetricFamily("secbot_reports", "Security reports recorded, by state.", labels=["state"])
        for state, n in await records.count_by_state():
            reports.add_metric([state], n)
        families.append(reports)
        missed = CounterMetricFamily(
            "secbot_missed_targets", "Response targets that slipped (first escalation sent), by target.",
            labels=["target"])
        for target, n in await records.escalations_by_target():
            missed.add_metric([target], n)
        families.append(missed)
        families += _families(tally.add([self.tally.snapshot(github, llm), self._retired, *self._workers.values()]))
        self._scraped.families = families
        try:
            return generate_latest(self.registry)
        finally:
            self._scraped.families = []

    # -- this process's share, and the worker processes' -------------------------------------

    def from_worker(self, worker: int, data: bytes) -> None:
        """A worker process's snapshot (one line it sent); a line that is not one is dropped."""
        try:
            found = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if tally.is_snapshot(found):
            self._workers[worker] = found

    def worker_gone(self, worker: int) -> None:
        """A worker process exited: its last snapshot stays in the totals."""
        last = self._workers.pop(worker, None)
        if last is not None:
            self._retired = tally.add([self._retired, last])


def _families(total: dict[str, Any]) -> list[Metric]:
    jobs = HistogramMetricFamily("secbot_job_duration_seconds", "Time a job's handlers took, by job kind and outcome.",
                                 labels=["kind", "outcome"])
    for key, job in sorted(total["jobs"].items()):
        buckets = [(str(le), n) for le, n in zip(tally.JOB_BUCKETS, job["buckets"])] + [("+Inf", job["buckets"][-1])]
        jobs.add_metric(key.split(tally.SEP), buckets, job["sum"])
    calls = CounterMetricFamily("secbot_github_calls", "Requests made to GitHub's API by the server and its worker "
                                "processes, by method and status (dry-run writes are not made, so not counted).",
                                labels=["method", "status"])
    for key, n in sorted(total["calls"].items()):
        calls.add_metric(key.split(tally.SEP), n)
    remaining = GaugeMetricFamily("secbot_github_rate_limit_remaining",
                                  "Requests left in the current rate-limit window, by installation "
                                  "('app' for calls made as the App).", labels=["installation"])
    reset = GaugeMetricFamily("secbot_github_rate_limit_reset_timestamp_seconds",
                              "When the current rate-limit window ends (Unix time), by installation.",
                              labels=["installation"])
    for inst, (left, ends) in sorted(total["limits"].items()):
        remaining.add_metric([inst], left)
        reset.add_metric([inst], ends)
    opinions = CounterMetricFamily("secbot_second_opinions", "Second opinions due on uncertain texts, by outcome.",
                                   labels=["outcome"])
    for outcome, n in sorted(total["opinions"].items()):
        opinions.add_metric([outcome], n)
    return [jobs, calls, remaining, reset, opinions]


class _ScrapeTime:
    """A collector that yields what `Metrics.render` just read (generate_latest runs synchronously)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self.families

    def describe(self) -> list[Metric]:
        return []


def _label(event: str | None) -> str:
    """The event name as a label: GitHub's event names are short lowercase words."""
    if not event or len(event) > 60 or not all(c.isalnum() or c == "_" for c in event):
        return UNVERIFIED
    return event


MAIN = web.AppKey("metrics_of", web.Application)


def create_metrics_app(main: web.Application) -> web.Application:
    """An app serving GET /metrics of `main` (the app `bot.web.app.create_app` built) and nothing else."""
    app = web.Application(client_max_size=1024)
    app[MAIN] = main
    app.router.add_get("/metrics", view)
    return app


async def view(request: web.Request) -> web.Response:
    main = request.app[MAIN]
    services = main[SERVICES]
    body = await main[METRICS].render(queue=services.queue, records=services.reports, github=main.get(GITHUB),
                                     llm=services.llm)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
