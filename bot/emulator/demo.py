"""`secbot demo`: the real bot on SQLite against the built-in GitHub emulator, no account needed.

It plays Secbot's scenarios through real webhooks — public reports redirected and hidden, a private
report followed from the first acknowledgement through weeks of scheduled messages to publication —
and prints what the reporter and the maintainers saw on "GitHub" (the emulator's state). The bot and
the emulator share a frozen clock that the demo moves forward, so weeks pass in seconds. At the end
it checks that nothing was sent that GitHub's API description does not allow.

The transcript never prints a private report's description (only its summary), as the bot never
puts it anywhere public: tests/test_demo.py looks for a marker planted in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import re
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from gidgethub import routing

from bot import logs
from bot.clock import FrozenClock
from bot.emulator import GitHubState, run_emulator
from bot.jobs.context import Context
from bot.jobs.dispatch import JobHandler
from bot.settings import Secret, Settings
from bot.store.reports import Reports
from bot.web.app import create_app
from bot.web.keys import SERVICES

REPO = "octo-org/hello-world"
TRACKER = "octo-org/security-inbox"
MAINTAINER = "maint"
REPORTER = "reporter-jane"  # redirected from a public issue in scenario 2, then reports privately
WIDTH = 96
HOUR, DAY = 3600.0, 86400.0
# Planted in the private report's description: it must never appear in the transcript.
PRIVATE_MARKER = "PRIVATE-POC-7Q2X"
PRIVATE_SUMMARY = "Path traversal in extract_all() writes outside the target directory"
PRIVATE_DESCRIPTION = (
    "extract_all() joins member names to the output directory without normalising them. Proof of concept "
    f"({PRIVATE_MARKER}): a tar with a member named `../../home/victim/.bashrc` overwrites the victim's "
    "shell profile when `hello extract evil.tar` runs. Tested on 1.4.1."
)
_EMOJI = {"+1": "👍", "-1": "👎", "confused": "😕", "eyes": "👀"}
CONFIG = ("security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
          "transparency:\n  public_stats: true\nappreciation:\n  hall_of_fame: SECURITY-ACKNOWLEDGEMENTS.md\n")
_MARKER = re.compile(r"<!--\s*secbot.*?-->", re.S)


def _say(text: str = "", indent: int = 0) -> None:
    """Print wrapped to WIDTH columns; links and long words are never split."""
    for line in text.splitlines() or [""]:
        lead = len(line) - len(line.lstrip(" "))
        wrapped = textwrap.wrap(line.strip(), WIDTH - indent - lead, break_long_words=False,
                                break_on_hyphens=False) or [""]
        for part in wrapped:
            print((" " * (indent + lead) + part).rstrip())


def _heading(text: str) -> None:
    print()
    _say(text)
    _say("─" * min(len(text), WIDTH))


def _clean(body: str) -> str:
    """A bot comment as people read it: without the hidden markers, no runs of blank lines."""
    text = _MARKER.sub("", body or "").strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _when(iso_or_ts: str | float) -> str:
    if isinstance(iso_or_ts, str):
        moment = dt.datetime.fromisoformat(iso_or_ts.replace("Z", "+00:00"))
    else:
        moment = dt.datetime.fromtimestamp(iso_or_ts, dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


class Demo:
    def __init__(self, state: GitHubState, emu: Any, app: web.Application, clock: FrozenClock) -> None:
        self.state, self.emu, self.app, self.clock = state, emu, app, clock
        self.seen: dict[tuple[str, Any], int] = {}  # comments already printed, per place
        self.ghsa: str | None = None
        self.tracker_number: int | None = None
        self.public_issue: int | None = None  # the redirected public issue of scenario 2
        self.base_url = ""  # where the bot answers HTTP (its public figures)
        self.started = clock.now()

    # -- time ---------------------------------------------------------------------------------

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until no job is running or due (later ones wait for the clock to move)."""
        queue = self.app[SERVICES].queue
        deadline = time.monotonic() + timeout
        while await queue.busy() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def advance_to(self, when: float) -> None:
        """Move the shared clock (bot and emulator) to `when`, then let the jobs due by then run."""
        delta = math.ceil(when - self.clock.now())
        if delta > 0:
            self.clock.advance(delta)
            self.state.advance(delta)
        await self.settle()

    async def run_until(self, until: float, on_step: Any = None) -> None:
        """Let time pass until `until`, stopping exactly when each report timer is due (so the
        messages carry their real times) and at least every 6 hours for other scheduled work."""
        queue = self.app[SERVICES].queue
        while self.clock.now() < until:
            now = self.clock.now()
            timers = [j.run_at for j in await queue.list(state="queued", kind="report_timer") if j.run_at > now]
            await self.advance_to(min([until, now + 6 * HOUR, *timers]))
            if on_step is not None:
                on_step()

    def day(self) -> int:
        return int((self.clock.now() - self.started) // DAY)

    # -- GitHub actions, as people would do them --------------------------------------------------

    async def issue(self, user: str, title: str, body: str) -> int:
        issue = self.state.open_issue(REPO, title=title, body=body, user=user)
        await self.emu.deliver("issues", self.emu.payloads.issues("opened", REPO, issue["number"], user))
        await self.settle()
        return int(issue["number"])

    async def comment(self, number: int, user: str, body: str, repo: str = REPO) -> dict[str, Any]:
        made = self.state.add_comment(repo, number, body=body, user=user)
        await self.emu.deliver("issue_comment", self.emu.payloads.issue_comment("created", repo, number, made["id"], user))
        await self.settle()
        return made

    async def private_report(self, user: str, summary: str, description: str) -> str:
        """A private report through the form; the demo then follows it (its advisory, its tracker issue)."""
        adv = self.state.report_vulnerability(REPO, summary=summary, description=description, user=user)
        await self.emu.deliver("repository_advisory",
                               self.emu.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], user))
        await self.settle()
        self.ghsa = str(adv["ghsa_id"])
        report = await Reports(self.app[SERVICES].store).by_key(f"advisory:{REPO.lower()}:{self.ghsa}")
        self.tracker_number = report.tracker_number if report else None
        return self.ghsa

    # -- what people saw ----------------------------------------------------------------------------

    def _new(self, place: tuple[str, Any], comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = self.seen.get(place, 0)
        self.seen[place] = len(comments)
        return [c for c in comments[start:] if Context.is_bot(c["user"])]

    def new_to_reporter(self) -> list[dict[str, Any]]:
        assert self.ghsa is not None
        return self._new(("advisory", self.ghsa), self.state.advisory_comments(REPO, self.ghsa))

    def new_in_tracker(self) -> list[dict[str, Any]]:
        assert self.tracker_number is not None
        return self._new(("tracker", self.tracker_number), self.state.comments(TRACKER, self.tracker_number))

    def new_on_issue(self, number: int) -> list[dict[str, Any]]:
        return self._new((REPO, number), self.state.comments(REPO, number))

    def mark_seen(self) -> None:
        for get in (self.new_to_reporter, self.new_in_tracker):
            with contextlib.suppress(AssertionError):
                get()
        if self.public_issue is not None:
            self.new_on_issue(self.public_issue)

    def show_issue(self, number: int, bot_comments: list[dict[str, Any]] | None = None) -> None:
        issue = self.state.issue(REPO, number)
        labels = ", ".join(lb["name"] for lb in issue["labels"]) or "none"
        assignees = ", ".join(a["login"] for a in issue["assignees"]) or "none"
        _say(f"Public issue #{number} “{issue['title']}” by @{issue['user']['login']} — {issue['state']}"
             f"{', locked' if issue['locked'] else ''}; labels: {labels}; assignees: {assignees}", 2)
        for c in self.new_on_issue(number) if bot_comments is None else bot_comments:
            self.show_comment(c)

    def show_comment(self, c: dict[str, Any], when: bool = False) -> None:
        stamp = f"{_when(c['created_at'])}  " if when else ""
        _say(f"{stamp}💬 {c['user']['login']}:", 4)
        _say(_clean(c["body"]), 8)

    def reporter_saw(self, where: str = "") -> None:
        got = self.new_to_reporter()
        _say(f"Reporter saw{where or f' (advisory {self.ghsa}, private to the reporter and the maintainers)'}:", 2)
        self.show_comments(got)

    def maintainers_saw(self) -> None:
        got = self.new_in_tracker()
        _say(f"Maintainers saw (private tracker {TRACKER}#{self.tracker_number}):", 2)
        self.show_comments(got)

    def show_comments(self, comments: list[dict[str, Any]]) -> None:
        for c in comments:
            self.show_comment(c)
        if not comments:
            _say("(nothing new)", 4)

    def show_scheduled(self) -> None:
        """Print the messages the timers sent since the last look, each with its simulated date."""
        out: list[tuple[str, str, dict[str, Any]]] = []
        out += [(c["created_at"], "to the reporter, on the advisory", c) for c in self.new_to_reporter()]
        out += [(c["created_at"], f"to the maintainers, in {TRACKER}#{self.tracker_number}", c)
                for c in self.new_in_tracker()]
        for at, who, c in sorted(out, key=lambda x: x[0]):
            first = dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
            day = int((first - self.started) // DAY)
            _say(f"{_when(at)} (day {day}) {who}:", 2)
            _say(_clean(c["body"]), 6)

    async def maintainer_command(self, text: str) -> None:
        assert self.tracker_number is not None
        _say(f"@{MAINTAINER} comments in the private tracker {TRACKER}#{self.tracker_number} "
             f"({_when(self.clock.now())}): {text}", 2)
        made = await self.comment(self.tracker_number, MAINTAINER, text, repo=TRACKER)
        reacted = [r["content"] for r in self.state.reactions
                   if r["_subject"] == made["node_id"] and Context.is_bot(r["user"])]
        if reacted:
            _say(f"(Secbot reacted {' '.join({'+1': '👍', '-1': '👎', 'confused': '😕'}.get(r, r) for r in reacted)})", 4)
        self.maintainers_saw()
        self.reporter_saw()


async def play(d: Demo) -> None:
    state = d.state
    _heading("Scenario 1 — an ordinary bug report")
    n = await d.issue("alice", "Crash when the config file is empty",
                      "Running `hello --config empty.yml` raises IndexError.\n\n```\nTraceback ...\nIndexError: list index out of range\n```")
    d.show_issue(n)
    _say("Secbot stays silent: no comment, no label.", 2)

    _heading("Scenario 2 — a vulnerability filed as a public issue: the reporter is redirected")
    n = await d.issue(REPORTER, PRIVATE_SUMMARY,
                      "A tar member named `../../x` is written outside the output directory (arbitrary file "
                      "write). Details to follow.")
    d.public_issue = n
    _say("Everyone saw (a public issue):", 2)
    d.show_issue(n)

    _heading("Scenario 3 — a report in a comment, then a maintainer hides it with /sec hide")
    n = await d.issue("bob", "Support zip64 archives", "Large archives fail to open.")
    await d.comment(n, "mallory-researcher", "FYI the upload endpoint has an SQL injection: the `name` field is "
                    "concatenated into the query, `' OR 1=1 --` returns every user's password hash.")
    _say("@mallory-researcher posts SQL injection details in a comment; @maint answers `/sec hide`.", 2)
    await d.comment(n, MAINTAINER, "/sec hide")
    _say("Everyone saw:", 2)
    d.show_issue(n)
    _say("Maintainers and the reporter saw:", 2)
    for ghsa, adv in state.repo(REPO).advisories.items():
        collaborators = ", ".join(u["login"] for u in adv.get("collaborating_users") or [])
        _say(f"🔒 private draft advisory {ghsa} “{adv['summary']}” — state {adv['state']}; "
             f"credited: {', '.join(c['login'] for c in adv.get('credits') or [])}; collaborators: {collaborators}", 4)
    left = [c["user"]["login"] for c in state.comments(REPO, n)]
    _say(f"Public comments left on #{n}: {', '.join(left)} — the one with the details is gone.", 2)

    _heading("Scenario 4 — a false alarm, undone by a maintainer with /sec not-security")
    n = await d.issue("carol", "XSS: HTML in file names is not escaped in the CLI output",
                      "If a file is named <script>alert(1)</script>.txt, `hello ls` prints the tag unescaped. "
                      "An attacker could inject script via crafted file names.")
    d.show_issue(n)
    _say("The maintainers know a terminal does not run scripts, so this is no vulnerability: "
         "@maint answers `/sec not-security`.", 2)
    await d.comment(n, MAINTAINER, "/sec not-security")
    issue = state.issue(REPO, n)
    _say(f"After the undo: labels: {', '.join(lb['name'] for lb in issue['labels']) or 'none'}; "
         f"bot comments: {sum(1 for c in state.comments(REPO, n) if Context.is_bot(c['user']))}", 2)

    _heading("Scenario 5 — someone without write access tries a command")
    n = await d.issue("dave", "Docs typo", "“recieve” in README.")
    made = await d.comment(n, "dave", "/sec hide\n/sec status\n/sec help")
    _say("@dave answers `/sec hide`, `/sec status` and `/sec help`; everyone saw:", 2)
    d.show_issue(n)
    reactions = " ".join(_EMOJI.get(r["content"], r["content"]) for r in state.reactions if r["_subject"] == made["node_id"])
    _say(f"On @dave's comment: {reactions or 'no reaction'}, and not a word: only the repository's maintainers "
         "and its security team can give commands, and however many lines someone else types, one reaction "
         "is all they get (it tells nothing about any report).", 4)

    _heading("Scenario 6 — a private report through GitHub's private vulnerability reporting")
    await d.advance_to(d.clock.now() + 2 * HOUR)
    adv = state.report_vulnerability(
        REPO, summary=PRIVATE_SUMMARY, description=PRIVATE_DESCRIPTION, user=REPORTER,
        vulnerabilities=[{"package": {"ecosystem": "pip", "name": "hello-world"}, "vulnerable_version_range": "<= 1.4.1"}])
    d.ghsa = str(adv["ghsa_id"])
    _say(f"{_when(d.clock.now())}: @{REPORTER} follows the link from #{d.public_issue} and reports privately: "
         f"advisory {d.ghsa} “{PRIVATE_SUMMARY}” (its description stays private and is not shown here).", 2)
    await d.emu.deliver("repository_advisory",
                        d.emu.payloads.repository_advisory("reported", REPO, d.ghsa, REPORTER))
    await d.settle()
    d.reporter_saw()
    [tracker] = [i for i in state.repo(TRACKER).issues.values() if d.ghsa in i["title"]]
    d.tracker_number = int(tracker["number"])
    adv = state.advisory(REPO, d.ghsa)
    _say("Maintainers saw:", 2)
    _say(f"🔒 {TRACKER}#{d.tracker_number} (private repository) “{tracker['title']}” — assignees: "
         f"{', '.join(a['login'] for a in tracker['assignees']) or 'none'}; labels: "
         f"{', '.join(lb['name'] for lb in tracker['labels']) or 'none'}", 4)
    for line in _tracker_summary(tracker["body"]):
        _say(line, 8)
    _say(f"Advisory {d.ghsa}: state {adv['state']}; collaborators: "
         f"{', '.join(u['login'] for u in adv.get('collaborating_users') or [])}", 4)
    reports = await Reports(d.app[SERVICES].store).list()
    private = next(r for r in reports if r.ghsa_id == d.ghsa)
    linked = next((r for r in reports if r.id == private.linked_report_id), None)
    if linked is not None:
        _say(f"Secbot linked it to the public issue #{linked.issue_number} (the same reporter was redirected "
             f"from it {_hours(private.created_at - linked.created_at)} earlier): publication will close that issue.", 4)
    d.mark_seen()

    _heading("Scenario 7 — maintainer commands in the private tracker: /sec ack")
    await d.advance_to(d.clock.now() + 4 * HOUR)
    await d.maintainer_command("/sec ack")

    _heading("Scenario 8 — a week without a decision, compressed: status update, reminder, escalations")
    _say("Nobody accepts or rejects the report. The policy (defaults): update the reporter every 3 working "
         "days until triage, triage within 5 working days. Every scheduled message, with its simulated date:", 2)
    await d.run_until(d.started + 9 * DAY + 9 * HOUR, d.show_scheduled)

    _heading("Scenario 9 — the maintainers decide: /sec accept high, /sec eta")
    eta = dt.datetime.fromtimestamp(d.started + 42 * DAY, dt.timezone.utc).date().isoformat()
    await d.maintainer_command("/sec accept high")
    print()
    await d.advance_to(d.clock.now() + 1 * HOUR)
    await d.maintainer_command(f"/sec eta {eta}")

    _heading("Scenario 10 — weeks of fixing, compressed: weekly updates, /sec fixed, disclosure countdown")
    _say("High severity: the reporter hears from Secbot at least every 7 days; the maintainers are warned "
         "30, 14, 7 and 1 days before the 90-day disclosure deadline.", 2)
    await d.run_until(d.started + 40 * DAY + 10 * HOUR, d.show_scheduled)
    print()
    await d.maintainer_command("/sec fixed 1.4.2")
    await d.run_until(d.started + 61 * DAY + 12 * HOUR, d.show_scheduled)

    _heading("Scenario 11 — publication: the reporter thanked and credited, the public issue closed")
    _say(f"{_when(d.clock.now())}: 1.4.2 is released; @{MAINTAINER} publishes the advisory.", 2)
    state.update_advisory(REPO, d.ghsa, {"state": "draft"}, actor=MAINTAINER)
    state.update_advisory(REPO, d.ghsa, {"state": "published"}, actor=MAINTAINER)
    await d.emu.deliver("repository_advisory",
                        d.emu.payloads.repository_advisory("published", REPO, d.ghsa, MAINTAINER))
    await d.settle()
    adv = state.advisory(REPO, d.ghsa)
    credits = ", ".join(f"{c['user']['login']} ({c['type']})" for c in adv.get("credits_detailed") or [])
    _say(f"Advisory {d.ghsa}: {adv['state']}; severity {adv['severity']}; patched: "
         f"{', '.join(v.get('patched_versions') or '?' for v in adv.get('vulnerabilities') or [])}"
         f"{f'; credits: {credits}' if credits else ''}", 2)
    d.reporter_saw()
    [release] = state.repo(REPO).releases.values()
    _say(f"Maintainers saw: the release “{release['name']}” for tag {release['tag_name']} that `/sec fixed 1.4.2` "
         f"drafted — still a {'draft' if release['draft'] else 'PUBLISHED release (unexpected)'}: Secbot never "
         "publishes it. Its text:", 2)
    for line in _clean(release["body"]).splitlines():
        if line.strip():
            _say(line, 6)
    for pull in state.repo(REPO).pulls.values():
        _say(f"Pull request #{pull['number']} “{pull['title']}” ({pull['head']['ref']} → {pull['base']['ref']}), "
             "adding the advisory's credited people to SECURITY-ACKNOWLEDGEMENTS.md:", 2)
        for line in state.repo(REPO).files[(pull["head"]["ref"], "SECURITY-ACKNOWLEDGEMENTS.md")].splitlines():
            if line.strip():
                _say(line, 6)
    async with aiohttp.ClientSession() as session:
        for path in (f"/stats/{REPO}.json", f"/badge/{REPO}.json"):
            async with session.get(d.base_url + path) as resp:
                _say(f"GET {path} (public, from the store, no GitHub call) → {resp.status} {await resp.text()}", 2)
    _say("One closed report is not enough: figures are shown from 3 closed reports on, so none can be read back "
         "to a single report.", 4)
    assert d.public_issue is not None
    _say("Everyone saw (the public issue the reporter was redirected from):", 2)
    d.show_issue(d.public_issue)
    tracker = state.issue(TRACKER, d.tracker_number or 0)
    _say(f"Maintainers saw: the private tracker {TRACKER}#{d.tracker_number} is {tracker['state']}.", 2)
    for c in d.new_in_tracker():
        d.show_comment(c)
    await d.run_until(d.clock.now() + 14 * DAY)
    quiet = not d.new_to_reporter() and not d.new_in_tracker()
    _say(f"Two more weeks pass: {'no more messages, every timer stopped' if quiet else 'more messages (unexpected)'}.", 2)
    await play_flood_tools(d)


async def play_flood_tools(d: Demo) -> None:
    """Issue 18: the tools for a flood of reports."""
    state = d.state
    _heading("Scenario 12 — a slop report answered with /sec needs-info")
    await d.advance_to(d.clock.now() + DAY)
    state.set_profile("slop-hunter", created_at=dt.datetime.fromtimestamp(d.clock.now() - 2 * DAY, dt.timezone.utc)
                      .strftime("%Y-%m-%dT%H:%M:%SZ"), public_repos=0, followers=0)
    ghsa = await d.private_report("slop-hunter", "CRITICAL RCE in hello_secure_eval() (CVE-2024-3094)", SLOP_DESCRIPTION)
    _say(f"@slop-hunter reports privately: advisory {ghsa} “CRITICAL RCE in hello_secure_eval() (CVE-2024-3094)”. "
         "The project has no hello_secure_eval(), and that CVE is the xz backdoor's; there is no proof of concept.", 2)
    d.reporter_saw()
    _say("The maintainers' triage card (only they see it) checked its claims against the repository:", 2)
    d.maintainers_saw()
    await d.maintainer_command("/sec needs-info poc Please show it against hello itself, with the version you ran.")
    await d.run_until(d.clock.now() + 6 * DAY, d.show_scheduled)
    _say("Six days without an answer: no reminder, no escalation, no status update (the targets wait on the "
         "reporter). Then @slop-hunter answers on the advisory:", 2)
    state.add_advisory_comment(REPO, ghsa, body="Sorry, the function is in another project.", user="slop-hunter")
    report = await Reports(d.app[SERVICES].store).by_key(f"advisory:{REPO.lower()}:{ghsa}")
    assert report is not None
    await d.app[SERVICES].queue.schedule("advisory_poll", {"report_id": report.id}, singleton_key=f"poll:{report.id}",
                                         installation_id=report.installation_id)
    await d.settle()
    d.maintainers_saw()
    await d.maintainer_command("/sec reject invalid")

    _heading("Scenario 13 — a flood from one reporter")
    _say("@flood-bot sends seven private reports within an hour (floods.reports_per_day is 5 by default). Each "
         "is acknowledged; the sixth also gets one polite note, the seventh none:", 2)
    for n in range(7):
        await d.advance_to(d.clock.now() + 5 * 60)
        ghsa = await d.private_report("flood-bot", f"Missing security header #{n + 1}", f"Header {n + 1} is absent.")
        notes = [c for c in state.advisory_comments(REPO, ghsa)
                 if Context.is_bot(c["user"]) and "in the order it arrived" in c["body"]]
        _say(f"report {n + 1} ({ghsa}): acknowledged{'; and the note:' if notes else ''}", 4)
        for c in notes:
            _say(_clean(c["body"]), 8)
    d.mark_seen()
    await d.maintainer_command("/sec reject beg-bounty headers")

    _heading("Scenario 14 — a report that is no vulnerability, reclassified into a public issue")
    await d.advance_to(d.clock.now() + HOUR)
    ghsa = await d.private_report("erin", "Crash on a negative size header", RECLASSIFIED_DESCRIPTION)
    d.mark_seen()
    before = set(state.repo(REPO).issues)
    await d.maintainer_command("/sec reclassify Crash when the size header is negative\n"
                               "`hello serve` stops on a negative size header; it should answer 400.")
    [number] = set(state.repo(REPO).issues) - before
    _say("Everyone saw (the new public issue, in the maintainer's words only):", 2)
    d.show_issue(number)
    _say(f"Advisory {ghsa}: {state.advisory(REPO, ghsa)['state']}.", 2)

    _heading("Scenario 15 — away mode")
    back = dt.datetime.fromtimestamp(d.clock.now() + 12 * DAY, dt.timezone.utc).date().isoformat()
    await d.maintainer_command(f"/sec away until {back} Back after the holidays.")
    await d.advance_to(d.clock.now() + HOUR)
    ghsa = await d.private_report("frank", "Token leak in debug logs", "The debug log prints the API token.")
    _say("@frank reports privately meanwhile:", 2)
    d.reporter_saw()
    at = [j.run_at for j in await d.app[SERVICES].queue.list(state="queued", kind="report_timer")
          if j.singleton_key and j.singleton_key.startswith("timer:targets:")]
    _say(f"Its response-target check is set for {_when(max(at))}, after the maintainers are back.", 2)
    await d.run_until(d.clock.now() + 14 * DAY, d.show_scheduled)


SLOP_DESCRIPTION = (
    "## Executive Summary\nA critical Remote Code Execution vulnerability (CVSS 10.0) exists in "
    "`hello_secure_eval()`, tracked as CVE-2024-3094. An attacker could potentially execute arbitrary code. "
    "Impact: complete compromise. Remediation: sanitize all inputs. Please advise on the bounty. PRIVATE-SLOP-1"
)
RECLASSIFIED_DESCRIPTION = "Sending a negative size header makes hello serve exit: a denial of service? PRIVATE-RC-2"


def _tracker_summary(body: str) -> list[str]:
    """The tracker issue's opening line and state table; never the report text below them."""
    top = _clean(body).split("<details")[0]
    lines = [top.strip().splitlines()[0]] if top.strip() else []
    for row in top.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if row.startswith("|") and len(cells) == 2 and cells[0] and not cells[0].startswith("-"):
            lines.append(f"{cells[0]}: {cells[1]}")
    return lines


def _hours(seconds: float) -> str:
    hours = round(seconds / HOUR)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours < 48 else f"{round(seconds / DAY)} days"


def _next_monday_9am(now: dt.datetime) -> dt.datetime:
    monday = now + dt.timedelta(days=7 - now.weekday())
    return monday.replace(hour=9, minute=0, second=0, microsecond=0)


async def run_demo(*, routers: Sequence[routing.Router], jobs: Mapping[str, JobHandler], keep: Path | None = None) -> int:
    """Play the scenarios against the real app built with `routers` and `jobs` (the handlers)."""
    began = time.monotonic()
    logs.setup("WARNING", "text")
    state = GitHubState()
    # Start on a Monday at 09:00 UTC, so working days and dates read naturally.
    state.set_now(_next_monday_9am(state.now()))
    clock = FrozenClock(state.now().timestamp())
    state.add_installation(1, "octo-org")
    state.add_repo(REPO, installation_id=1, pvr_enabled=True)
    state.add_repo(TRACKER, installation_id=1, private=True, pvr_enabled=False)
    state.set_permission(REPO, MAINTAINER, "maintain")
    state.set_permission(TRACKER, MAINTAINER, "maintain")
    for user in ("alice", "bob", "carol", "dave", REPORTER, "mallory-researcher"):
        state.add_user(user)
    state.put_file(REPO, ".github/secbot.yml", CONFIG)
    # What the triage cards check reports against: the project's files, and GitHub's advisory database.
    state.add_paths(REPO, ["hello/__init__.py", "hello/cli.py", "hello/serve.py", "tests/test_cli.py", "README.md"],
                    symbols={"hello/cli.py": ["main", "greet"], "hello/serve.py": ["serve", "read_header"]})
    state.add_global_advisory(cve_id="CVE-2024-3094", summary="Malicious code in xz-utils (liblzma)",
                              source_code_location="https://github.com/tukaani-project/xz", severity="critical")
    simulated = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        db = (keep or Path(tmp)) / "secbot-demo.db"
        async with run_emulator(state) as emu:
            settings = Settings(
                webhook_secret=Secret(state.webhook_secret), app_id=str(state.app_id),
                private_key=Secret(state.private_key_pem), api_url=emu.base_url,
                database_url=f"sqlite+aiosqlite:///{db}", poll_interval=0.01, log_format="text",
            )
            app = create_app(settings, clock=clock, routers=routers, jobs=jobs)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            state.webhook_url = f"http://127.0.0.1:{port}/webhook"
            _say(f"Secbot demo: the real bot (SQLite at {db.name}) on 127.0.0.1:{port}, GitHub emulated at "
                 f"{emu.base_url}. Bot and emulator share a simulated clock starting {_when(clock.now())} UTC.")
            _say(f"Repository {REPO}: public, private vulnerability reporting on; security team: @{MAINTAINER}; "
                 f"private tracker repository {TRACKER}.")
            try:
                demo = Demo(state, emu, app, clock)
                demo.base_url = f"http://127.0.0.1:{port}"
                await play(demo)
                simulated = clock.now() - demo.started
            finally:
                with contextlib.suppress(Exception):
                    await runner.cleanup()
    problems = len(state.violations) + len(state.response_errors)
    print()
    _say(f"Simulated {simulated / DAY:.0f} days; finished in {time.monotonic() - began:.1f} s.")
    _say(f"Emulator check against GitHub's OpenAPI description: {len(state.requests)} requests, {problems} problems.")
    return 1 if problems else 0
