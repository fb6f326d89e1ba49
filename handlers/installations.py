"""Record installations and the repositories they cover; sweep them for unannounced reports."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import watch

router = routing.Router()


@router.register("installation", action="created")
async def on_installation_created(event: sansio.Event, ctx: Context) -> None:
    """Remember a new installation and its repositories."""
    installs, inst, now = ctx.installations, event.data["installation"], ctx.clock.now()
    await installs.save(inst, now)
    await installs.save_repos(inst["id"], event.data.get("repositories") or [], now, removed=False)
    ctx.log.info("installed", extra={"repositories": len(event.data.get("repositories") or [])})
    await watch.schedule_sweep(ctx, inst["id"])


@router.register("installation", action="deleted")
async def on_installation_deleted(event: sansio.Event, ctx: Context) -> None:
    """Mark an installation as removed (its records stay for the reports' history)."""
    await ctx.installations.save(event.data["installation"], ctx.clock.now(), deleted_at=ctx.clock.now())
    ctx.log.info("uninstalled")


@router.register("installation", action="suspend")
async def on_installation_suspended(event: sansio.Event, ctx: Context) -> None:
    """Mark an installation as suspended."""
    await ctx.installations.save(event.data["installation"], ctx.clock.now(), suspended_at=ctx.clock.now())


@router.register("installation", action="unsuspend")
async def on_installation_unsuspended(event: sansio.Event, ctx: Context) -> None:
    """Clear an installation's suspension."""
    await ctx.installations.save(event.data["installation"], ctx.clock.now(), suspended_at=None)


@router.register("installation_repositories")
async def on_installation_repositories(event: sansio.Event, ctx: Context) -> None:
    """Track repositories added to or removed from an installation."""
    installs, inst, now = ctx.installations, event.data["installation"], ctx.clock.now()
    await installs.save(inst, now)
    await installs.save_repos(inst["id"], event.data.get("repositories_added") or [], now, removed=False)
    await installs.save_repos(inst["id"], event.data.get("repositories_removed") or [], now, removed=True)
    await watch.schedule_sweep(ctx, inst["id"])


@router.register("repository", action="publicized")
@router.register("repository", action="privatized")
async def on_repository_visibility(event: sansio.Event, ctx: Context) -> None:
    """Note a repository made public or private; one made public is swept for private reports."""
    if ctx.installation_id is None:
        return
    await ctx.installations.save_repos(ctx.installation_id, [event.data["repository"]], ctx.clock.now(), removed=False)
    if event.data["action"] == "publicized":
        await watch.schedule_sweep(ctx, ctx.installation_id)
