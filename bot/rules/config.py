"""Repository configuration: `.github/secbot.yml`, one schema, documented defaults.

The file is read from the repository's default branch, falling back to the same path in the
owner's `.github` repository (as Probot does). Every key has a default and a description in
`SCHEMA`; the README's configuration reference is generated from it. Unknown keys and bad
values are reported as `Problem`s and replaced by their defaults: a broken config never stops
the bot, and `secbot check-config` shows the same problems with their line numbers.

Two layers: `parse` validates the text against SCHEMA into a plain document (every key present,
defaults filled in) plus its problems; `load` turns that document into a `RepoConfig`, the typed,
frozen view the rest of Secbot reads (`cfg.detection.thresholds.public`). The dataclasses
carry no defaults of their own: SCHEMA is the one place for keys, defaults and descriptions.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import re
import typing
import zoneinfo
from collections.abc import Mapping
from typing import Any, Literal, Self

import jsonschema
import yaml

from bot.rules.detect import Thresholds

_DETECT_DEFAULTS = Thresholds()

CONFIG_PATH = ".github/secbot.yml"

_DURATION = re.compile(
    r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?:(?P<unit>s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)"
    r"|(?P<wd>working\s+days?|business\s+days?))\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclasses.dataclass(frozen=True)
class Duration:
    """A span of time: plain seconds, or a number of working days."""

    seconds: float = 0.0
    working_days: float = 0.0

    @classmethod
    def parse(cls, text: str | int | float) -> "Duration":
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return cls(seconds=float(text))
        m = _DURATION.match(str(text))
        if not m:
            raise ValueError(f"{text!r} is not a duration (write e.g. 45s, 30m, 36h, 2d or 3 working days)")
        n = float(m["n"])
        if m["wd"]:
            return cls(working_days=n)
        unit = m["unit"].lower()
        key = "m" if unit.startswith("mi") or unit == "m" else unit[0]
        return cls(seconds=n * _UNIT_SECONDS[key])


def _is_duration(value: object) -> bool:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return False
    try:
        Duration.parse(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def _is_timezone(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("duration")(_is_duration)
FORMATS.checks("timezone")(_is_timezone)


def _is_day(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return not isinstance(value, str)  # null and other types are the "type" keyword's business
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMATS.checks("day")(_is_day)


TEMPLATE_DESCRIPTIONS = {
    "redirect": "Reply to a vulnerability report filed in public (never quotes it).",
    "beg_bounty": "Reply to a likely beg-bounty report filed in public.",
    "advisory_ack": "Immediate acknowledgement of a private report, on its advisory.",
    "advisory_beg_bounty": "Reply to a private report that looks like beg bounty.",
    "acknowledged": "To the reporter after `/sec ack`.",
    "accepted": "To the reporter after `/sec accept`.",
    "rejected": "To the reporter after `/sec reject`.",
    "eta": "To the reporter after `/sec eta`.",
    "fixed": "To the reporter after `/sec fixed`.",
    "status_update": "Scheduled status update to the reporter.",
    "published": "Thanks and credit to the reporter when the advisory is published.",
    "public_published": "Comment closing the public issue a report came from, when its advisory is published.",
    "announcement": "Announcement issue for a published advisory (with `announcements.enabled`).",
    "needs_info": "To the reporter after `/sec needs-info` (variable `what`: poc, versions, impact or split).",
    "reclassified": "To the reporter after `/sec reclassify`, with the public issue's link.",
    "flood_note": "To a reporter over `floods.reports_per_day`: their reports will be handled in order.",
    "canned_headers": "Canned reply for missing HTTP security headers (`/sec reject beg-bounty headers`).",
    "canned_spf": "Canned reply for SPF, DKIM or DMARC records (`/sec reject beg-bounty spf`).",
    "canned_clickjacking": "Canned reply for clickjacking of a page with no state-changing action (`/sec reject beg-bounty clickjacking`).",
    "canned_version_disclosure": "Canned reply for a disclosed software version (`/sec reject beg-bounty version-disclosure`).",
    "canned_self_xss": "Canned reply for self-XSS (`/sec reject not-security self-xss`).",
    "canned_out_of_scope": "Canned reply for something outside the project's scope (`/sec reject out-of-scope out-of-scope`).",
}


# Keys a repository might expect but may not set: where its texts are sent and with what key is
# the operator's choice (a repository naming the URL would make Secbot send requests wherever a
# stranger asks, from inside the operator's network, with the operator's key).
OPERATOR_KEYS = {
    "detection.llm.url": "SECBOT_LLM_URL",
    "detection.llm.model": "SECBOT_LLM_MODEL",
    "detection.llm.key": "SECBOT_LLM_KEY_ENV",
    "detection.llm.api_key": "SECBOT_LLM_KEY_ENV",
    "detection.llm.key_env": "SECBOT_LLM_KEY_ENV",
}


def _dur(default: str, description: str) -> dict[str, Any]:
    return {"type": ["string", "number"], "format": "duration", "default": default, "description": description}


def _obj(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": properties, "additionalProperties": False}


_LOGINS = {"type": "array", "items": {"type": "string", "pattern": r"^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"}}
_TEAMS = {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"}}

SCHEMA: dict[str, Any] = _obj(
    "Secbot's settings for one repository.",
    {
        "enabled": {"type": "boolean", "default": True, "description": "Set to false to make Secbot ignore this repository."},
        "dry_run": {
            "type": "boolean",
            "default": False,
            "description": "Log every write Secbot would make in this repository and make none.",
        },
        "security_team": _obj(
            "Who handles security reports: assigned to reports, mentioned on escalation, and allowed to give `/sec` commands.",
            {
                "users": {**_LOGINS, "default": [], "description": "GitHub logins of the security team."},
                "teams": {**_TEAMS, "default": [], "description": "Team slugs (of the repository's organisation) of the security team."},
            },
        ),
        "labels": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 50},
            "default": ["security", "needs-triage"],
            "description": "Labels put on a public issue that Secbot recognises as a security report.",
        },
        "detection": _obj(
            "Recognising security reports filed in public issues and comments.",
            {
                "enabled": {"type": "boolean", "default": True, "description": "Look for security reports in public issues and comments."},
                "comments": {"type": "boolean", "default": True, "description": "Also look at comments, not only at issues."},
                "thresholds": _obj(
                    "Scores (0 to 1) that decide what Secbot does with a text.",
                    {
                        "public": {
                            "type": "number", "minimum": 0, "maximum": 1, "default": _DETECT_DEFAULTS.public,
                            "description": "From this score a text is a vulnerability report: the reporter is redirected in public. Higher means fewer public false alarms.",
                        },
                        "notify": {
                            "type": "number", "minimum": 0, "maximum": 1, "default": _DETECT_DEFAULTS.notify,
                            "description": "From this score up to `public` a text is a possible report: the maintainers get a private heads-up (see `public_reports.uncertain`).",
                        },
                    },
                ),
                "beg_bounty_threshold": {
                    "type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                    "description": "Score (0 to 1) from which an issue counts as a likely beg-bounty report.",
                },
                "exempt_labels": {
                    "type": "array", "items": {"type": "string"}, "default": [],
                    "description": "Issues carrying any of these labels are never treated as reports.",
                },
                "llm": _obj(
                    "A second opinion from a language model on uncertain texts; the endpoint, model and key are the operator's (SECBOT_LLM_URL).",
                    {
                        "enabled": {
                            "type": "boolean", "default": False,
                            "description": "Ask the operator's language model (`SECBOT_LLM_URL`) about public texts in the uncertain band; its yes or no moves the verdict one tier. Does nothing unless the operator set an endpoint.",
                        },
                        "private": {
                            "type": "boolean", "default": False,
                            "description": "Also send private reports' text to it, to validate them. Without this, private text is never sent.",
                        },
                    },
                ),
            },
        ),
        "public_reports": _obj(
            "What to do with a security report filed in public.",
            {
                "action": {
                    "enum": ["redirect", "hide"], "default": "redirect",
                    "description": "`redirect`: comment, label and assign. `hide`: also move the text into a private draft advisory and remove it from public view.",
                },
                "uncertain": {
                    "enum": ["notify", "comment", "ignore"], "default": "notify",
                    "description": "A possible report (score between `detection.thresholds.notify` and `public`). `notify`: a private heads-up to the maintainers, nothing public. `comment`: also a neutral public reply pointing to the private channel. `ignore`: nothing.",
                },
                "lock": {"type": "boolean", "default": False, "description": "Lock the issue's conversation after redirecting."},
                "private_repo": {
                    "type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]+$", "default": None,
                    "description": "Name of a private repository of the same owner to transfer hidden issues to; without it, a hidden issue's text is replaced and the issue closed and locked.",
                },
            },
        ),
        "beg_bounty": _obj(
            "Replies to likely beg-bounty reports.",
            {
                "bounty_policy": {
                    "type": "string", "maxLength": 2000,
                    "default": "This project does not pay bug bounties.",
                    "description": "One or two sentences on the project's bounty policy, quoted in the reply.",
                },
            },
        ),
        "tracker": _obj(
            "An optional private repository where Secbot keeps one tracking issue per report.",
            {
                "repo": {
                    "type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]+$", "default": None,
                    "description": "Name of a private repository of the same owner; report text is written there only while it is private.",
                },
            },
        ),
        "policy": _obj(
            "Response targets, update cadence and disclosure deadline.",
            {
                "acknowledge_within": _dur("2 working days", "A human should acknowledge a report (`/sec ack`) within this."),
                "triage_within": _dur("5 working days", "A report should be accepted or rejected within this."),
                "update_every": _obj(
                    "How often the reporter hears about progress, by stage.",
                    {
                        "untriaged": _dur("3 working days", "Before the report is accepted."),
                        "critical": _dur("2d", "Accepted with critical severity."),
                        "high": _dur("7d", "Accepted with high severity."),
                        "medium": _dur("14d", "Accepted with medium severity."),
                        "low": _dur("30d", "Accepted with low severity."),
                    },
                ),
                "disclosure_after": _dur("90d", "Disclosure deadline, counted from the report."),
                "working_days": {
                    "type": "array", "items": {"enum": list(WEEKDAYS)}, "minItems": 1, "uniqueItems": True,
                    "default": ["mon", "tue", "wed", "thu", "fri"],
                    "description": "The days that count as working days.",
                },
                "timezone": {"type": "string", "format": "timezone", "default": "UTC", "description": "Time zone for working days (IANA name, e.g. Europe/Berlin)."},
                "publish_within": _dur("14d", "After `/sec fixed`, remind the maintainers to publish the advisory when it is not published within this (then escalate); `/sec embargo until DATE` holds it."),
            },
        ),
        "announcements": _obj(
            "Announcing a published advisory to the project's users.",
            {
                "enabled": {"type": "boolean", "default": False, "description": "Open an announcement issue when an advisory is published."},
                "labels": {"type": "array", "items": {"type": "string"}, "default": ["security", "announcement"], "description": "Labels of the announcement issue."},
            },
        ),
        "templates": _obj(
            "Your own wording for the messages people read (Jinja2, sandboxed; same variables as the built-in templates in Secbot's templates/ folder). Leave a key out to keep the built-in text.",
            {name: {"type": ["string", "null"], "maxLength": 20000, "default": None, "description": desc}
             for name, desc in TEMPLATE_DESCRIPTIONS.items()},
        ),
        "floods": _obj(
            "Many reports from one reporter.",
            {
                "reports_per_day": {
                    "type": "integer", "minimum": 0, "maximum": 10000, "default": 5,
                    "description": "Reports one reporter may send to this installation in 24 hours; from the next one they get one polite note that their reports will be handled in order (0: no limit).",
                },
            },
        ),
        "away": _obj(
            "The maintainers are away (also `/sec away until YYYY-MM-DD`, which takes precedence).",
            {
                "until": {
                    "type": ["string", "null"], "format": "day", "default": None,
                    "description": "Away until this day (YYYY-MM-DD, in `policy.timezone`): new reporters are told when to expect an answer, and response targets and status updates wait until then.",
                },
                "message": {"type": ["string", "null"], "maxLength": 2000, "default": None, "description": "A note for new reporters while away."},
                "pause_private_reporting": {
                    "type": "boolean", "default": False,
                    "description": "Turn private vulnerability reporting off while away and on again afterwards (needs the App's optional Administration: write permission).",
                },
                "contact": {
                    "type": ["string", "null"], "maxLength": 200, "default": None,
                    "description": "Where to write meanwhile, shown in the public redirect while private reporting is paused (else SECURITY.md's contact).",
                },
            },
        ),
        "channel_check": _obj(
            "Checking that the repository's private reporting channel works.",
            {
                "enabled": {"type": "boolean", "default": True, "description": "Open an onboarding issue when private reporting is off or SECURITY.md disagrees with it."},
            },
        ),
        "transparency": _obj(
            "Public figures about how the project responds to security reports.",
            {
                "public_stats": {
                    "type": "boolean", "default": False,
                    "description": "Publish response-time figures (JSON, an SVG badge and a shields.io endpoint) computed from closed reports only, and only from 3 reports on.",
                },
            },
        ),
        "appreciation": _obj(
            "Thanking reporters: lasting credit and rewards.",
            {
                "hall_of_fame": {
                    "type": ["string", "null"], "pattern": r"^(?!.*\.\.)[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*\.md$", "maxLength": 200,
                    "default": None,
                    "description": "A Markdown file in the repository (e.g. SECURITY-ACKNOWLEDGEMENTS.md): on publication, a pull request adds the advisory's credited people to it, by year.",
                },
                "reward_instructions": {
                    "type": "string", "maxLength": 2000,
                    "default": "A maintainer will contact you about how to receive it.",
                    "description": "What a reporter is told about claiming a reward given with `/sec reward`.",
                },
            },
        ),
    },
)


# -- The typed view: what the rest of Secbot reads -----------------------------------------------
#
# One frozen dataclass per object in SCHEMA, one field per key, same names, same order; lists
# become tuples. No defaults here: a RepoConfig is only built from a validated document (`load`,
# `RepoConfig.default()`), whose values come from SCHEMA. `from_dict` refuses a document whose keys
# and the fields disagree, and tests/test_config.py walks SCHEMA against these classes (names and
# types), so a key added to one and not the other fails at once.

DurationText = str | float  # as written in the file: "2 working days", "36h", or seconds


class _Section:
    """What every section has: built from its part of a validated document, and back."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From its part of a document `parse` validated (all keys present)."""
        built: Self = _build(cls, data, "")
        return built

    def as_dict(self) -> dict[str, Any]:
        """The section as `parse` gives it (lists, not tuples)."""
        return _plain(self)


