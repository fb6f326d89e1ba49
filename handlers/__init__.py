"""One module per GitHub concern, each with its own gidgethub Router, composed here in order;
and the scheduled jobs' entry points. The CLI (bot/__main__.py) hands both to the app.

Order matters: handlers are called router by router, so record-keeping (installations) runs
before features that read what it recorded. Handlers are leaves: they call bot.*, never each other.
"""

from __future__ import annotations

from bot.jobs import housekeeping
from bot.reports import away as away_work
from bot.reports import onboarding as onboarding_work
from bot.reports import timers as timer_work
from bot.reports import watch as watch_work
from handlers import advisories, commands, installations, onboarding, public_reports, timers, watch

ROUTERS = [installations.router, onboarding.router, public_reports.router, advisories.router, commands.router]

# Scheduled job kinds and the function that runs each.
JOBS: dict = {
    onboarding_work.JOB_KIND: onboarding.run_check,
    timer_work.TIMER: timers.run_timer,
    timer_work.POLL: watch.run_poll,  # advisory changes GitHub sends no webhook for
    watch_work.SWEEP: watch.run_sweep,  # private reports no webhook announced
    housekeeping.KIND: housekeeping.run,
    away_work.JOB_KIND: timers.run_away_end,  # the maintainers are back: private reporting on, timers set again
}
