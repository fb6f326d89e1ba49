"""Transparency and appreciation (issue 19): public response-time figures, the hall of fame,
security release drafts, CVE requests, rewards, and the announcement text.

- Figures (`refresh_stats`): computed when a report closes (bot/rules/transparency.py holds the
  privacy rules) and kept as one fact per repository; the web's badge views
  (bot/web/badge.py) answer from that fact alone, with no GitHub call per request. Only for
  repositories with `transparency.public_stats: true`; the daily channel check removes the
  figures of a repository that switched it off, and computes them for one that switched it on.
- The hall of fame (`hall_of_fame`): on publication, with `appreciation.hall_of_fame`, one pull
  request per publication adding the advisory's credited people (not those who declined) to
  that file, under the year, with the advisory link.
- Release drafts (`draft_release`): `/sec fixed 1.4.2` drafts a GitHub release "Security update
  1.4.2" with the advisory's summary, severity, CVE, affected and patched versions, upgrade
  instructions and credit. Secbot never publishes it. A draft release is readable by everyone
  with write access to the repository, not only by the advisory's collaborators.
- Releases and pull requests need the optional permissions `contents: write` and
  `pull_requests: write`. Without them GitHub answers 403: the maintainers are told once what
  to grant, in the report's private place, and nothing is retried.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import gidgethub
import yaml

from bot.clock import iso
from bot.jobs.context import Context, get_or_none, read_file
from bot.render import find_marker, render
from bot.reports import outreach, writes
from bot.rules.config import RepoConfig
from bot.rules.policy import Policy
from bot.rules.security_md import human_duration
from bot.rules.transparency import WINDOW, compute
from bot.store.reports import Report

STATS_TTL = 100 * 365 * 86400.0  # kept until replaced or removed: the figures change only when a report closes


def stats_key(full_name: str) -> str:
    return f"public-stats:{full_name.lower()}"


# -- public figures --------------------------------------------------------------------------------


async def refresh_stats(ctx: Context, full_name: str, cfg: RepoConfig, *, only_if_missing: bool = False) -> None:
    """Compute and keep the repository's public figures (after a report closed), or remove them
    when the repository does not publish them. With `only_if_missing` (the daily check), existing
    figures are left as they are: they change only when a report closes."""
    key = stats_key(full_name)
    now = ctx.clock.now()
    if not (cfg.enabled and cfg.transparency.public_stats):
        if await ctx.facts.get(key, now) is not None:
            await ctx.facts.forget(key)
            ctx.log.info("public figures removed: transparency.public_stats is off", extra={"repo": full_name})
        return
    if only_if_missing and await ctx.facts.get(key, now) is not None:
        return
    closed = await ctx.reports.closed_for_stats(full_name, WINDOW)
    policy = Policy.from_config(cfg.policy)
    figures = compute(closed, policy, human_duration(str(cfg.policy.acknowledge_within)))
    await ctx.facts.remember(key, figures.as_dict(full_name), now, STATS_TTL)
    ctx.log.info("public figures computed", extra={"repo": full_name, "enough_reports": figures.enough})


# -- the optional permissions ----------------------------------------------------------------------


async def _missing_permission(ctx: Context, report: Report, what: str) -> None:
    await outreach.tell_maintainers(ctx, report, key=f"permission:{what}:{report.id}",
                                    body=render("transparency_permission", what=what))
    ctx.log.warning("GitHub refused a write that needs an optional permission",
                    extra={"report": report.id, "write": what})


# -- security release drafts -----------------------------------------------------------------------


UPGRADE = {
    "pip": 'pip install --upgrade "{name}>={version}"',
    "npm": "npm install {name}@{version}",
    "rubygems": 'gem "{name}", ">= {version}"  # then: bundle update {name}',
    "go": "go get {name}@v{bare}",
    "rust": "cargo update -p {name} --precise {bare}",
    "composer": 'composer require "{name}:^{bare}"',
    "maven": "<version>{version}</version>  <!-- {name} -->",
    "nuget": "dotnet add package {name} --version {bare}",
    "pub": "dart pub upgrade {name}  # to {version} or later",
    "erlang": "{{:{name}, \"~> {bare}\"}}",
    "swift": '.package(url: "...", from: "{bare}")  // {name}',
    "actions": "uses: {name}@v{bare}",
}


def _upgrade_lines(vulnerabilities: list[dict[str, Any]], version: str) -> list[str]:
    lines = []
    bare = version.lstrip("vV")
    for v in vulnerabilities:
        pkg = v.get("package") or {}
        name = pkg.get("name")
        if not name:
            continue
        form = UPGRADE.get(str(pkg.get("ecosystem") or ""))
        if form:
            lines.append(form.format(name=name, version=version, bare=bare))
    return lines


def credited(adv: dict[str, Any]) -> list[dict[str, str]]:
    """The people the advisory credits, as GitHub shows them, leaving out who declined credit."""
    detailed = adv.get("credits_detailed")
    if detailed:
        return [{"login": c["user"]["login"], "type": c.get("type") or "other"} for c in detailed
                if (c.get("user") or {}).get("login") and c.get("state") != "declined"]
    return [{"login": c["login"], "type": c.get("type") or "other"} for c in adv.get("credits") or [] if c.get("login")]


def release_view(adv: dict[str, Any], report: Report, version: str, url: str) -> dict[str, Any]:
    """What the release draft and the announcement text show: the advisory as the maintainers
    will publish it (no text of the report beyond its summary)."""
    vulns = adv.get("vulnerabilities") or []
    return {
        "summary": adv.get("summary") or report.ghsa_id or "a security vulnerability",
        "ghsa_id": adv.get("ghsa_id") or report.ghsa_id, "url": url,
        "severity": adv.get("severity") or report.severity, "cvss": (adv.get("cvss") or {}).get("vector_string"),
        "cve_id": adv.get("cve_id") or report.cve_id, "version": version,
        "packages": [{"name": (v.get("package") or {}).get("name") or report.repo,
                      "ecosystem": (v.get("package") or {}).get("ecosystem"),
                      "affected": v.get("vulnerable_version_range") or f"< {version}",
                      "patched": v.get("patched_versions") or version} for v in vulns]
        or [{"name": report.repo.split("/", 1)[1], "ecosystem": None, "affected": f"< {version}", "patched": version}],
        "upgrade": _upgrade_lines(vulns, version), "credits": credited(adv),
    }


async def _advisory(ctx: Context, report: Report) -> dict[str, Any]:
    ghsa = outreach.advisory_of(report)
    if ghsa is None:
        return {}
    assert ctx.gh is not None
    owner, name = report.repo.split("/", 1)
    return await ctx.gh.getitem("/repos/{owner}/{repo}/security-advisories/{ghsa_id}",
                                {"owner": owner, "repo": name, "ghsa_id": ghsa})


def _advisory_url(ctx: Context, report: Report, adv: dict[str, Any]) -> str:
    from bot.github.urls import advisory_url, html_url

    ghsa = adv.get("ghsa_id") or outreach.advisory_of(report) or ""
    return adv.get("html_url") or advisory_url(f"{html_url(ctx.services.settings.api_url)}/{report.repo}", ghsa)


async def draft_release(ctx: Context, report: Report, version: str) -> str:
    """Draft the GitHub release of a security fix once per report and version; returns a line for
    the maintainers. Drafted for the tag `version` (or `v<version>`) when it exists; otherwise for
    a tag that publishing the release will create. Never published by Secbot."""
    assert ctx.gh is not None
    if outreach.advisory_of(report) is None:
        return ""  # a report on a public issue only: no advisory to draft a release from
    owner, name = report.repo.split("/", 1)
    repo_vars = {"owner": owner, "repo": name}
    key = f"release:{report.id}:{version}"
    if await ctx.ledger.result(key) is not None:
        return f"The release draft for {version} was made before."
    tag, tag_exists = version, False
    for candidate in (version, f"v{version}" if not version.lower().startswith("v") else version[1:]):
        if await get_or_none(ctx.gh, "/repos/{owner}/{repo}/git/ref/{+ref}", {**repo_vars, "ref": f"tags/{candidate}"},
                             missing=(404, 409)):
            tag, tag_exists = candidate, True
            break
    existing = await get_or_none(ctx.gh, "/repos/{owner}/{repo}/releases/tags/{tag}", {**repo_vars, "tag": tag},
                                 missing=(404,))
    adv = await _advisory(ctx, report)
    view = release_view(adv, report, version, _advisory_url(ctx, report, adv))
    body = render("release_notes", release=view, tag=tag, tag_exists=tag_exists)
    if existing is not None:  # published already: leave it alone, give the maintainers the text
        await outreach.tell_maintainers(ctx, report, key=f"release-text:{report.id}:{version}",
                                        body=render("release_text_note", tag=tag, text=body))
        await ctx.ledger.record(key, report.id, {"existing": True}, ctx.clock.now())
        return f"A release for {tag} is already published; the security notes for it are in a note here."

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        made = await ctx.gh.post("/repos/{owner}/{repo}/releases", repo_vars, data={
            "tag_name": tag, "name": f"Security update {version}", "draft": True,
            "body": writes.marked(body, "release", report.id, key)})
        return {"release_id": (made or {}).get("id"), "tag": tag}

    async def find(since: float) -> dict[str, Any] | None:
        assert ctx.gh is not None
        async for release in ctx.gh.getiter("/repos/{owner}/{repo}/releases{?per_page}", {**repo_vars, "per_page": 100}):
            found = find_marker(release.get("body"), "release")
            if found and found.get("key") == writes.short(key) and await writes.own(ctx, release):
                return {"release_id": release["id"], "tag": tag}
        return None

    try:
        await writes.create_once(ctx, key=key, report_id=report.id, send=send, find=find, record_dry_run=False)
    except gidgethub.BadRequest as exc:
        if exc.status_code != 403:
            raise
        await ctx.ledger.record(key, report.id, {"missing_permission": True}, ctx.clock.now())
        await _missing_permission(ctx, report, "release")
        return "GitHub refused the release draft: see the note about permissions."
    return (f"A draft release \"Security update {version}\" (tag {tag}) is ready with the advisory's details; "
            "review it and publish it with the advisory. Secbot never publishes it.")


# -- CVE ---------------------------------------------------------------------------------------------


async def request_cve(ctx: Context, report: Report) -> str:
    """Ask GitHub for a CVE for the report's advisory; returns a line for the maintainers."""
    adv = await _advisory(ctx, report)
    if not adv:
        return "This report has no advisory to request a CVE for."
    if adv.get("cve_id"):
        await cve_seen(ctx, report, adv)
        return f"The advisory already has {adv['cve_id']}."
    assert ctx.gh is not None
    owner, name = report.repo.split("/", 1)
    try:
        await ctx.gh.post("/repos/{owner}/{repo}/security-advisories/{ghsa_id}/cve",
                          {"owner": owner, "repo": name, "ghsa_id": adv["ghsa_id"]}, data=b"")
    except gidgethub.BadRequest as exc:
        if exc.status_code == 403:
            return ("GitHub refused the CVE request: only for public repositories, and the app needs "
                    "Repository security advisories: write.")
        if exc.status_code in (400, 422):
            return ("GitHub did not accept the CVE request (it may have been requested already, or the "
                    "advisory is still in triage: accept it first).")
        raise
    await ctx.reports.update(report.id, now=ctx.clock.now(), event="cve-requested", actor="secbot")
    from bot.reports import timers

    await timers.schedule_poll(ctx, report)
    return "CVE requested from GitHub. When it is assigned, the tracker and the reporter will show it."