@dataclasses.dataclass(frozen=True)
class SecurityTeamConfig(_Section):
    """`security_team`: assigned to reports, mentioned on escalation, allowed to give `/sec` commands."""

    users: tuple[str, ...]
    teams: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ThresholdsConfig(_Section):
    """`detection.thresholds`: the scores that decide between redirect, heads-up and nothing."""

    public: float
    notify: float


@dataclasses.dataclass(frozen=True)
class LlmConfig(_Section):
    """`detection.llm`: whether this repository wants the operator's second opinion (never where
    it comes from: the endpoint, model and key are settings of the operator)."""

    enabled: bool
    private: bool


@dataclasses.dataclass(frozen=True)
class DetectionConfig(_Section):
    """`detection`: recognising security reports filed in public issues and comments."""

    enabled: bool
    comments: bool
    thresholds: ThresholdsConfig
    beg_bounty_threshold: float
    exempt_labels: tuple[str, ...]
    llm: LlmConfig

    def verdict_thresholds(self) -> Thresholds:
        """The classifier's thresholds under these settings."""
        return Thresholds(public=self.thresholds.public, notify=min(self.thresholds.notify, self.thresholds.public),
                          beg_bounty=self.beg_bounty_threshold)


@dataclasses.dataclass(frozen=True)
class PublicReportsConfig(_Section):
    """`public_reports`: what to do with a security report filed in public."""

    action: Literal["redirect", "hide"]
    uncertain: Literal["notify", "comment", "ignore"]
    lock: bool
    private_repo: str | None


