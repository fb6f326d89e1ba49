"""Where a reporter should go privately: the private-reporting form, or SECURITY.md's contact.

Answers are kept in the store's facts table (private-reporting status for an hour, SECURITY.md
for a day), so a report costs no extra GitHub calls once they are known.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.github.urls import policy_url, report_form_url
from bot.jobs.context import Context, get_or_none, read_file
from bot.rules.security_md import contact_from

PVR_TTL = 3600.0
SECURITY_MD_TTL = 86400.0
SECURITY_MD_PATHS = ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md")


@dataclasses.dataclass(frozen=True)
class Channel:
    kind: str  # "pvr" | "security_md" | "none"
    url: str | None = None
    contact: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


async def pvr_enabled(ctx: Context, owner: str, repo: str) -> bool:
    """Whether private vulnerability reporting is on (asked at most once an hour)."""
    assert ctx.gh is not None
    gh = ctx.gh

    async def ask() -> bool:
        data = await get_or_none(gh, "/repos/{owner}/{repo}/private-vulnerability-reporting",
                                 {"owner": owner, "repo": repo}, missing=(403, 404, 422))
        return bool((data or {}).get("enabled"))

    return bool(await ctx.facts.remembered(f"pvr:{owner}/{repo}".lower(), ctx.clock.now(), PVR_TTL, ask))


async def security_md(ctx: Context, owner: str, repo: str) -> dict[str, str] | None:
    """The first SECURITY.md found (repository, then the owner's .github repository; daily)."""
    assert ctx.gh is not None
    gh = ctx.gh

    async def look() -> dict[str, str]:
        for where in (repo, ".github"):
            for path in SECURITY_MD_PATHS:
                text = await read_file(gh, owner, where, path)
                if text is not None:
                    return {"repo": where, "path": path, "text": text[:20000]}
        return {}

    key = f"security-md:{owner}/{repo}".lower()
    return await ctx.facts.remembered(key, ctx.clock.now(), SECURITY_MD_TTL, look) or None


async def private_channel(ctx: Context, owner: str, repo: str, html_url: str) -> Channel:
    if await pvr_enabled(ctx, owner, repo):
        return Channel("pvr", report_form_url(html_url))
    policy = await security_md(ctx, owner, repo)
    if policy:
        return Channel("security_md", policy_url(html_url, policy), contact_from(policy["text"]))
    return Channel("none")


async def forget_channel(ctx: Context, owner: str, repo: str) -> None:
    """Drop the cached private-reporting status and SECURITY.md, so the next look asks GitHub."""
    for key in (f"pvr:{owner}/{repo}", f"security-md:{owner}/{repo}"):
        await ctx.facts.remember(key.lower(), None, ctx.clock.now(), 0.0)
