"""The triage card (issue 18, point 1): made once for every new report, kept in the store, posted
once in the private tracker, never on the advisory (the reporter reads it) nor anywhere public."""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.render import find_marker
from bot.rules import triage as rules
from bot.store.reports import Reports, advisory_key
from bot.store.triage import TriageCards
from tests.e2e import INSTALLATION, MAINTAINER, REPO, REPORTER, Harness

TRACKER = "octo-org/security-inbox"
CONFIG = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
SUMMARY = "Heap overflow in the PNG chunk parser"
DESCRIPTION = (
    "The zTXt length is trusted in src/png/chunk.c: `png_read_chunk()` copies it into a fixed buffer, and "
    "lib/legacy_inflate.py does the same. Affected: version 2.3.0.\n\nSteps to reproduce:\n\n"
    "```\npython3 poc.py crash-7f3a.png\n```\n\nImpact: an attacker can execute arbitrary code."
)
SECRET = "crash-7f3a"
CARD_OPERATIONS = {  # what a card reads at GitHub (nothing else in a report's handling reads these)
    "git/get-tree", "repos/list-tags", "repos/list-releases", "search/code",
    "security-advisories/list-global-advisories", "security-advisories/get-global-advisory",
    "security-advisories/list-repository-advisories", "users/get-by-username",
}


def seed(h: Harness) -> None:
    h.state.set_permission(TRACKER, MAINTAINER, "maintain")
    h.state.add_paths(REPO, ["src/png/chunk.c", "src/png/read.c", "README.md"],
                      symbols={"src/png/chunk.c": ["png_read_chunk"]})
    h.state.add_paths(REPO, ["src/png/chunk.c", "lib/legacy_inflate.py"], ref="tags/v2.3.0")
    h.state.set_profile(REPORTER, created_at="2019-03-01T00:00:00Z", public_repos=12, followers=3)


pytestmark = pytest.mark.harness(config=CONFIG, setup=seed)


async def report(h: Harness, *, summary: str = SUMMARY, description: str = DESCRIPTION, user: str = REPORTER,
                 twice: bool = False) -> str:
    adv = h.state.report_vulnerability(REPO, summary=summary, description=description, user=user)
    payload = h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], user)
    await h.deliver("repository_advisory", payload)
    if twice:
        await h.deliver("repository_advisory", payload)
    await h.settle()
    return str(adv["ghsa_id"])


async def card_of(h: Harness, ghsa: str) -> dict[str, Any]:
    rep = await Reports(h.services.store).by_key(advisory_key(REPO, ghsa))
    assert rep is not None
    kept = await TriageCards(h.services.store).get(rep.id)
    assert kept is not None
    return kept


def tracker_comments(h: Harness, kind: str = "triage-card") -> list[str]:
    out = []
    for issue in h.state.repo(TRACKER).issues.values():
        out += [c["body"] for c in h.state.comments(TRACKER, issue["number"]) if find_marker(c["body"], kind)]
    return out


def reporter_visible(h: Harness) -> str:
    """Everything the reporter can read: the advisories' text and comments."""
    out = []
    for ghsa, adv in h.state.repo(REPO).advisories.items():
        out += [adv["summary"], adv["description"] or ""] + [c["body"] for c in h.state.advisory_comments(REPO, ghsa)]
    return json.dumps(out)


def public_text(h: Harness) -> str:
    out = []
    for issue in h.state.repo(REPO).issues.values():
        out += [issue["title"], issue["body"] or ""] + [c["body"] for c in h.state.comments(REPO, issue["number"])]
    return json.dumps(out)


def claim(card: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in card["claims"] if c["name"] == name]
    return found


async def test_a_card_checks_the_files_and_symbols_a_report_names_and_is_posted_once_in_the_tracker(h: Harness) -> None:
    ghsa = await report(h, twice=True)
    card = await card_of(h, ghsa)
    assert claim(card, "src/png/chunk.c") == {"kind": "path", "name": "src/png/chunk.c", "status": "found",
                                              "where": "main", "evidence": "src/png/chunk.c"}
    legacy = claim(card, "lib/legacy_inflate.py")  # only in the cited version's tree
    assert legacy["status"] == "found" and "at v2.3.0 only" in legacy["evidence"]
    assert claim(card, "png_read_chunk")["status"] == "found"
    assert card["versions"] == [{"version": "2.3.0", "status": "tag", "tag": "v2.3.0", "evidence": "tag v2.3.0"}]
    assert card["substance"]["poc"] and card["substance"]["impact"] and card["substance"]["affected_versions"]
    assert card["suggestion"]["step"] == "acknowledge"
    [posted] = tracker_comments(h)  # once, though the webhook came twice
    assert "src/png/chunk.c" in posted and "acknowledge and triage" in posted
    # Never where the reporter reads, never public, never in a log line.
    for place in (reporter_visible(h), public_text(h), h.logs.text()):
        assert "Triage card" not in place and "legacy\\\\_inflate" not in place and "Suggested next step" not in place
    assert SECRET not in public_text(h) and SECRET not in h.logs.text()


