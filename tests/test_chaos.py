"""Chaos, bounded: a real `secbot serve`, killed with kill -9 every second or two while GitHub fails a
fifth of its requests, answers every report exactly once (bench/chaos.py; its long run is a benchmark)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_killed_and_failed_secbot_answers_every_report_exactly_once(database: str) -> None:
    args = ["--deliveries", "30", "--kill-every", "1-2", "--kills", "3", "--pace", "20", "--fault-rate", "0.2",
            "--seed", "7", "--max-seconds", "80", "--json"]
    # 80 s: with worker processes (serve's default), each restart after a kill spends about 2 s
    # starting its worker before any job runs, and the triage card adds reads that a fifth of the
    # time fail and wait; the run takes about 50 s on a quiet machine. The limit is a hang guard,
    # not a speed target (bench/chaos.py and bench/storm.py measure).
    if database == "postgres":
        if not PG_URL:
            pytest.skip("TEST_DATABASE_URL is not set")
        args += ["--pg", PG_URL]
    # Its own process group: on a time-out, the bench's `secbot serve` goes with it.
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "chaos.py"), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=110)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"the chaos run did not stop by itself:\n{out[-3000:]}") from None
    counts = orjson.loads(out.strip().splitlines()[-1])
    assert proc.returncode == 0, out[-3000:]
    assert (counts["lost"], counts["doubled"], counts["stray"], counts["dead"], counts["violations"]) == (0, 0, 0, 0, 0)
    assert counts["kills"] >= 2 and counts["deliveries"] == 30 and counts["expected"] >= 20
    assert sum(counts["faults"].values()) >= 20  # about 50: a fifth of about 250 requests
