"""What one process's workers did, as plain numbers: job run times by kind and outcome, GitHub
calls by method and status, the rate limit left per installation, second opinions by outcome.

`secbot serve` shows its own tally and those of its worker processes on GET /metrics
(bot/web/metrics.py): a worker process sends its `snapshot` to the server every few seconds and
when it stops (bot/jobs/process.py), and `add` makes one tally of several. Plain data rather than
Prometheus objects, so a worker process imports no metrics library and a snapshot is one line of
JSON.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.errors import RateLimited

# Upper bounds (seconds) of the job-time histogram's buckets; the last bucket, +Inf, counts every job.
JOB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
SEP = "\x1f"  # between the labels of a key (kind and outcome; method and status): no label holds it
PARTS = ("jobs", "calls", "limits", "opinions")


def empty() -> dict[str, Any]:
    return {part: {} for part in PARTS}


def key(*labels: str) -> str:
    return SEP.join(labels)


def _no_jobs() -> dict[str, Any]:
    """One kind and outcome's job times before any job: every bucket empty."""
    return {"buckets": [0] * (len(JOB_BUCKETS) + 1), "sum": 0.0}


class Tally:
    """Job run times of this process, counted as they happen."""

    def __init__(self) -> None:
        # kind SEP outcome -> {"buckets": cumulative counts, one per JOB_BUCKETS and +Inf, "sum": seconds}
        self.jobs: dict[str, dict[str, Any]] = {}

    def observe(self, kind: str, outcome: str, seconds: float) -> None:
        job = self.jobs.setdefault(key(kind, outcome), _no_jobs())
        buckets = job["buckets"]
        for i, upper in enumerate(JOB_BUCKETS):
            if seconds <= upper:
                buckets[i] += 1
        buckets[-1] += 1
        job["sum"] += seconds

    def timed(self, run: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        """Wrap the workers' run function to time each job (outcomes: done, deferred, failed)."""

        async def timed_run(job: Any) -> None:
            started = time.perf_counter()
            outcome = "failed"
            try:
                await run(job)
                outcome = "done"
            except RateLimited:
                outcome = "deferred"
                raise
            finally:
                self.observe(job.kind, outcome, time.perf_counter() - started)

        return timed_run

    def snapshot(self, github: Any = None, llm: Any = None) -> dict[str, Any]:
        """This process's figures: its jobs, and its GitHub client's and second-opinion client's."""
        out = empty()
        out["jobs"] = {k: {"buckets": list(job["buckets"]), "sum": job["sum"]} for k, job in self.jobs.items()}
        if github is not None:
            out["calls"] = {key(method, str(status)): n for (method, status), n in github.calls.items()}
            out["limits"] = {"app" if inst is None else str(inst): [limit.remaining, limit.reset_datetime.timestamp()]
                             for inst, limit in github.rate_limits.items()}
        if llm is not None:
            out["opinions"] = dict(llm.outcomes)
        return out


def is_snapshot(found: Any) -> bool:
    """Whether `found` (a worker process's line, parsed) has a snapshot's shape throughout."""
    if not (isinstance(found, dict) and all(isinstance(found.get(part), dict) for part in PARTS)):
        return False
    return (all(isinstance(j, dict) and _numbers(j.get("buckets"), len(JOB_BUCKETS) + 1) and _numbers([j.get("sum")], 1)
                for j in found["jobs"].values())
            and all(_numbers([n], 1) for part in ("calls", "opinions") for n in found[part].values())
            and all(_numbers(v, 2) for v in found["limits"].values()))


def _numbers(values: Any, count: int) -> bool:
    return (isinstance(values, list) and len(values) == count
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values))


def add(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' snapshots as one: counts added up; for each installation's rate limit,
    the newest window (the latest reset) and the least left in it."""
    out = empty()
    for snap in snapshots:
        for k, job in snap["jobs"].items():
            have = out["jobs"].setdefault(k, _no_jobs())
            have["buckets"] = [a + b for a, b in zip(have["buckets"], job["buckets"])]
            have["sum"] += job["sum"]
        for part in ("calls", "opinions"):
            for k, n in snap[part].items():
                out[part][k] = out[part].get(k, 0) + n
        for inst, (left, reset) in snap["limits"].items():
            have = out["limits"].get(inst)
            if have is None or reset > have[1] or (reset == have[1] and left < have[0]):
                out["limits"][inst] = [left, reset]
    return out