async def test_a_missing_file_and_an_unknown_function_are_flagged_and_a_poc_asked_for(h: Harness) -> None:
    text = ("There is a command injection in src/server/exec_handler.go through run_shell_unsafe() and also "
            "src/png/read.c. Please fix it quickly.")
    ghsa = await report(h, summary="Command injection", description=text)
    card = await card_of(h, ghsa)
    assert claim(card, "src/server/exec_handler.go")["status"] == "missing"
    assert claim(card, "src/png/read.c")["status"] == "found"
    assert claim(card, "run_shell_unsafe")["status"] == "missing"
    assert card["substance"]["poc"] == []
    assert card["suggestion"]["step"] == "needs-poc" and "/sec needs-info poc" in card["suggestion"]["text"]
    assert "no proof of concept" in " ".join(card["suggestion"]["why"])


async def test_a_cve_already_in_the_advisory_database_is_named_with_its_project(h: Harness) -> None:
    h.state.add_global_advisory(ghsa_id="GHSA-jfh8-c2jp-5v3q", cve_id="CVE-2021-44228", summary="Remote code injection in Log4j",
                                source_code_location="https://github.com/apache/logging-log4j2")
    text = "This project is vulnerable to CVE-2021-44228 and CVE-2031-99999 (log4shell) in README.md."
    ghsa = await report(h, summary="Log4shell", description=text)
    card = await card_of(h, ghsa)
    known, unknown = card["identifiers"]
    assert (known["id"], known["status"], known["where"]) == ("CVE-2021-44228", "published", "another project")
    assert "GHSA-jfh8-c2jp-5v3q" in known["evidence"] and "logging-log4j2" in known["evidence"]
    assert (unknown["id"], unknown["status"]) == ("CVE-2031-99999", "unknown")
    assert card["suggestion"]["step"] == "needs-poc"
    assert "already published: CVE-2021-44228" in " ".join(card["suggestion"]["why"])


async def test_a_near_duplicate_of_a_published_advisory_is_suggested_as_a_duplicate(h: Harness) -> None:
    earlier = h.state.create_advisory(REPO, summary="Heap overflow in the PNG chunk parser (zTXt length)",
                                      description="The zTXt chunk length is trusted by png_read_chunk in src/png/chunk.c "
                                                  "and copied into a fixed buffer: an attacker can execute arbitrary code.",
                                      author=MAINTAINER, vulnerabilities=[])
    h.state.update_advisory(REPO, earlier["ghsa_id"], {"state": "published"}, actor=MAINTAINER)
    ghsa = await report(h)
    card = await card_of(h, ghsa)
    top = card["duplicates"][0]
    assert (top["ghsa_id"], top["state"], top["source"]) == (earlier["ghsa_id"], "published", "advisory")
    assert top["similarity"] >= rules.DUPLICATE
    assert card["suggestion"] == {"step": "duplicate", "text": f"likely duplicate of {earlier['ghsa_id']}",
                                  "why": [f"similarity {top['similarity']:.2f} with {earlier['ghsa_id']} (published)"]}
    [posted] = tracker_comments(h)
    assert f"likely duplicate of {earlier['ghsa_id']}" in posted.replace("\\", "")


async def test_a_reporter_with_two_rejected_reports_shows_their_history_and_account(h: Harness) -> None:
    reports = Reports(h.services.store)
    for n in (1, 2):
        rep, _ = await reports.create(now=1000.0 * n, source_key=f"advisory:{REPO}:GHSA-old{n}", source="advisory",
                                      installation_id=INSTALLATION, repo=REPO, ghsa_id=f"GHSA-old{n}", reporter=REPORTER,
                                      verdict="beg_bounty", score=1.0, reasons=())
        await reports.update(rep.id, now=2000.0 * n, state="rejected", reject_reason="beg-bounty")
    ghsa = await report(h, summary="Missing X-Frame-Options header",
                        description="Your website is missing the X-Frame-Options header (clickjacking). "
                                    "I am a security researcher; what bounty do you pay for this?")
    card = await card_of(h, ghsa)
    who = card["reporter"]
    assert (who["earlier"], who["outcomes"]) == (2, {"rejected (beg-bounty)": 2})
    assert who["account_created"] == "2019-03-01" and who["public_repos"] == 12 and who["followers"] == 3
    assert card["substance"]["payment"] and "payment-ask" in card["substance"]["beg_signals"]
    assert card["suggestion"]["step"] == "beg-bounty"
    [posted] = tracker_comments(h)
    assert "2 earlier reports" in posted and "2 rejected (beg-bounty)" in posted.replace("\\", "")