async def cve_seen(ctx: Context, report: Report, adv: dict[str, Any]) -> Report:
    """The advisory shows a CVE the report does not know yet: record it, tell the reporter once."""
    cve = adv.get("cve_id")
    if not cve or not re.fullmatch(r"CVE-\d{4}-\d{4,}", str(cve)) or report.cve_id == cve:
        return report
    report = await ctx.reports.update(report.id, now=ctx.clock.now(), cve_id=cve, event="cve-assigned",
                                      actor="github", detail={"cve": cve})
    await outreach.tell_reporter(ctx, report, key=f"cve:{report.id}:{cve}", template="cve_assigned", cve=cve)
    return report


# -- rewards ----------------------------------------------------------------------------------------


_FUNDING_URLS = {
    "patreon": "https://www.patreon.com/{}", "open_collective": "https://opencollective.com/{}",
    "ko_fi": "https://ko-fi.com/{}", "liberapay": "https://liberapay.com/{}",
    "buy_me_a_coffee": "https://www.buymeacoffee.com/{}", "polar": "https://polar.sh/{}",
    "thanks_dev": "https://thanks.dev/{}", "tidelift": "https://tidelift.com/funding/github/{}",
    "community_bridge": "https://crowdfunding.lfx.linuxfoundation.org/projects/{}",
    "issuehunt": "https://issuehunt.io/r/{}", "lfx_crowdfunding": "https://crowdfunding.lfx.linuxfoundation.org/projects/{}",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,99}")
