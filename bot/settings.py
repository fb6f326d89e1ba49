"""Process settings, read once from the environment and validated at start.

`Settings.from_env(os.environ)` is called by the CLI, never at import. Problems raise
`SettingsError` whose message names the variable; secret values never appear in a message,
a repr or a log line.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///secbot.db"
DEFAULT_GITHUB_URL = "https://github.com"
DEFAULT_ENV_FILE = "secbot.env"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Secret:
    """A string that will not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def async_database_url(url: str) -> str:
    """Map a plain SQLite or PostgreSQL URL to the async driver SQLAlchemy needs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError("DATABASE_URL must look like sqlite:///PATH or postgresql://USER@HOST/DB")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise SettingsError(f"DATABASE_URL: unsupported database {base!r} (use sqlite or postgresql)")


def redact_url(url: str) -> str:
    """Hide the password of a database URL."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true/false), not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return value


def _port_or_off(env: Mapping[str, str], name: str, default: int) -> int | None:
    if (env.get(name) or "").strip().lower() == "off":
        return None
    return _int(env, name, default, 0, 65535)


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = (env.get(name) or "").strip().rstrip("/")
    if not raw:
        return default
    if not raw.startswith(("http://", "https://")) or "?" in raw or "#" in raw:
        raise SettingsError(f"{name} must be an http(s) URL without query or fragment, not {raw!r}")
    return raw


DEFAULT_LLM_KEY_ENV = "SECBOT_LLM_API_KEY"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _llm(env: Mapping[str, str]) -> tuple[str | None, str, Secret | None]:
    """SECBOT_LLM_URL, SECBOT_LLM_MODEL, and the key from the variable SECBOT_LLM_KEY_ENV names
    (default SECBOT_LLM_API_KEY; none: no Authorization header, as a local server wants)."""
    url = _url(env, "SECBOT_LLM_URL", None)
    if url is not None and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        raise SettingsError("SECBOT_LLM_URL must not carry credentials: put the key in the variable "
                            "SECBOT_LLM_KEY_ENV names (default SECBOT_LLM_API_KEY)")
    model = (env.get("SECBOT_LLM_MODEL") or "").strip()
    if url is not None and not model:
        raise SettingsError("SECBOT_LLM_MODEL must name the model when SECBOT_LLM_URL is set")
    if len(model) > 200:
        raise SettingsError("SECBOT_LLM_MODEL is longer than 200 characters")
    key_env = (env.get("SECBOT_LLM_KEY_ENV") or DEFAULT_LLM_KEY_ENV).strip()
    if not _VARIABLE.match(key_env):
        raise SettingsError("SECBOT_LLM_KEY_ENV must be the name of an environment variable")
    key = env.get(key_env) or None
    return url, model, Secret(key.strip()) if key else None