@dataclasses.dataclass(frozen=True)
class BegBountyConfig(_Section):
    """`beg_bounty`: replies to likely beg-bounty reports."""

    bounty_policy: str


@dataclasses.dataclass(frozen=True)
class TrackerConfig(_Section):
    """`tracker`: the optional private repository with one tracking issue per report."""

    repo: str | None


@dataclasses.dataclass(frozen=True)
class UpdateEveryConfig(_Section):
    """`policy.update_every`: how often the reporter hears about progress, by stage."""

    untriaged: DurationText
    critical: DurationText
    high: DurationText
    medium: DurationText
    low: DurationText


@dataclasses.dataclass(frozen=True)
class PolicyConfig(_Section):
    """`policy`: response targets, update cadence and disclosure deadline, as written (see
    bot/rules/policy.py's `Policy` for them as numbers)."""

    acknowledge_within: DurationText
    triage_within: DurationText
    update_every: UpdateEveryConfig
    disclosure_after: DurationText
    working_days: tuple[str, ...]
    timezone: str
    publish_within: DurationText


@dataclasses.dataclass(frozen=True)
class AnnouncementsConfig(_Section):
    """`announcements`: announcing a published advisory to the project's users."""

    enabled: bool
    labels: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TemplatesConfig(_Section):
    """`templates`: a repository's own wording for the messages people read (None: the built-in)."""

    redirect: str | None
    beg_bounty: str | None
    advisory_ack: str | None
    advisory_beg_bounty: str | None
    acknowledged: str | None
    accepted: str | None
    rejected: str | None
    eta: str | None
    fixed: str | None
    status_update: str | None
    published: str | None
    public_published: str | None
    announcement: str | None
    needs_info: str | None
    reclassified: str | None
    flood_note: str | None
    canned_headers: str | None
    canned_spf: str | None
    canned_clickjacking: str | None
    canned_version_disclosure: str | None
    canned_self_xss: str | None
    canned_out_of_scope: str | None

    def override(self, name: str) -> str | None:
        """The repository's own text for template `name`, or None to use the built-in one (also for
        a template that cannot be overridden)."""
        if name not in {f.name for f in dataclasses.fields(self)}:
            return None
        text: str | None = getattr(self, name)
        return text