MAX_FUNDING_LINKS = 5


def funding_links(text: str | None) -> list[str]:
    """The links of a FUNDING.yml (GitHub Sponsors first), at most MAX_FUNDING_LINKS; [] when absent or broken."""
    if not text or len(text) > 16_384:
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    links: list[str] = []

    def names(value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items if isinstance(v, (str, int)) and _NAME.fullmatch(str(v))]

    links += [f"https://github.com/sponsors/{n}" for n in names(data.get("github"))]
    for platform, form in _FUNDING_URLS.items():
        links += [form.format(n) for n in names(data.get(platform))]
    custom = data.get("custom")
    for url in custom if isinstance(custom, list) else [custom]:
        if isinstance(url, str) and re.fullmatch(r"https://[^\s<>()\[\]]{1,200}", url):
            links.append(url)
    return links[:MAX_FUNDING_LINKS]


async def repo_funding(ctx: Context, full_name: str) -> list[str]:
    """The repository's funding links (.github/FUNDING.yml, or the owner's .github repository), kept a day."""
    assert ctx.gh is not None
    owner, name = full_name.split("/", 1)

    async def look() -> list[str]:
        assert ctx.gh is not None
        for repo in (name, ".github"):
            text = await read_file(ctx.gh, owner, repo, ".github/FUNDING.yml") if repo == name else \
                await read_file(ctx.gh, owner, repo, "FUNDING.yml")
            if text is not None:
                return funding_links(text)
        return []

    found = await ctx.facts.remembered(f"funding:{full_name.lower()}", ctx.clock.now(), 86400.0, look)
    return list(found or [])


