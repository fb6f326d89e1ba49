"""The typed keys of the aiohttp application's state. A leaf module: the app factory sets them,
the views read them, and neither has to import the other."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from bot.clock import Clock
from bot.github.client import GitHubApp
from bot.jobs.context import Services
from bot.jobs.intake import Intake
from bot.jobs.process import WorkerProcesses
from bot.jobs.worker import Workers
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.web.metrics import Metrics  # which reads these keys
    from bot.web.webhook import Receiver  # likewise

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)  # type: ignore[type-abstract]
STORE = web.AppKey("store", Store)
SESSION = web.AppKey("session", aiohttp.ClientSession)
GITHUB = web.AppKey("github", GitHubApp)
SERVICES = web.AppKey("services", Services)
INTAKE = web.AppKey("intake", Intake)
WORKERS = web.AppKey("workers", Workers)
WORKER_PROCESSES = web.AppKey("worker_processes", WorkerProcesses)  # when the workers run in processes of their own
METRICS: web.AppKey["Metrics"] = web.AppKey("metrics")
RECEIVER: web.AppKey["Receiver"] = web.AppKey("receiver")