@dataclasses.dataclass(frozen=True)
class FloodsConfig(_Section):
    """`floods`: many reports from one reporter."""

    reports_per_day: int


@dataclasses.dataclass(frozen=True)
class AwayConfig(_Section):
    """`away`: the maintainers are away (bot/reports/away.py; `/sec away` takes precedence)."""

    until: str | None
    message: str | None
    pause_private_reporting: bool
    contact: str | None


@dataclasses.dataclass(frozen=True)
class ChannelCheckConfig(_Section):
    """`channel_check`: checking that the repository's private reporting channel works."""

    enabled: bool


@dataclasses.dataclass(frozen=True)
class TransparencyConfig(_Section):
    """`transparency`: public figures about how the project responds to security reports."""

    public_stats: bool


@dataclasses.dataclass(frozen=True)
class AppreciationConfig(_Section):
    """`appreciation`: thanking reporters, with lasting credit and rewards."""

    hall_of_fame: str | None
    reward_instructions: str


@dataclasses.dataclass(frozen=True)
class RepoConfig(_Section):
    """A repository's effective `.github/secbot.yml`: every key of SCHEMA, as attributes."""

    enabled: bool
    dry_run: bool
    security_team: SecurityTeamConfig
    labels: tuple[str, ...]
    detection: DetectionConfig
    public_reports: PublicReportsConfig
    beg_bounty: BegBountyConfig
    tracker: TrackerConfig
    policy: PolicyConfig
    announcements: AnnouncementsConfig
    templates: TemplatesConfig
    floods: FloodsConfig
    away: AwayConfig
    channel_check: ChannelCheckConfig
    transparency: TransparencyConfig
    appreciation: AppreciationConfig

    @classmethod
    def default(cls) -> "RepoConfig":
        """Every key at its default: the config of a repository without a file."""
        return _default_config()


