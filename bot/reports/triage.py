"""The triage card: for every new report (a private report, or a public one moved into a draft
advisory), what a maintainer would check first, each fact with its evidence, and a suggested
next step that Secbot never takes by itself.

It is made once and kept in the store (`secbot reports ID`, `secbot show GHSA-...` show it), and
posted once in the report's private tracker issue when there is one (hidden marker + ledger key,
like every write). It never goes to the advisory (the reporter reads every comment there) nor
anywhere public, and no log line carries its content.

GitHub calls one card makes, cold: the repository (default branch), its tree at the default
branch and at a cited version, its tags (and releases when a version is not a tag), one code
search per symbol, option or endpoint up to `MAX_SEARCHES` and within the installation's code
search budget, one global-advisory lookup per CVE or GHSA id named (at most 3 of each), the
repository's advisories, and the reporter's public profile. Warm, the tree is reused for
`trees.FRESH` seconds and the other reads are ETag-conditional (a 304 is free).

Code search allows 10 requests a minute per installation (GitHub's `code_search` resource,
separate from the core limit). Secbot's windows are fixed minutes while GitHub's are not, so it
takes at most `SEARCHES_PER_MINUTE` = 5 in each fixed minute, shared by all replicas through the
store: any 60 seconds then hold at most 10. A claim beyond the budget is "not checked".
"""

from __future__ import annotations

import asyncio
from typing import Any

import gidgethub

from bot.clock import iso, parse_iso
from bot.errors import RateLimited
from bot.jobs.context import Context
from bot.render import render
from bot.reports import floods, outreach, writes
from bot.rules import triage as rules
from bot.rules.config import RepoConfig
from bot.store.reports import Report

SEARCHES_PER_MINUTE = 5  # see the module docstring: 10 a minute at GitHub, windows not aligned
MAX_ID_LOOKUPS = 3  # CVE ids, and GHSA ids, looked up in the global database per card
RECENT_REPORTS = 180 * 86400.0  # reports in the store compared for duplicates: this far back
CARD_KIND = "triage-card"


def card_key(report_id: int) -> str:
    return f"triage-card:{report_id}"


