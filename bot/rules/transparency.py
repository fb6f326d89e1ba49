"""Public response-time figures, and the badge that shows them: pure functions of closed reports.

The privacy rules (each tested in tests/test_transparency.py):

- Only closed reports count: published, or rejected. An open report is never read here (the
  store hands over closed ones only), so nothing computed can depend on one.
- The figures change only when a report closes: the 12-month window ends at the latest close,
  not at "now", so the passing of time changes nothing, and the repository's target used for the
  share is the one in force when the figures were last computed (at a close).
- Nothing is shown from fewer than MIN_REPORTS reports, and a median of fewer than MIN_REPORTS
  values (time to a published fix) is left out: one report's dates would be readable from it.
- No count of reports in any state is shown, only that there are "at least 3": how many reports
  a project receives, and so whether one just arrived, stays private.

The first human response is the earliest of acknowledging, accepting, fixing or closing (a
publication or a rejection is a response too); Secbot's own immediate reply is not one. Triage is
the earliest of accepting, fixing or closing. A published fix is the publication.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from xml.sax.saxutils import escape

if TYPE_CHECKING:  # (at run time it would bring the config schema, YAML and the detector into the server)
    from bot.rules.policy import Policy

MIN_REPORTS = 3
WINDOW = 365 * 86400.0  # "the last 12 months", ending at the latest close
CLOSED_STATES = ("published", "rejected")
HOUR, DAY = 3600.0, 86400.0
LABEL = "security response"


class ClosedReport(Protocol):
    state: str
    created_at: float
    acknowledged_at: float | None
    accepted_at: float | None
    fixed_at: float | None
    closed_at: float | None


def _earliest(*moments: float | None) -> float | None:
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def first_response(r: ClosedReport) -> float | None:
    at = _earliest(r.acknowledged_at, r.accepted_at, r.fixed_at, r.closed_at)
    return None if at is None else max(0.0, at - r.created_at)


def triage(r: ClosedReport) -> float | None:
    at = _earliest(r.accepted_at, r.fixed_at, r.closed_at)
    return None if at is None else max(0.0, at - r.created_at)


def to_fix(r: ClosedReport) -> float | None:
    if r.state != "published" or r.closed_at is None:
        return None
    return max(0.0, r.closed_at - r.created_at)


@dataclasses.dataclass(frozen=True)
class Figures:
    """What is published for one repository. `enough` False: nothing else is shown."""

    enough: bool
    first_response: float | None = None  # median seconds
    triage: float | None = None
    fix: float | None = None  # None also when fewer than MIN_REPORTS published fixes
    within_target: float | None = None  # share (0..1) first responded to within the acknowledge target
    target: str | None = None  # the acknowledge target as configured, e.g. "2 working days"
    as_of: float | None = None  # the latest close the window ends at

    def as_dict(self, repository: str) -> dict[str, Any]:
        if not self.enough:
            return {"repository": repository, "enough_reports": False, "minimum_reports": MIN_REPORTS}
        return {
            "repository": repository, "enough_reports": True, "window": "12 months up to the latest closed report",
            "median_first_response_hours": _hours(self.first_response),
            "median_triage_hours": _hours(self.triage),
            "median_published_fix_days": None if self.fix is None else round(self.fix / DAY, 1),
            "acknowledged_within_target": None if self.within_target is None else round(self.within_target, 2),
            "acknowledge_target": self.target,
            "as_of": _day(self.as_of),
        }


def compute(closed: Sequence[ClosedReport], policy: Policy, target_text: str) -> Figures:
    """The figures from closed reports (others are ignored), over the 12 months up to the latest close."""
    done = [r for r in closed if r.state in CLOSED_STATES and r.closed_at is not None]
    if not done:
        return Figures(enough=False)
    end = max(r.closed_at for r in done if r.closed_at is not None)
    window = [r for r in done if r.closed_at is not None and r.closed_at > end - WINDOW]
    if len(window) < MIN_REPORTS:
        return Figures(enough=False)
    responses = [(r, t) for r in window if (t := first_response(r)) is not None]
    triaged = [t for r in window if (t := triage(r)) is not None]
    fixes = [t for r in window if (t := to_fix(r)) is not None]
    within = [r.created_at + t <= policy.after(r.created_at, policy.acknowledge_within) for r, t in responses]
    return Figures(
        enough=True,
        first_response=statistics.median(t for _, t in responses) if responses else None,
        triage=statistics.median(triaged) if triaged else None,
        fix=statistics.median(fixes) if len(fixes) >= MIN_REPORTS else None,
        within_target=sum(within) / len(within) if within else None,
        target=target_text,
        as_of=end,
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 1)


def _day(moment: float | None) -> str | None:
    if moment is None:
        return None
    import datetime as dt

    return dt.datetime.fromtimestamp(moment, dt.timezone.utc).strftime("%Y-%m-%d")


def human(seconds: float) -> str:
    """A duration for the badge: minutes under an hour, hours under two days, else days."""
    if seconds < HOUR:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * DAY:
        hours = seconds / HOUR
        return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h".replace(".0 h", " h")
    return f"{seconds / DAY:.0f} days"


def message_and_color(figures: Figures) -> tuple[str, str]:
    """The badge's right half: the median first response and the target share, coloured by that share."""
    if not figures.enough or figures.first_response is None:
        return "not enough reports yet", "lightgrey"
    share = figures.within_target
    text = f"median first reply {human(figures.first_response)}"
    if share is None:
        return text, "blue"
    text += f", {round(share * 100)}% on time"
    color = "brightgreen" if share >= 0.9 else "green" if share >= 0.75 else "yellow" if share >= 0.5 else "orange"
    return text, color


def shields(figures: Figures) -> dict[str, Any]:
    """shields.io's endpoint badge JSON (https://shields.io/badges/endpoint-badge)."""
    message, color = message_and_color(figures)
    return {"schemaVersion": 1, "label": LABEL, "message": message, "color": color, "cacheSeconds": 3600}


_COLORS = {"brightgreen": "#4c1", "green": "#97ca00", "yellow": "#dfb317", "orange": "#fe7d37",
           "blue": "#007ec6", "lightgrey": "#9f9f9f"}


def _width(text: str) -> int:
    """Roughly Verdana 11px: the same estimate for every badge, so it need not be exact."""
    narrow = sum(1 for ch in text if ch in "ijlt.,:;|!' ()1")
    return int(len(text) * 6.6 - narrow * 2.8) + 10


def svg(figures: Figures) -> str:
    """A flat badge, in the style people know from shields.io, drawn here (no request elsewhere)."""
    message, color = message_and_color(figures)
    left, right = _width(LABEL), _width(message)
    total = left + right
    fill = _COLORS[color]
    label_x, message_x = left * 5, (left + right / 2) * 10
    title = escape(f"{LABEL}: {message}", {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">'
        f'<text x="{label_x}" y="140" transform="scale(.1)">{escape(LABEL)}</text>'
        f'<text x="{message_x:.0f}" y="140" transform="scale(.1)">{escape(message)}</text></g></svg>'
    )