@functools.cache
def _default_config() -> RepoConfig:
    return RepoConfig.from_dict(defaults())  # frozen all the way down, so one instance serves all


def _build(cls: type, data: Mapping[str, Any], path: str) -> Any:
    """A section from its part of a validated document: nested sections built in turn, lists made tuples."""
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    if set(data) != set(names):
        missing, extra = sorted(set(names) - set(data)), sorted(set(data) - set(names))
        raise ValueError(f"{cls.__name__} and SCHEMA disagree at {path or '(top)'}: "
                         f"fields without a key {missing}, keys without a field {extra}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name in names:
        value, hint = data[name], hints[name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            value = _build(hint, value, _join(path, name))
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Problem:
    path: str  # dotted key path, "" for the whole file
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(file)'}: {self.message}"


def defaults(schema: Mapping[str, Any] = SCHEMA) -> Any:
    if schema.get("type") == "object" and "properties" in schema:
        return {k: defaults(v) for k, v in schema["properties"].items()}
    return copy.deepcopy(schema.get("default"))


def _clean(schema: Mapping[str, Any], value: Any, path: str, problems: list[Problem]) -> Any:
    if schema.get("type") == "object" and "properties" in schema:
        if value is None:
            return defaults(schema)
        if not isinstance(value, dict):
            problems.append(Problem(path, f"must be a mapping of keys, not {type(value).__name__}"))
            return defaults(schema)
        props = schema["properties"]
        for key in value:
            if key not in props and (variable := OPERATOR_KEYS.get(_join(path, str(key)))):
                problems.append(Problem(_join(path, str(key)), f"is not a repository setting: the operator sets it ({variable})"))
            elif key not in props:
                hint = _closest(str(key), props)
                problems.append(Problem(_join(path, str(key)), "unknown key" + (f" (did you mean {hint!r}?)" if hint else "")))
        return {k: _clean(sub, value[k], _join(path, k), problems) if k in value else defaults(sub) for k, sub in props.items()}
    if isinstance(value, dt.date) and schema.get("format") == "day":
        value = value.isoformat()  # YAML reads an unquoted 2027-01-10 as a date
    errors = sorted(jsonschema.Draft202012Validator(schema, format_checker=FORMATS).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        if err.validator == "format" and schema.get("format") == "duration":
            msg = f"{value!r} is not a duration (write e.g. 45s, 30m, 36h, 2d or 3 working days)"
        elif err.validator == "format" and schema.get("format") == "day":
            msg = f"{value!r} is not a day (write YYYY-MM-DD)"
        elif err.validator == "format" and schema.get("format") == "timezone":
            msg = f"{value!r} is not a time zone name (e.g. UTC, Europe/Berlin)"
        else:
            msg = err.message
        problems.append(Problem(path, f"{msg}; using the default {schema.get('default')!r}"))
        return copy.deepcopy(schema.get("default"))
    if schema.get("items", {}).get("pattern", "").startswith("^@?"):
        value = [v.lstrip("@") for v in value]
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _closest(key: str, options: Mapping[str, Any]) -> str | None:
    import difflib

    found = difflib.get_close_matches(key, list(options), n=1, cutoff=0.75)
    return found[0] if found else None


MAX_CONFIG_BYTES = 64 * 1024  # a real secbot.yml is a few hundred bytes; template overrides make it a few KB
MAX_CONFIG_DEPTH = 16  # the schema nests three levels
# libyaml's loader where PyYAML was built with it (its wheels are): the same documents and errors,
# several times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Refused(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.problem = Problem("", f"{message}; using all defaults", line)


def _compose(text: str) -> Any:
    """The file's YAML node tree, read once (every use below walks it, never the text again).

    A repository's config is read on the event loop, so reading it must cost time linear in its
    size: files over MAX_CONFIG_BYTES are refused, and so are anchors and aliases (a 600-byte file
    of aliases expands to millions of nodes) and nesting deeper than MAX_CONFIG_DEPTH.
    """
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise _Refused(f"the file is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    seen: set[int] = set()
    stack = [(root, 1)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:  # an alias: the same node reached twice
            raise _Refused("YAML anchors and aliases (& and *) are not supported", node.start_mark.line + 1)
        seen.add(id(node))
        if depth > MAX_CONFIG_DEPTH:
            raise _Refused(f"nested more than {MAX_CONFIG_DEPTH} levels deep", node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, depth + 1) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, depth + 1) for n in node.value)
    return root


def _lines(root: Any) -> dict[str, int]:
    """Map dotted key paths to 1-based line numbers, from YAML's node tree."""
    out: dict[str, int] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                p = _join(path, str(k.value))
                out[p] = k.start_mark.line + 1
                walk(v, p)

    walk(root, "")
    return out


def parse(text: str | None) -> tuple[dict[str, Any], list[Problem]]:
    """Validate a config file's text; returns the effective config and the problems found."""
    if text is None or not text.strip():
        return defaults(), []
    try:
        root = _compose(text)
        data = _LOADER("").construct_document(root) if root is not None else None
    except _Refused as refused:
        return defaults(), [refused.problem]
    except ValueError:  # YAML's own timestamps: an unquoted impossible date such as 2027-13-10
        return defaults(), [Problem("", "a value is not a real date (quote it, or write YYYY-MM-DD); using all defaults")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or "invalid YAML"
        return defaults(), [Problem("", f"not valid YAML ({reason}); using all defaults", line)]
    problems: list[Problem] = []
    data = _renamed(data, problems)
    config = _clean(SCHEMA, data, "", problems)
    lines = _lines(root)
    for old, new in RENAMED.items():  # a value read at its new name is found on its old line
        if ".".join(old) in lines:
            lines.setdefault(".".join(new), lines[".".join(old)])
    problems = [dataclasses.replace(p, line=lines.get(p.path)) for p in problems]
    return config, problems


# Keys that were renamed: still read, at their new place, with a problem that says so.
RENAMED = {("detection", "vulnerability_threshold"): ("detection", "thresholds", "public")}


def _renamed(data: Any, problems: list[Problem]) -> Any:
    """`data` with renamed keys moved to their new place (unless that is set too), each reported."""
    for old, new in RENAMED.items():
        section = data.get(old[0]) if isinstance(data, dict) else None
        if not isinstance(section, dict) or old[1] not in section:
            continue
        section = dict(section)
        value = section.pop(old[1])
        target = section.get(new[1])
        target = dict(target) if isinstance(target, dict) else {}
        old_path, new_path = ".".join(old), ".".join(new)
        if new[2] in target:
            problems.append(Problem(old_path, f"renamed to {new_path}, which is set too: this one is ignored"))
        else:
            target[new[2]] = value
            problems.append(Problem(old_path, f"renamed to {new_path}: read as that; please rename it"))
        section[new[1]] = target
        data = {**data, old[0]: section}
    return data


def load(text: str | None) -> tuple[RepoConfig, list[Problem]]:
    """A config file's text as the typed `RepoConfig`, and the problems `parse` found in it."""
    config, problems = parse(text)
    return RepoConfig.from_dict(config), problems


def reference_markdown() -> str:
    """The configuration reference for the README, generated from SCHEMA."""
    rows = ["| key | default | meaning |", "|---|---|---|"]

    def walk(schema: Mapping[str, Any], path: str) -> None:
        if schema.get("type") == "object" and "properties" in schema:
            for k, sub in schema["properties"].items():
                walk(sub, _join(path, k))
            return
        default = yaml.safe_dump(schema.get("default"), default_flow_style=True).strip().removesuffix("...").strip()
        rows.append(f"| `{path}` | `{default}` | {schema['description']} |")

    walk(SCHEMA, "")
    return "\n".join(rows)