async def test_without_a_tracker_the_card_is_kept_in_the_store_for_secbot_show(h: Harness, tmp_path: Path) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", "security_team:\n  users: [maint]\n")
    h.services.configs.clear()
    ghsa = await report(h)
    card = await card_of(h, ghsa)
    assert tracker_comments(h) == [] and "Triage card" not in reporter_visible(h)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}", "PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-m", "bot", "show", ghsa], capture_output=True, text=True, env=env,
                           cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"Triage card for {ghsa}" in shown.stdout and "acknowledge and triage" in shown.stdout
    listed = subprocess.run([sys.executable, "-m", "bot", "reports"], capture_output=True, text=True, env=env,
                            cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert "card: acknowledge" in listed.stdout
    assert card["report"] > 0


async def test_the_calls_one_card_makes_cold_and_warm(h: Harness) -> None:
    mark = len(h.state.requests)
    await report(h)
    cold = [r for r in h.state.requests[mark:] if r.operation_id in CARD_OPERATIONS or
            (r.operation_id == "repos/get" and r.path.endswith(REPO))]
    mark = len(h.state.requests)
    h.state.add_user("reporter-two")
    await report(h, user="reporter-two", summary="Another overflow", description=DESCRIPTION + " Second one.")
    warm = [r for r in h.state.requests[mark:] if r.operation_id in CARD_OPERATIONS or
            (r.operation_id == "repos/get" and r.path.endswith(REPO))]

    def tally(calls: list[Any]) -> str:
        by_op = collections.Counter(r.operation_id for r in calls)
        return ", ".join(f"{op} {n}" for op, n in sorted(by_op.items()))

    not_modified = sum(1 for r in warm if r.status == 304)
    print(f"\ntriage card GitHub calls, cold: {len(cold)} ({tally(cold)})")
    print(f"triage card GitHub calls, warm: {len(warm)}, of which {not_modified} answered 304 "
          f"(free against the rate limit) ({tally(warm)})")
    assert [r for r in cold if r.operation_id == "git/get-tree"] and len(cold) <= 12
    assert not [r for r in warm if r.operation_id == "git/get-tree"]  # the trees are reused
    assert len(warm) - not_modified <= 3  # the reporter's profile and the code searches


@pytest.mark.harness(config=CONFIG, setup=seed, frozen=True)
async def test_code_search_stays_within_its_rate_limit_under_a_burst_of_thirty_reports(h: Harness) -> None:
    text = "Overflow in `png_read_chunk()`, `inflate_window()` and `decode_row()`, src/png/chunk.c."
    users = [f"flooder-{n}" for n in range(30)]
    for user in users:
        h.state.add_user(user)
    ghsas = []
    per_step = []  # code searches made in each 20-second step
    for n, user in enumerate(users):
        adv = h.state.report_vulnerability(REPO, summary=f"Overflow {n}", description=text, user=user)
        ghsas.append(adv["ghsa_id"])
        await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], user))
        if n % 10 == 9:  # 30 reports in a minute
            await h.settle()
            per_step.append(sum(1 for r in h.state.requests if r.operation_id == "search/code") - sum(per_step))
            await h.advance(20)  # (writes beyond the content-creation budget wait for the next minute)
    per_step.append(sum(1 for r in h.state.requests if r.operation_id == "search/code") - sum(per_step))
    searches = [r for r in h.state.requests if r.operation_id == "search/code"]
    assert h.state.code_search_refused == 0 and all(r.status in (200, 304) for r in searches)
    # Searches of step k happen at t0 + 20k (a frozen clock): any 60 s hold three steps at most.
    assert max(sum(per_step[k:k + 3]) for k in range(len(per_step))) <= 10
    cards = [await card_of(h, g) for g in ghsas]
    statuses = collections.Counter(c["status"] for card in cards for c in card["claims"] if c["kind"] == "symbol")
    print(f"\nburst of 30 reports in 60 s: {len(searches)} code searches ({per_step} at t0, +20, +40, +60 s), symbol claims "
          f"{dict(statuses)}")
    assert statuses["not checked"] > 0 and statuses["found"] > 0
    assert all(card["claims"][0]["status"] == "found" for card in cards)  # the path is always checked


