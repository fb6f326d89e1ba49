"""SECBOT_DRY_RUN=1 end to end: a public report and a `/sec hide` reach GitHub as reads only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e import MAINTAINER, REPO, REPORTER, Harness
from tests.test_public_reports import VULN_BODY, VULN_TITLE

TOKEN_PATH = "/app/installations/{}/access_tokens"


async def test_dry_run_sends_no_write_to_github_and_logs_each_write_it_would_make(tmp_path: Path) -> None:
    async with Harness(tmp_path, dry_run=True) as h:
        h.state.put_file(REPO, ".github/secbot.yml", "security_team:\n  users: [maint]\n")
        issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
        number = issue["number"]
        await h.deliver("issues", h.payloads.issues("opened", REPO, number, REPORTER))
        await h.settle()
        comment = h.state.add_comment(REPO, number, body="/sec hide", user=MAINTAINER)
        await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, number, comment["id"], MAINTAINER))
        await h.settle()
        would = list(h.services.github.dry_run_writes)
        logged = [json.loads(line) for line in h.logs.lines]
    h.state.assert_no_violations()

    # Every request that reached the emulator was a read, except the installation token Secbot
    # needs to read at all (minting a token changes nothing in any repository).
    token_path = TOKEN_PATH.format(next(iter(h.state.installations)))
    reached = [(r.method, r.path) for r in h.state.requests]
    assert reached and all(m == "GET" or (m, p) == ("POST", token_path) for m, p in reached), reached
    assert h.writes() == []
    # GitHub holds exactly what it held before: no comment, label, advisory, edit or reaction.
    assert [c["id"] for c in h.state.comments(REPO, number)] == [comment["id"]]
    after = h.state.issue(REPO, number)
    assert (after["title"], after["body"], after["state"], after["labels"]) == (VULN_TITLE, VULN_BODY, "open", [])
    assert not h.state.repo(REPO).advisories and not h.state.reactions

    # Each write Secbot would have made is logged, naming its method and path, and only those.
    dry = [(e["method"], e["path"]) for e in logged if e.get("msg") == "dry run: would call GitHub"]
    assert dry == would
    issue_path = f"/repos/{REPO}/issues/{number}"
    assert ("POST", f"{issue_path}/comments") in dry  # the redirect comment to the reporter
    assert ("POST", f"{issue_path}/labels") in dry
    assert ("POST", f"/repos/{REPO}/issues/comments/{comment['id']}/reactions") in dry  # the command's ack
    assert ("POST", f"/repos/{REPO}/security-advisories") in dry  # hide: the private draft advisory
    assert all(m in ("POST", "PATCH", "PUT", "DELETE") for m, _ in dry)
    assert VULN_BODY not in h.logs.text()


async def test_a_repositorys_own_dry_run_covers_private_reports_and_their_timers(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen=True) as h:
        h.state.put_file(REPO, ".github/secbot.yml",
                         "dry_run: true\nsecurity_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n")
        adv = h.state.report_vulnerability(REPO, summary="Auth bypass", description="details", user=REPORTER)
        await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
        await h.settle()
        for _ in range(40):  # ten days of timers and watchdog polls
            await h.advance(6 * 3600)
        assert h.writes() == []
        assert h.state.advisory_comments(REPO, adv["ghsa_id"]) == []
        assert any(m == "POST" for m, _ in h.services.github.dry_run_writes)
    h.state.assert_no_violations()


async def test_one_repositorys_dry_run_leaves_the_others_of_a_sweep_alone(tmp_path: Path) -> None:
    """Issue 17, finding 11: a sweep over an installation went on with the dry-run client of the
    first repository that asked for it, and recorded the skipped acknowledgements as sent."""
    async with Harness(tmp_path) as h:
        quiet = "octo-org/alpha"  # swept before hello-world
        h.state.add_repo(quiet, installation_id=next(iter(h.state.installations)), pvr_enabled=True)
        h.state.put_file(quiet, ".github/secbot.yml", "dry_run: true\n")
        first = h.state.report_vulnerability(quiet, summary="Auth bypass", description="details", user=REPORTER)
        second = h.state.report_vulnerability(REPO, summary="Path traversal", description="details", user=REPORTER)
        await h.deliver("installation", h.payloads.installation("created", next(iter(h.state.installations))))
        await h.settle()
        assert h.state.advisory_comments(quiet, first["ghsa_id"]) == []
        [ack] = h.state.advisory_comments(REPO, second["ghsa_id"])
        assert f"@{REPORTER}" in ack["body"]
    h.state.assert_no_violations()
