"""Notes for the maintainers never reach the reporter (issue 17, finding 9): without a private
tracker they went to the advisory, where the reporter reads every comment. Each test here failed
on a742533."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bot.store.reports import Reports
from tests.e2e import REPO, REPORTER, Harness
from tests.test_timers import monday_9am, run_days, to_reporter

ROOT = Path(__file__).parent.parent
BEG_BOUNTY = ("Your site lacks X-Frame-Options and HSTS headers and has no DMARC record. "
              "Critical! What is the bounty amount? I will share details after payment.")


async def private_report(h: Harness, description: str) -> str:
    adv = h.state.report_vulnerability(REPO, summary="Security issue", description=description, user=REPORTER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    return str(adv["ghsa_id"])


def secbot(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
                          env={"DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}, timeout=60)


def test_the_beg_bounty_note_is_kept_for_secbot_reports_not_put_on_the_advisory(tmp_path: Path) -> None:
    async def play() -> tuple[str, int]:
        async with Harness(tmp_path) as h:
            h.state.put_file(REPO, ".github/secbot.yml", "security_team:\n  users: [maint]\n")  # no tracker
            ghsa = await private_report(h, BEG_BOUNTY)
            on_advisory = [c["body"] for c in h.state.advisory_comments(REPO, ghsa)]
            assert len(on_advisory) == 1 and "scanner findings" in on_advisory[0]  # the reply to the reporter
            assert not any("Note for maintainers" in body or "beg-bounty" in body for body in on_advisory)
            assert "kept in the report's timeline" in h.logs.text()
            [report] = await Reports(h.services.store).list()
            h.state.assert_no_violations()
            return ghsa, report.id

    ghsa, report_id = asyncio.run(play())
    shown = secbot("reports", str(report_id), db=tmp_path / "e2e.db")
    assert shown.returncode == 0, shown.stderr
    assert ghsa in shown.stdout and "note by secbot" in shown.stdout
    assert "**Note for maintainers:** this report looks like a *beg-bounty* report" in shown.stdout
    assert "bounty amount" not in shown.stdout  # the report's own text is never printed
    rows = [json.loads(line) for line in secbot("reports", str(report_id), "--json", db=tmp_path / "e2e.db").stdout.splitlines()]
    [note] = [r for r in rows if r["kind"] == "note"]
    assert "beg-bounty" in note["detail"]["note"] and set(note["detail"]) == {"note"}
    missing = secbot("reports", "999", db=tmp_path / "e2e.db")
    assert missing.returncode == 1 and "no report 999" in missing.stderr


async def test_reminders_and_escalations_without_a_tracker_stay_off_the_advisory(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen=True) as h:
        h.state.put_file(REPO, ".github/secbot.yml", "security_team:\n  users: [maint]\n")  # no tracker
        await h.advance(monday_9am(h) - h.clock.now())  # type: ignore[union-attr]
        ghsa = await private_report(h, "Expired refresh tokens are accepted by /oauth/refresh.")
        await run_days(h, 4)  # nobody acknowledges: a reminder, then escalations
        to_them = [body for _, body in to_reporter(h, ghsa)]
        assert to_them and not any("Reminder" in b or "passed on" in b or "@maint" in b for b in to_them)
        [report] = await Reports(h.services.store).list()
        notes = [e["detail"]["note"] for e in await Reports(h.services.store).timeline(report.id) if e["kind"] == "note"]
        assert sum("Reminder" in n for n in notes) == 1
        assert sum("passed on" in n for n in notes) == 2
    h.state.assert_no_violations()