def card_writes(h: Harness) -> list[Any]:
    return [r for r in h.writes() if "secbot:triage-card" in json.dumps(r.json) or "Triage card" in json.dumps(r.json)]


@pytest.mark.harness(config=CONFIG + "public_reports:\n  action: hide\n", setup=seed)
async def test_a_public_report_moved_into_a_draft_gets_a_card_only_in_the_tracker(h: Harness) -> None:
    from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [rep] = await Reports(h.services.store).list()
    assert rep.hidden and rep.draft_ghsa_id
    kept = await TriageCards(h.services.store).get(rep.id)
    assert kept is not None and kept["ghsa_id"] == rep.draft_ghsa_id
    # Every write carrying the card went to the private tracker; none to the public repository or
    # the draft advisory (the reporter is a collaborator on it).
    writes = card_writes(h)
    assert writes and all(r.path.startswith(f"/repos/{TRACKER}/issues/") for r in writes)
    assert len(tracker_comments(h)) == 1
    assert "Triage card" not in reporter_visible(h) and "Triage card" not in public_text(h)
    public = [r for r in h.writes() if "/security-advisories" not in r.path and "security-inbox" not in r.path]
    assert SECRET_MARK not in json.dumps([r.json for r in public]) and SECRET_MARK not in h.logs.text()


@pytest.mark.harness(config=CONFIG, setup=seed, dry_run=True)
async def test_in_a_dry_run_the_card_is_kept_and_nothing_is_written(h: Harness) -> None:
    ghsa = await report(h)
    assert (await card_of(h, ghsa))["suggestion"]["step"] == "acknowledge"
    assert card_writes(h) == [] and tracker_comments(h) == []


async def test_reads_github_refuses_leave_their_fields_not_checked_and_the_card_is_still_made(h: Harness) -> None:
    h.state.fail_next("GET", r"/users/", 404)
    h.state.fail_next("GET", r"/git/trees/", 404, times=2)
    h.state.fail_next("GET", r"/search/code", 422)
    ghsa = await report(h)
    card = await card_of(h, ghsa)
    assert claim(card, "src/png/chunk.c")["status"] == "not checked"
    assert claim(card, "png_read_chunk")["status"] == "not checked"
    assert card["reporter"]["account_created"] is None and card["reporter"]["earlier"] == 0
    [posted] = tracker_comments(h)
    assert "Triage card" in posted and "account created" not in posted


@pytest.mark.harness(config=CONFIG, setup=seed, frozen=True)
async def test_the_tree_reader_reads_a_ref_once_then_revalidates_by_etag_and_sees_a_push(h: Harness) -> None:
    from bot.github import trees

    gh = h.services.github.client(INSTALLATION)
    cache = trees.TreeCache()

    def tree_calls() -> list[int]:
        return [r.status for r in h.state.requests if r.operation_id == "git/get-tree"]

    first = await cache.read(gh, h.clock, REPO, "main")
    assert first is not None and "src/png/chunk.c" in first.paths and not first.truncated
    assert await cache.read(gh, h.clock, REPO, "main") is first and tree_calls() == [200]  # fresh: no call
    h.clock.advance(trees.FRESH + 1)
    assert await cache.read(gh, h.clock, REPO, "main") is first and tree_calls() == [200, 304]  # free
    h.state.add_paths(REPO, ["src/new.c"])  # a push
    h.clock.advance(trees.FRESH + 1)
    pushed = await cache.read(gh, h.clock, REPO, "main")
    assert pushed is not None and "src/new.c" in pushed.paths and tree_calls() == [200, 304, 200]
    assert await cache.read(gh, h.clock, REPO, "no-such-branch") is None


async def test_a_card_github_made_but_did_not_confirm_is_found_not_posted_again(h: Harness) -> None:
    h.state.fail_next("POST", r"/security-inbox/issues/\d+/comments$", 502, applied=True)
    ghsa = await report(h)
    assert (await card_of(h, ghsa))["report"] > 0
    [posted] = tracker_comments(h)  # made once, though GitHub answered 502 after making it
    assert "Triage card" in posted