async def card(ctx: Context, report: Report, cfg: RepoConfig, *,
               adv: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make the report's card once, keep it, and post it once in its private tracker issue."""
    kept = await ctx.triage_cards.get(report.id)
    if kept is None:
        made = await build(ctx, report, cfg, adv=adv)
        kept = await ctx.triage_cards.keep(report.id, made, ctx.clock.now())
        ctx.log.info("triage card made", extra={"report": report.id, "suggestion": kept["suggestion"]["step"]})
    fresh = await ctx.reports.get(report.id) or report  # the tracker issue may be newer than `report`
    if cfg.tracker.repo and fresh.tracker_number is None:
        # A public report just moved into a draft has no tracker issue yet; its text is private now.
        fresh = await outreach.sync_tracker(ctx, fresh, cfg)
    if await outreach.tracker_ok(ctx, fresh):
        await writes.comment_once(ctx, key=card_key(report.id), kind=CARD_KIND, report_id=report.id,
                                   body=render("triage_card", card=kept), number=fresh.tracker_number,
                                   repo=fresh.tracker_repo)
    return kept


def text(kept: dict[str, Any]) -> str:
    """The card as maintainers read it (the tracker comment; `secbot show`)."""
    return render("triage_card", card=kept)


async def build(ctx: Context, report: Report, cfg: RepoConfig, *, adv: dict[str, Any] | None = None) -> dict[str, Any]:
    """Gather the card's facts (GitHub reads and the store), then let the rules score them. The
    rules read a stranger's text (up to `rules.MAX_TEXT` characters, tenths of a second at worst):
    in a thread, so the event loop keeps answering webhooks meanwhile."""
    title, body = report.original_title or "", report.original_body or ""
    own = report.ghsa_id or report.draft_ghsa_id
    claims = await asyncio.to_thread(rules.extract_claims, title, body, own_ghsa=own)
    ranges = [v.get("vulnerable_version_range") or "" for v in (adv or {}).get("vulnerabilities") or []]
    repo = await _repository(ctx, report.repo)
    default = (repo or {}).get("default_branch") or "main"
    versions = await _versions(ctx, report.repo, claims) if claims.versions else []
    cited = next((v["tag"] for v in versions if v.get("tag")), None) or next(iter(claims.refs), None)
    found = await _check_paths(ctx, report.repo, claims.paths, default, cited)
    found += await _check_code(ctx, report, claims)
    sub = await asyncio.to_thread(rules.substance, title, body, ranges)
    made = {
        "version": 1, "report": report.id, "repo": report.repo, "ghsa_id": own, "made_at": iso(ctx.clock.now()),
        "default_branch": default, "cited_ref": cited,
        "claims": found, "versions": versions,
        "identifiers": await _identifiers(ctx, report.repo, claims),
        "duplicates": await _duplicates(ctx, report, title, body),
        "substance": {"poc": list(sub.poc), "affected_versions": sub.affected_versions, "impact": sub.impact,
                      "scanner_output": sub.scanner_output, "payment": sub.payment, "beg_signals": list(sub.beg_signals),
                      "ai_disclosure": sub.ai_disclosure, "templated": sub.templated, "generic": sub.generic},
        "reporter": await _reporter(ctx, report),
    }
    rate = await floods.rate(ctx, report, cfg)
    made["flood"] = {"count": rate.count, "limit": rate.limit, "over": rate.over}
    step = rules.suggest(made)
    made["suggestion"] = {"step": step.step, "text": step.text, "why": list(step.why)}
    return made


async def _get(ctx: Context, url: str, url_vars: dict[str, Any]) -> Any:
    """A read that may fail without failing the card: None when GitHub refuses or has nothing."""
    assert ctx.gh is not None
    try:
        return await ctx.gh.getitem(url, url_vars)
    except gidgethub.BadRequest as exc:
        if exc.status_code in (403, 404, 409, 410, 422, 451):
            return None
        raise


async def _repository(ctx: Context, full_name: str) -> dict[str, Any] | None:
    owner, _, name = full_name.partition("/")
    found = await _get(ctx, "/repos/{owner}/{repo}", {"owner": owner, "repo": name})
    return found if isinstance(found, dict) else None


async def repo_paths(ctx: Context, full_name: str, ref: str | None = None) -> frozenset[str] | None:
    """Every file path of `full_name` at `ref` (default: the default branch), from the tree cache
    (`bot/github/trees.py`); None when it cannot be read. Reusable: the classifier's
    `TextContext.repo_paths` can be filled from it."""
    assert ctx.gh is not None
    if ref is None:
        ref = ((await _repository(ctx, full_name)) or {}).get("default_branch")
        if not ref:
            return None
    tree = await ctx.services.trees.read(ctx.gh, ctx.clock, full_name, ref)
    return tree.paths if tree else None


async def _check_paths(ctx: Context, full_name: str, paths: tuple[str, ...], default: str,
                       cited: str | None) -> list[dict[str, Any]]:
    if not paths:
        return []
    assert ctx.gh is not None
    trees = ctx.services.trees
    at_default = await trees.read(ctx.gh, ctx.clock, full_name, default)
    at_cited = await trees.read(ctx.gh, ctx.clock, full_name, cited) if cited and cited != default else None
    out = []
    for path in paths:
        entry: dict[str, Any] = {"kind": "path", "name": path}
        hit = rules.find_path(path, at_default.paths) if at_default else None
        old = rules.find_path(path, at_cited.paths) if at_cited else None
        if hit:
            entry.update(status="found", where=default, evidence=hit)
        elif old:
            entry.update(status="found", where=cited, evidence=f"{old} (at {cited} only, not at {default})")
        elif at_default is None:
            entry.update(status="not checked", where=default, evidence="the tree could not be read")
        else:
            where = default + (f" and {cited}" if at_cited else "")
            note = " (GitHub's tree was truncated)" if at_default.truncated else ""
            entry.update(status="missing", where=where, evidence=f"no such file or folder{note}")
        out.append(entry)
    return out


async def _check_code(ctx: Context, report: Report, claims: rules.Claims) -> list[dict[str, Any]]:
    """Symbols, options and endpoints through code search (the default branch only), within the
    installation's code-search budget; beyond it, "not checked"."""
    wanted = ([("symbol", s) for s in claims.symbols] + [("option", o) for o in claims.options]
              + [("endpoint", e) for e in claims.endpoints])
    out = []
    searches = 0
    stopped = ""
    for kind, name in wanted:
        entry: dict[str, Any] = {"kind": kind, "name": name, "where": "default branch (code search)"}
        out.append(entry)
        if stopped or searches >= rules.MAX_SEARCHES:
            entry.update(status="not checked", evidence=stopped or f"at most {rules.MAX_SEARCHES} code searches a card")
            continue
        if not await _take_search(ctx, report.installation_id):
            stopped = "the installation's code-search budget is spent for this minute"
            entry.update(status="not checked", evidence=stopped)
            continue
        searches += 1
        term = rules.search_term(name, kind)
        try:
            assert ctx.gh is not None
            found = await ctx.gh.getitem("/search/code{?q,per_page}",
                                         {"q": f"{term} repo:{report.repo}", "per_page": 5})
        except RateLimited:
            stopped = "GitHub's code-search limit was reached"
            entry.update(status="not checked", evidence=stopped)
            continue
        except gidgethub.BadRequest as exc:
            if exc.status_code not in (403, 422, 429):
                raise
            entry.update(status="not checked", evidence=f"code search refused ({exc.status_code})")
            if exc.status_code != 422:  # 422: this query only; a 403 or 429 is the limit
                stopped = "GitHub's code-search limit was reached"
            continue
        items = (found or {}).get("items") or []
        total = int((found or {}).get("total_count") or 0)
        if total:
            shown = ", ".join(str(i.get("path")) for i in items[:3])
            entry.update(status="found", evidence=f"{total} file{'s' if total != 1 else ''}: {shown}")
        else:
            entry.update(status="missing", evidence=f"code search finds no {term!r}")
        remaining = getattr(ctx.gh.rate_limit, "remaining", None) if ctx.gh.rate_limit else None
        if remaining == 0:
            stopped = "GitHub's code-search limit was reached"
    return out


async def _take_search(ctx: Context, installation_id: int | None) -> bool:
    now = ctx.clock.now()
    window = int(now // 60) * 60
    return await ctx.facts.take([(f"code-search:{installation_id}:{window}", SEARCHES_PER_MINUTE)], now,
                                until=window + 60.0)


async def _versions(ctx: Context, full_name: str, claims: rules.Claims) -> list[dict[str, Any]]:
    owner, _, name = full_name.partition("/")
    tags = await _get(ctx, "/repos/{owner}/{repo}/tags{?per_page}", {"owner": owner, "repo": name, "per_page": 100})
    names = [t.get("name") for t in tags or [] if isinstance(t, dict) and t.get("name")]
    out: list[dict[str, Any]] = []
    releases: list[str] | None = None
    for version in claims.versions:
        tag = rules.match_version(version, names)
        if tag:
            out.append({"version": version, "status": "tag", "tag": tag, "evidence": f"tag {tag}"})
            continue
        if releases is None:
            found = await _get(ctx, "/repos/{owner}/{repo}/releases{?per_page}",
                               {"owner": owner, "repo": name, "per_page": 100})
            releases = [r.get("tag_name") for r in found or [] if isinstance(r, dict) and not r.get("draft")]
        tag = rules.match_version(version, [r for r in releases if r])
        if tag:
            out.append({"version": version, "status": "release", "tag": tag, "evidence": f"release {tag}"})
        elif tags is None:
            out.append({"version": version, "status": "not checked", "evidence": "the tags could not be read"})
        else:
            seen = f"{len(names)} tags" + (" (the first 100)" if len(names) >= 100 else "")
            out.append({"version": version, "status": "missing", "evidence": f"no tag or release among {seen}"})
    return out


async def _identifiers(ctx: Context, full_name: str, claims: rules.Claims) -> list[dict[str, Any]]:
    """CVE and GHSA ids the report names: published (for this repository or another) or unknown."""
    out = []
    lookups = [("cve", c) for c in claims.cves[:MAX_ID_LOOKUPS]] + [("ghsa", g) for g in claims.ghsas[:MAX_ID_LOOKUPS]]
    for kind, ident in lookups:
        if kind == "cve":
            found = await _get(ctx, "/advisories{?cve_id,per_page}", {"cve_id": ident, "per_page": 5})
            adv = found[0] if isinstance(found, list) and found else None
        else:
            adv = await _get(ctx, "/advisories/{ghsa_id}", {"ghsa_id": ident})
        if not isinstance(adv, dict):
            local = await _repo_advisory(ctx, full_name, ident)
            if local is not None:
                out.append({"id": ident, "status": local["state"], "where": "this repository",
                            "evidence": f"{local['ghsa_id']} ({local['state']})"})
            else:
                out.append({"id": ident, "status": "unknown", "where": None,
                            "evidence": "not in GitHub's advisory database"})
            continue
        source = str(adv.get("source_code_location") or "") + " " + str(adv.get("repository_advisory_url") or "")
        ours = f"/{full_name.lower()}" in source.lower()
        out.append({"id": ident, "status": "published", "where": "this repository" if ours else "another project",
                    "evidence": f"{adv.get('ghsa_id')}: {str(adv.get('summary') or '')[:120]}"
                                + ("" if ours else f" ({(adv.get('source_code_location') or 'no source named')})")})
    return out


async def _repo_advisory(ctx: Context, full_name: str, ident: str) -> dict[str, Any] | None:
    for adv in await _advisories(ctx, full_name):
        if ident.lower() in (str(adv.get("ghsa_id")).lower(), str(adv.get("cve_id") or "").lower()):
            return adv
    return None


async def _advisories(ctx: Context, full_name: str) -> list[dict[str, Any]]:
    owner, _, name = full_name.partition("/")
    found = await _get(ctx, "/repos/{owner}/{repo}/security-advisories{?per_page}",
                       {"owner": owner, "repo": name, "per_page": 100})
    return [a for a in found or [] if isinstance(a, dict)]


async def _duplicates(ctx: Context, report: Report, title: str, body: str) -> list[dict[str, Any]]:
    """The closest of the repository's advisories (any state) and recent reports in the store."""
    skip = {g for g in (report.ghsa_id, report.draft_ghsa_id) if g}
    linked = report.linked_report_id
    found: dict[int, dict[str, Any]] = {}
    texts: list[tuple[int, str]] = []
    for adv in await _advisories(ctx, report.repo):
        if adv.get("ghsa_id") in skip:
            continue
        found[len(found)] = {"ghsa_id": adv.get("ghsa_id"), "state": adv.get("state"), "source": "advisory",
                             "title": str(adv.get("summary") or "")[:120]}
        texts.append((len(found) - 1, f"{adv.get('summary') or ''}\n{adv.get('description') or ''}"))
    seen = {f["ghsa_id"] for f in found.values()}
    since = report.created_at - RECENT_REPORTS
    for other in await ctx.reports.recent(report.repo, since=since, besides=report.id):
        ghsa = other.ghsa_id or other.draft_ghsa_id
        if other.id == linked or (ghsa and (ghsa in seen or ghsa in skip)) or not (other.original_body or other.original_title):
            continue
        found[len(found)] = {"report_id": other.id, "ghsa_id": ghsa, "state": other.state, "source": "report",
                             "title": str(other.original_title or "")[:120]}
        texts.append((len(found) - 1, f"{other.original_title or ''}\n{other.original_body or ''}"))
    best = await asyncio.to_thread(rules.closest, f"{title}\n{body}", texts)
    return [{**found[key], "similarity": score} for key, score in best]


async def _reporter(ctx: Context, report: Report) -> dict[str, Any]:
    earlier = await ctx.reports.from_reporter(report.installation_id, report.reporter, besides=report.id)
    outcomes: dict[str, int] = {}
    for other in earlier:
        outcome = f"{other.state}" + (f" ({other.reject_reason})" if other.reject_reason else "")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    found: dict[str, Any] = {
        "login": report.reporter, "earlier": len(earlier), "outcomes": outcomes,
        "recent": [{"report": o.id, "ghsa_id": o.ghsa_id or o.draft_ghsa_id, "repo": o.repo, "state": o.state,
                    "reason": o.reject_reason} for o in earlier[:5]],
        "account_created": None, "account_age_days": None, "public_repos": None, "followers": None, "type": None,
    }
    user = await _get(ctx, "/users/{username}", {"username": report.reporter}) if report.reporter != "unknown" else None
    if isinstance(user, dict):
        created = user.get("created_at")
        age = int((ctx.clock.now() - parse_iso(created)) // 86400) if created else None
        found.update(account_created=(created or "")[:10] or None, account_age_days=age,
                     public_repos=user.get("public_repos"), followers=user.get("followers"), type=user.get("type"))
    return found