async def reward(ctx: Context, report: Report, text: str, actor: str, msg_key: str, cfg: RepoConfig) -> Report:
    """Record a reward and tell the reporter privately, with the repository's instructions."""
    report = await ctx.reports.update(report.id, now=ctx.clock.now(), reward=text, event="reward", actor=actor,
                                      detail={"reward": text})
    await outreach.tell_reporter(ctx, report, key=msg_key, template="reward", reward=text,
                                 instructions=cfg.appreciation.reward_instructions,
                                 funding=await repo_funding(ctx, report.repo))
    return report


# -- on publication -------------------------------------------------------------------------------


async def on_published(ctx: Context, report: Report, adv: dict[str, Any], url: str, cfg: RepoConfig) -> Report:
    """Publication: the CVE as published, the announcement text for the maintainers, the hall of
    fame pull request, the public figures."""
    report = await cve_seen(ctx, report, adv)
    version = report.fixed_version or next((v.get("patched_versions") for v in adv.get("vulnerabilities") or []
                                            if v.get("patched_versions")), None) or "the patched version"
    view = release_view(adv, report, version, url)
    await outreach.tell_maintainers(ctx, report, key=f"announcement-text:{report.id}",
                                    body=render("announcement_text", release=view))
    if cfg.appreciation.hall_of_fame:
        await hall_of_fame(ctx, report, adv, url, cfg.appreciation.hall_of_fame)
    await refresh_stats(ctx, report.repo, cfg)
    return report


HOF_HEADER = ("# Security acknowledgements\n\nWe thank the people who found and reported security issues in "
              "this project privately and responsibly.\n")
_YEAR = re.compile(r"^## (\d{4})\s*$")


