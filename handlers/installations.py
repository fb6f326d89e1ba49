"""Record installations and the repositories they cover."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.store.tables import installation_repos, installations
from handlers import watchdog

router = routing.Router()


async def _save_installation(ctx: Context, inst: dict[str, Any], **changes: Any) -> None:
    now = ctx.clock.now()
    account = inst.get("account") or {}
    row = {
        "id": inst["id"],
        "account_login": account.get("login", ""),
        "account_type": account.get("type", ""),
        "repository_selection": inst.get("repository_selection"),
        "suspended_at": None,
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
        **changes,
    }
    update = ["account_login", "account_type", "repository_selection", "updated_at", *changes]
    async with ctx.store.write() as conn:
        await conn.execute(ctx.store.upsert(installations, ["id"], sorted(set(update))).values(**row))


async def _save_repos(ctx: Context, installation_id: int, repos: list[dict[str, Any]], removed: bool) -> None:
    if not repos:
        return
    now = ctx.clock.now()
    rows = [
        {
            "installation_id": installation_id,
            "repo_id": r["id"],
            "full_name": r["full_name"],
            "private": bool(r.get("private")),
            "removed_at": now if removed else None,
            "updated_at": now,
        }
        for r in repos
    ]
    stmt = ctx.store.upsert(installation_repos, ["installation_id", "repo_id"], ["full_name", "private", "removed_at", "updated_at"])
    async with ctx.store.write() as conn:
        await conn.execute(stmt, rows)


@router.register("installation", action="created")
async def on_installation_created(event: sansio.Event, ctx: Context) -> None:
    """Remember a new installation and its repositories."""
    await _save_installation(ctx, event.data["installation"])
    await _save_repos(ctx, event.data["installation"]["id"], event.data.get("repositories") or [], removed=False)
    ctx.log.info("installed", extra={"repositories": len(event.data.get("repositories") or [])})
    await watchdog.schedule_sweep(ctx, event.data["installation"]["id"])


@router.register("installation", action="deleted")
async def on_installation_deleted(event: sansio.Event, ctx: Context) -> None:
    """Mark an installation as removed (its records stay for the reports' history)."""
    await _save_installation(ctx, event.data["installation"], deleted_at=ctx.clock.now())
    ctx.log.info("uninstalled")


@router.register("installation", action="suspend")
async def on_installation_suspended(event: sansio.Event, ctx: Context) -> None:
    """Mark an installation as suspended."""
    await _save_installation(ctx, event.data["installation"], suspended_at=ctx.clock.now())


@router.register("installation", action="unsuspend")
async def on_installation_unsuspended(event: sansio.Event, ctx: Context) -> None:
    """Clear an installation's suspension."""
    await _save_installation(ctx, event.data["installation"], suspended_at=None)


@router.register("installation_repositories")
async def on_installation_repositories(event: sansio.Event, ctx: Context) -> None:
    """Track repositories added to or removed from an installation."""
    inst = event.data["installation"]
    await _save_installation(ctx, inst)
    await _save_repos(ctx, inst["id"], event.data.get("repositories_added") or [], removed=False)
    await _save_repos(ctx, inst["id"], event.data.get("repositories_removed") or [], removed=True)
    await watchdog.schedule_sweep(ctx, inst["id"])


async def active_repos(ctx: Context, installation_id: int, *, public_only: bool = False) -> list[str]:
    """The repositories an installation still covers (only the public ones, with `public_only`)."""
    stmt = sa.select(installation_repos.c.full_name).where(
        installation_repos.c.installation_id == installation_id, installation_repos.c.removed_at.is_(None)
    )
    if public_only:
        stmt = stmt.where(installation_repos.c.private.is_(False))
    async with ctx.store.engine.connect() as conn:
        return sorted(r[0] for r in await conn.execute(stmt))


async def still_covered(ctx: Context, installation_id: int | None, full_name: str | None = None) -> bool:
    """False once Secbot knows the installation was deleted or suspended, or (given a repository)
    that the repository was removed from it. Unknown installations count as covered."""
    if installation_id is None:
        return False
    async with ctx.store.engine.connect() as conn:
        inst = (await conn.execute(sa.select(installations.c.deleted_at, installations.c.suspended_at)
                                   .where(installations.c.id == installation_id))).first()
        repo = None
        if full_name is not None:
            repo = (await conn.execute(sa.select(installation_repos.c.removed_at).where(
                installation_repos.c.installation_id == installation_id,
                sa.func.lower(installation_repos.c.full_name) == full_name.lower()))).first()
    if inst is not None and (inst.deleted_at is not None or inst.suspended_at is not None):
        return False
    return repo is None or repo.removed_at is None
