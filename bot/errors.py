"""Exceptions the engine understands, and error text that is safe to store and log.

Exception messages can carry anything, including a report's text (a template error, a
KeyError on user input). What leaves this module names the exception type, the place it was
raised and, for GitHub's HTTP errors, the status code: never the message of our own code.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import gidgethub


class RateLimited(Exception):
    """GitHub asked us to wait; the job is put back until `until` without counting an attempt."""

    def __init__(self, until: float, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


class ReportableError(Exception):
    """An error whose message was written by Secbot, holds no user text, and may be shown."""


class MaybeApplied(ReportableError):
    """A create GitHub may have made although its answer was a 5xx or never came (a dropped
    connection, a time-out): sending it again could make it twice. Whoever sent it looks for what
    it wrote (bot/reports/writes.py) before sending it again; uncaught, the job fails and its
    retry looks."""

    def __init__(self, method: str, path: str, status: int) -> None:
        answer = f"answered {status}" if status else "did not answer"
        super().__init__(f"{method} {path}: GitHub {answer}; the write may have been made")
        self.method, self.path, self.status = method, path, status


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/bot/" in f.filename or "/handlers/" in f.filename] or frames
    if not ours:
        return ""
    f = ours[-1]
    parts = Path(f.filename).parts
    short = "/".join(parts[-2:])
    return f" at {short}:{f.lineno} in {f.name}"


def describe_error(exc: BaseException) -> str:
    """A one-line account of an exception that is safe for the store and the logs."""
    name = type(exc).__name__
    if isinstance(exc, RateLimited):
        return f"{name}: {exc.reason}"
    if isinstance(exc, ReportableError):
        return f"{name}: {exc}{_where(exc)}"
    if isinstance(exc, gidgethub.HTTPException):
        status = int(exc.status_code)
        return f"{name}: GitHub answered {status}{_where(exc)}"
    if isinstance(exc, gidgethub.GitHubException):
        return f"{name}{_where(exc)}"
    return f"{name}{_where(exc)}"


def safe_traceback(exc: BaseException) -> str:
    """The stack of an exception, with file, line and function but no messages or source text."""
    lines = [f"{type(exc).__name__}"]
    for f in traceback.extract_tb(exc.__traceback__):
        lines.append(f"  {f.filename}:{f.lineno} in {f.name}")
    return "\n".join(lines)