def add_to_hall_of_fame(current: str | None, year: int, entries: list[str]) -> str:
    """The file with `entries` (Markdown list lines) at the top of `year`'s section, newest year
    first; lines already in the file are not added again."""
    text = current if current and current.strip() else HOF_HEADER
    lines = text.rstrip("\n").split("\n")
    entries = [e for e in entries if e not in lines]
    if not entries:
        return text if text.endswith("\n") else text + "\n"
    for i, line in enumerate(lines):
        m = _YEAR.match(line)
        if m and int(m[1]) == year:
            at = i + 1
            while at < len(lines) and not lines[at].strip():
                at += 1
            lines[at:at] = entries
            return "\n".join(lines) + "\n"
        if m and int(m[1]) < year:
            lines[i:i] = [f"## {year}", "", *entries, ""]
            return "\n".join(lines) + "\n"
    return "\n".join(lines + ["", f"## {year}", "", *entries]) + "\n"


def _entry(login: str, kind: str, ghsa: str, url: str, summary: str) -> str:
    from bot.render import md

    role = "" if kind in ("reporter", "finder") else f" ({kind.replace('_', ' ')})"
    return f"- [{md(login)}](https://github.com/{login}){role}: [{ghsa}]({url}) {md(summary)}".rstrip()


async def hall_of_fame(ctx: Context, report: Report, adv: dict[str, Any], url: str, path: str) -> None:
    """One pull request per publication adding the credited people to the hall-of-fame file."""
    people = credited(adv)
    ghsa = adv.get("ghsa_id") or report.ghsa_id or ""
    key = f"hall-of-fame:{report.id}"
    if not people or not ghsa or await ctx.ledger.result(key) is not None:
        return
    year = int((adv.get("published_at") or iso(ctx.clock.now()) or "1970")[:4])
    entries = [_entry(p["login"], p["type"], ghsa, url, adv.get("summary") or "") for p in people]
    owner, name = report.repo.split("/", 1)
    repo_vars = {"owner": owner, "repo": name}
    branch = f"secbot/hall-of-fame-{ghsa.lower()}"

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        repo = await ctx.gh.getitem("/repos/{owner}/{repo}", repo_vars)
        base = repo["default_branch"]
        head = await ctx.gh.getitem("/repos/{owner}/{repo}/git/ref/{+ref}", {**repo_vars, "ref": f"heads/{base}"})
        try:
            await ctx.gh.post("/repos/{owner}/{repo}/git/refs", repo_vars,
                              data={"ref": f"refs/heads/{branch}", "sha": head["object"]["sha"]})
        except gidgethub.BadRequest as exc:
            if exc.status_code != 422:  # the branch exists: an earlier try made it
                raise
        existing = await get_or_none(ctx.gh, "/repos/{owner}/{repo}/contents/{+path}{?ref}",
                                     {**repo_vars, "path": path, "ref": branch}, missing=(404,))
        current = base64.b64decode(existing.get("content") or "").decode("utf-8", "replace") if existing else None
        text = add_to_hall_of_fame(current, year, entries)
        if text != current:
            data = {"message": f"Acknowledge the reporters of {ghsa}",
                    "content": base64.b64encode(text.encode()).decode(), "branch": branch}
            if existing:
                data["sha"] = existing["sha"]
            await ctx.gh.put("/repos/{owner}/{repo}/contents/{+path}", {**repo_vars, "path": path}, data=data)
        pull = await ctx.gh.post("/repos/{owner}/{repo}/pulls", repo_vars, data={
            "title": f"Security acknowledgements: {ghsa}", "head": branch, "base": base,
            "body": writes.marked(render("hall_of_fame_pull_request", ghsa=ghsa, url=url, path=path,
                                         count=len(entries)), "hall-of-fame", report.id, key)})
        return {"number": (pull or {}).get("number")}

    async def find(since: float) -> dict[str, Any] | None:
        assert ctx.gh is not None
        async for pull in ctx.gh.getiter("/repos/{owner}/{repo}/pulls{?head,state}",
                                         {**repo_vars, "head": f"{owner}:{branch}", "state": "all"}):
            if await writes.own(ctx, pull):
                return {"number": pull["number"]}
        return None

    try:
        made = await writes.create_once(ctx, key=key, report_id=report.id, send=send, find=find, record_dry_run=False)
    except gidgethub.BadRequest as exc:
        if exc.status_code != 403:
            raise
        await ctx.ledger.record(key, report.id, {"missing_permission": True}, ctx.clock.now())
        await _missing_permission(ctx, report, "hall-of-fame")
        return
    ctx.log.info("hall-of-fame pull request opened", extra={"report": report.id, "number": made.get("number")})
