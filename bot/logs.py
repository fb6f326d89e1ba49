"""Structured logs: one JSON object per line, carrying the delivery, installation and repository.

Callers log identifiers and decisions, never text from a report. As a second line of defence
the formatters render exceptions with `safe_traceback` (no messages, no source lines).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
from aiohttp.http_exceptions import HttpProcessingError

from bot.errors import safe_traceback

# Attributes every LogRecord has; anything else was passed with `extra=` or bound by an adapter.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = safe_traceback(record.exc_info[1])
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        if extra:
            line += f"  [{extra}]"
        if record.exc_info and record.exc_info[1] is not None:
            line += "\n" + safe_traceback(record.exc_info[1])
        return line


def setup(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Libraries whose debug output would carry SQL parameters or request bodies (report text)."""
    for name in ("aiosqlite", "sqlalchemy", "asyncpg", "aiohttp.access", "aiohttp.client", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequests) for f in server.filters):
        server.addFilter(MalformedRequests())


class MalformedRequests(logging.Filter):
    """aiohttp logs every malformed request (bad request line, oversized header, broken chunking) at
    ERROR with a traceback, so a stranger could flood the log at the cost of a few bytes each. This
    filter lets through one WARNING per `every` seconds that counts them, and nothing else of them."""

    def __init__(self, every: float = 60.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.every, self.clock = every, clock
        self.count, self.last = 0, float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        self.count += 1
        now = self.clock()
        if now - self.last < self.every:
            return False
        record.msg, record.args, record.exc_info, record.exc_text = (
            "malformed HTTP requests refused with 400 (counted, not logged one by one)", (), None, None)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.refused = self.count
        self.count, self.last = 0, now
        return True


class Bound(logging.LoggerAdapter):
    """A logger with fields (delivery, installation, repo, job) added to every line."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs

    def bind(self, **fields: Any) -> "Bound":
        merged: dict[str, Any] = dict(self.extra or {})
        merged.update({k: v for k, v in fields.items() if v is not None})
        return Bound(self.logger, merged)


def get(name: str, **fields: Any) -> Bound:
    return Bound(logging.getLogger(name), {k: v for k, v in fields.items() if v is not None})


def fields(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}