def read_env_file(path: str | Path) -> dict[str, str]:
    """NAME=VALUE lines (comments, blank lines and `export ` allowed; one pair of quotes stripped).

    Errors name the file and line, never a value: the file holds secrets.
    """
    values: dict[str, str] = {}
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not sep or not name or not (name[0].isalpha() or name[0] == "_") or \
                not all(c.isalnum() or c == "_" for c in name):
            raise SettingsError(f"{path}:{number}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def with_env_file(env: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """`env` plus the variables of SECBOT_ENV_FILE (default secbot.env) if it exists; `env` wins.

    Returns the merged variables and the file read (None when there was none).
    """
    path = env.get("SECBOT_ENV_FILE") or DEFAULT_ENV_FILE
    try:
        from_file = read_env_file(path)
    except FileNotFoundError:
        return dict(env), None
    except OSError as exc:
        raise SettingsError(f"SECBOT_ENV_FILE: cannot read {path} ({exc.strerror})") from None
    return {**from_file, **env}, path


@dataclasses.dataclass(frozen=True)
class Settings:
    webhook_secret: Secret | None = None
    app_id: str | None = None
    private_key: Secret | None = None
    database_url: str = async_database_url(DEFAULT_DATABASE_URL)
    api_url: str = DEFAULT_API_URL
    host: str = "0.0.0.0"
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "json"
    dry_run: bool = False
    # Jobs run at once per process. Most jobs wait on GitHub or on a commit more than they compute,
    # so many run at once (bench/README.md, storm: 4 -> 486, 16 -> 588, 32 -> 852 ordinary
    # deliveries a second); how many of them talk to GitHub at once is capped apart (github_concurrency).
    workers: int = 32
    # With worker processes: one more for a while when this many jobs are due at once (a storm's
    # backlog), retired once it finds nothing to claim (bot/jobs/process.py, `WorkerProcesses`).
    surge_processes: int = 1
    surge_backlog: int = 1000
    # A worker process that holds this many MB more than when it started, once a burst of jobs is
    # over, is replaced by a fresh one (bot/jobs/process.py); 0: never.
    worker_renew_mb: int = 4
    max_attempts: int = 8
    lease_seconds: float = 120.0
    poll_interval: float = 1.0
    retry_seconds: float = 5.0
    keep_done_days: int = 30
    max_body_bytes: int = 25 * 1024 * 1024
    # Every request: its headers within this of connecting (or of the previous answer), its body
    # within this after its headers; otherwise the connection is closed. GitHub gives up after 10 s.
    read_timeout: float = 10.0
    # Bytes of webhook bodies held in memory across all connections until each is answered; a body
    # that would take more is answered 503 at once. At least one of GitHub's largest (25 MB).
    max_buffered_bytes: int = 64 * 1024 * 1024
    metrics_host: str = "127.0.0.1"  # GET /metrics listens here, never on the webhook port
    metrics_port: int | None = 3001  # None: no metrics listener; 0: any free port (logged)
    github_url: str = DEFAULT_GITHUB_URL
    public_url: str | None = None
    env_file: str = DEFAULT_ENV_FILE
    writes_per_minute: int = 72  # content-creating requests per installation (bot/github/budget.py)
    # Requests to GitHub in flight at once per installation and process (GitHub allows 100 in all).
    github_concurrency: int = 8
    writes_per_hour: int = 450
    # The optional second opinion on uncertain public texts (bot/reports/second_opinion.py): an
    # OpenAI-compatible chat-completions endpoint. The operator's alone: a repository's config may
    # only switch it on or off for itself, never say where texts go or what key is sent.
    llm_url: str | None = None  # base URL, e.g. http://localhost:11434/v1; None: no second opinion
    llm_model: str = ""
    llm_key: Secret | None = None  # read from the variable SECBOT_LLM_KEY_ENV names
    llm_timeout: float = 10.0
    llm_per_hour: int = 600  # questions per hour, all installations together
    llm_per_installation_hour: int = 60  # questions per hour and installation

    @property
    def setup_mode(self) -> bool:
        """No GitHub credential at all: `secbot serve` shows the setup page instead of refusing."""
        return self.webhook_secret is None and self.app_id is None and self.private_key is None

    def __repr__(self) -> str:
        fields = []
        for f in dataclasses.fields(self):
            value: Any = getattr(self, f.name)
            if f.name == "database_url":
                value = redact_url(value)
            fields.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(fields)})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        env = os.environ if env is None else env
        secret = env.get("GITHUB_WEBHOOK_SECRET") or None
        key_text = env.get("GITHUB_PRIVATE_KEY") or None
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH") or None
        if key_text and key_path:
            raise SettingsError("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, not both")
        if key_path:
            try:
                key_text = Path(key_path).read_text()
            except OSError as exc:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH: cannot read the file ({exc.strerror})") from None
        if key_text is not None:
            # Environments often carry the PEM with literal "\n" sequences.
            key_text = key_text.replace("\\n", "\n").strip() + "\n"
            if "PRIVATE KEY-----" not in key_text:
                source = "GITHUB_PRIVATE_KEY_PATH" if key_path else "GITHUB_PRIVATE_KEY"
                raise SettingsError(f"{source} does not hold a PEM private key")
        app_id = (env.get("GITHUB_APP_ID") or "").strip() or None
        if app_id is not None and not app_id.isdigit() and not app_id.startswith("Iv"):
            raise SettingsError("GITHUB_APP_ID must be the App's numeric id (or its client id)")
        api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, not {api_url!r}")
        github_url = _url(env, "GITHUB_URL", DEFAULT_GITHUB_URL)
        public_url = _url(env, "SECBOT_PUBLIC_URL", None)
        log_level = (env.get("LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}")
        log_format = (env.get("LOG_FORMAT") or "json").lower()
        if log_format not in ("json", "text"):
            raise SettingsError("LOG_FORMAT must be json or text")
        llm_url, llm_model, llm_key = _llm(env)
        values: dict[str, Any] = dict(
            webhook_secret=Secret(secret) if secret else None,
            app_id=app_id,
            private_key=Secret(key_text) if key_text else None,
            database_url=async_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            api_url=api_url,
            host=env.get("HOST") or "0.0.0.0",
            port=_int(env, "PORT", 3000, 0, 65535),
            log_level=log_level,
            log_format=log_format,
            dry_run=_flag(env, "SECBOT_DRY_RUN", False),
            workers=_int(env, "SECBOT_WORKERS", 32, 1, 256),
            surge_processes=_int(env, "SECBOT_SURGE_PROCESSES", 1, 0, 64),
            surge_backlog=_int(env, "SECBOT_SURGE_BACKLOG", 1000, 1, 10_000_000),
            worker_renew_mb=_int(env, "SECBOT_WORKER_RENEW_MB", 4, 0, 1_000_000),
            max_attempts=_int(env, "SECBOT_MAX_ATTEMPTS", 8, 1, 100),
            lease_seconds=_float(env, "SECBOT_LEASE_SECONDS", 120.0, 1.0, 3600.0),
            poll_interval=_float(env, "SECBOT_POLL_SECONDS", 1.0, 0.01, 60.0),
            retry_seconds=_float(env, "SECBOT_RETRY_SECONDS", 5.0, 0.01, 3600.0),
            keep_done_days=_int(env, "SECBOT_KEEP_DONE_DAYS", 30, 1, 3650),
            github_url=github_url,
            public_url=public_url,
            env_file=env.get("SECBOT_ENV_FILE") or DEFAULT_ENV_FILE,
            writes_per_minute=_int(env, "SECBOT_WRITES_PER_MINUTE", 72, 1, 10_000),
            github_concurrency=_int(env, "SECBOT_GITHUB_CONCURRENCY", 8, 1, 100),
            writes_per_hour=_int(env, "SECBOT_WRITES_PER_HOUR", 450, 1, 1_000_000),
            read_timeout=_float(env, "SECBOT_READ_TIMEOUT", 10.0, 0.5, 300.0),
            max_buffered_bytes=_int(env, "SECBOT_BUFFER_MB", 64, 26, 65536) * 1024 * 1024,
            metrics_host=(env.get("SECBOT_METRICS_HOST") or "127.0.0.1").strip(),
            metrics_port=_port_or_off(env, "SECBOT_METRICS_PORT", 3001),
            llm_url=llm_url,
            llm_model=llm_model,
            llm_key=llm_key,
            llm_timeout=_float(env, "SECBOT_LLM_TIMEOUT", 10.0, 0.5, 60.0),
            llm_per_hour=_int(env, "SECBOT_LLM_PER_HOUR", 600, 0, 1_000_000),
            llm_per_installation_hour=_int(env, "SECBOT_LLM_PER_INSTALLATION_PER_HOUR", 60, 0, 1_000_000),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def check_serve(self) -> None:
        """What `secbot serve` cannot run without."""
        if self.webhook_secret is None:
            raise SettingsError(
                "GITHUB_WEBHOOK_SECRET is not set: Secbot refuses to accept unsigned webhooks. "
                "Set it to the webhook secret of your GitHub App."
            )
        if self.app_id is None:
            raise SettingsError("GITHUB_APP_ID is not set: it is the numeric id of your GitHub App")
        if self.private_key is None:
            raise SettingsError(
                "GITHUB_PRIVATE_KEY (the PEM text) or GITHUB_PRIVATE_KEY_PATH (its file) is not set"
            )
