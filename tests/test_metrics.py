"""GET /metrics: the numbers move with deliveries, jobs, GitHub calls and reports; served on a
listener of its own, never on the webhook port."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FrozenClock
from bot.errors import RateLimited
from bot.jobs.queue import Job
from bot.jobs.tally import Tally
from bot.web.app import create_app
from bot.web.keys import CLOCK
from bot.web.metrics import Metrics, create_metrics_app
from tests.conftest import delivery_headers, make_settings
from tests.e2e import INSTALLATION, REPO, REPORTER, Harness
from tests.test_public_reports import VULN_BODY, VULN_TITLE
from tests.test_webhook import ISSUE_OPENED


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from Prometheus text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def scrape_text(app: web.Application) -> str:
    """GET /metrics of a started app, from the metrics app `secbot serve` runs on its own listener."""
    async with TestClient(TestServer(create_metrics_app(app))) as metrics_client:
        resp = await metrics_client.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await resp.text()


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return samples(await scrape_text(client.app))


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    return await aiohttp_client(create_app(settings, clock=FrozenClock(), routers=[], jobs={}, workers=False))


async def test_deliveries_are_counted_by_event_and_outcome(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers = delivery_headers("issues", body, delivery="d-1")
    assert (await client.post("/webhook", data=body, headers=headers)).status == 202
    assert (await client.post("/webhook", data=body, headers=headers)).status == 200
    bad = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "made_up"})
    assert (await client.post("/webhook", data=body, headers=bad)).status == 401
    broken = body[:-3]
    assert (await client.post("/webhook", data=broken, headers=delivery_headers("issues", broken))).status == 400
    big = b" " * (25 * 1024 * 1024 + 1)
    assert (await client.post("/webhook", data=big, headers=delivery_headers("issues", big))).status == 413

    m = await scrape(client)
    total = "secbot_webhook_deliveries_total"
    assert value(m, total, event="issues", outcome="stored") == 1
    assert value(m, total, event="issues", outcome="duplicate") == 1
    assert value(m, total, event="issues", outcome="bad_json") == 1
    # An unverified request never chooses a label: its event header is not trusted.
    assert value(m, total, event="unverified", outcome="bad_signature") == 1
    assert value(m, total, event="unverified", outcome="too_large") == 1
    assert not any(labels and ("event", "made_up") in labels for _, labels in m)


async def test_queue_depth_and_oldest_due_age_are_read_from_the_store_at_scrape_time(client: TestClient) -> None:
    m = await scrape(client)
    assert value(m, "secbot_queue_jobs", state="queued") == 0
    assert value(m, "secbot_queue_oldest_due_seconds") == 0
    for n in range(3):
        body = orjson.dumps(ISSUE_OPENED)
        await client.post("/webhook", data=body, headers=delivery_headers("issues", body, delivery=f"q-{n}"))
    client.app[CLOCK].advance(42)
    m = await scrape(client)
    assert value(m, "secbot_queue_jobs", state="queued") == 3
    assert value(m, "secbot_queue_jobs", state="dead") == 0  # every state is listed
    assert value(m, "secbot_queue_oldest_due_seconds") == pytest.approx(42, abs=1)


async def test_jobs_github_calls_rate_limits_and_reports_move_end_to_end(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        before = samples(await scrape_text(h.app))
        assert value(before, "secbot_reports", state="new") == 0
        issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
        await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
        await h.settle()
        after = samples(await scrape_text(h.app))
        async with aiohttp.ClientSession() as session:  # the port GitHub delivers to shows none of it
            async with session.get(str(h.server.make_url("/metrics"))) as resp:
                assert resp.status == 404
    h.state.assert_no_violations()

    assert value(after, "secbot_webhook_deliveries_total", event="issues", outcome="stored") == 1
    assert value(after, "secbot_job_duration_seconds_count", kind="webhook", outcome="done") == 1
    assert value(after, "secbot_job_duration_seconds_sum", kind="webhook", outcome="done") > 0
    assert value(after, "secbot_queue_jobs", state="done") == 1
    reports = {dict(labels)["state"]: v for (name, labels), v in after.items() if name == "secbot_reports"}
    assert sum(reports.values()) == 1  # one report recorded, in whatever state it starts
    gets = value(after, "secbot_github_calls_total", method="GET", status="200")
    posts = value(after, "secbot_github_calls_total", method="POST", status="201")
    assert gets > value(before, "secbot_github_calls_total", method="GET", status="200") and posts >= 2
    remaining = value(after, "secbot_github_rate_limit_remaining", installation=str(INSTALLATION))
    assert 0 < remaining < 5000
    assert value(after, "secbot_github_rate_limit_remaining", installation="app") > 0


async def test_failed_and_deferred_jobs_are_timed_with_their_outcome() -> None:
    metrics = Metrics()
    job = Job(id=1, kind="webhook", state="running", attempts=1, run_at=0.0, payload=b"{}")

    async def boom(_: Job) -> None:
        raise ValueError("no")

    async def later(_: Job) -> None:
        raise RateLimited(0.0, "wait")

    for run in (boom, later):
        with pytest.raises((ValueError, RateLimited)):
            await metrics.timed(run)(job)
    m = samples((await render_alone(metrics)).decode())
    assert value(m, "secbot_job_duration_seconds_count", kind="webhook", outcome="failed") == 1
    assert value(m, "secbot_job_duration_seconds_count", kind="webhook", outcome="deferred") == 1


class _EmptyStore:
    """What `Metrics.render` reads from the store, for a process that stored nothing."""

    async def counts(self) -> dict[str, int]:
        return {}

    async def oldest_due_age(self) -> float:
        return 0.0

    async def count_by_state(self) -> list[tuple[str, int]]:
        return []

    async def escalations_by_target(self) -> list[tuple[str, int]]:
        return []


async def render_alone(metrics: Metrics, github: Any = None) -> bytes:
    return await metrics.render(queue=_EmptyStore(), records=_EmptyStore(), github=github)


class _Limit:
    def __init__(self, remaining: int, reset: float) -> None:
        self.remaining = remaining
        self.reset_datetime = dt.datetime.fromtimestamp(reset, dt.timezone.utc)


class _GitHub:
    def __init__(self, calls: dict[tuple[str, int], int], limits: dict[Any, _Limit]) -> None:
        self.calls, self.rate_limits = calls, limits


async def test_worker_processes_figures_are_added_to_the_servers_and_never_go_down() -> None:
    job = Job(id=1, kind="webhook", state="running", attempts=1, run_at=0.0, payload=b"{}")

    async def fine(_: Job) -> None:
        return None

    server, workers = Metrics(), [Tally(), Tally()]
    await server.timed(fine)(job)
    for i, worker in enumerate(workers):
        for _ in range(i + 1):
            await worker.timed(fine)(job)
        gh = _GitHub({("POST", 201): 10 * (i + 1)}, {7: _Limit(4000 - i, 1000.0 + i), None: _Limit(4900, 900.0)})
        server.from_worker(i, orjson.dumps(worker.snapshot(gh)))
    for bad in (b"not a snapshot", b'{"jobs": {"x": 1}, "calls": {}, "limits": {}, "opinions": {}}'):
        server.from_worker(5, bad)  # dropped
    m = samples((await render_alone(server)).decode())
    assert value(m, "secbot_job_duration_seconds_count", kind="webhook", outcome="done") == 1 + 1 + 2
    assert value(m, "secbot_job_duration_seconds_bucket", kind="webhook", outcome="done", le="+Inf") == 4
    assert value(m, "secbot_github_calls_total", method="POST", status="201") == 30
    # The newest rate-limit window of an installation (worker 1's, reset at 1001), as that worker saw it.
    assert value(m, "secbot_github_rate_limit_remaining", installation="7") == 3999
    assert value(m, "secbot_github_rate_limit_reset_timestamp_seconds", installation="7") == 1001.0
    # Worker 1 exits and its replacement starts from zero: the totals stay.
    server.worker_gone(1)
    server.from_worker(1, orjson.dumps(Tally().snapshot(_GitHub({}, {}))))
    again = samples((await render_alone(server)).decode())
    assert value(again, "secbot_job_duration_seconds_count", kind="webhook", outcome="done") == 4
    assert value(again, "secbot_github_calls_total", method="POST", status="201") == 30


async def test_the_webhook_port_serves_no_metrics(client: TestClient) -> None:
    resp = await client.get("/metrics")
    assert resp.status == 404 and "secbot_reports" not in await resp.text()


async def test_the_metrics_listener_serves_only_metrics(client: TestClient) -> None:
    async with TestClient(TestServer(create_metrics_app(client.app))) as metrics_client:
        assert (await metrics_client.get("/metrics")).status == 200
        assert (await metrics_client.post("/webhook", data=b"{}")).status == 404
        assert (await metrics_client.get("/setup")).status == 404


def test_each_app_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.deliveries.labels(event="issues", outcome="stored").inc()
    assert b.deliveries.labels(event="issues", outcome="stored")._value.get() == 0


def test_event_names_get_labels_of_their_own_only_up_to_a_limit() -> None:
    # The event header is not covered by the signature: a replayed body with made-up event
    # names must not grow the metrics without end.
    from bot.web.metrics import MAX_EVENTS, OTHER, STORED

    metrics = Metrics()
    for i in range(MAX_EVENTS + 50):
        metrics.count_delivery(f"event_{i}", STORED)
    metrics.count_delivery("event_0", STORED)
    m = samples(generate_latest(metrics.registry).decode())
    events = {dict(labels)["event"] for (name, labels) in m if name == "secbot_webhook_deliveries_total"}
    assert len(events) == MAX_EVENTS + 1 and OTHER in events
    assert value(m, "secbot_webhook_deliveries_total", event=OTHER, outcome=STORED) == 50
    assert value(m, "secbot_webhook_deliveries_total", event="event_0", outcome=STORED) == 2
