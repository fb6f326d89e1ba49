"""One module per GitHub concern, each with its own gidgethub Router, composed here in order.

Order matters: handlers are called router by router, so record-keeping (installations) runs
before features that read what it recorded.
"""

from __future__ import annotations

from bot.jobs import housekeeping
from handlers import advisories, channel_check, commands, installations, public_reports, schedule, watchdog

ROUTERS = [installations.router, channel_check.router, public_reports.router, advisories.router, commands.router]

# Scheduled job kinds and the function that runs each.
JOBS: dict = {
    channel_check.JOB_KIND: channel_check.run_check,
    schedule.TIMER: schedule.run_timer,
    watchdog.POLL: watchdog.run_poll,  # advisory changes GitHub sends no webhook for
    watchdog.SWEEP: watchdog.run_sweep,  # private reports no webhook announced
    housekeeping.KIND: housekeeping.run,
}
